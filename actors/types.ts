/**
 * What an actor is: a behaviour, a pure function from state and message to the next
 * state and a list of effects, which the runtime interprets.
 *
 * A behaviour never touches I/O, clocks or other actors directly; it describes what it
 * wants done as data ({@linkcode Effect}). That makes a behaviour test a function call.
 *
 * @module
 */

import type { Entity, Severity } from "../events/types.ts";

/** The address of an actor: its type (e.g. `user`) and its key (e.g. the user id). */
export interface Address {
  readonly type: string;
  readonly key: string;
}

/** An alert as a behaviour asks for it; the runtime adds id, detection time and mode. */
export interface AlertDraft {
  rule: string;
  severity: Severity;
  entity: Entity;
  /** Event time (ms) of the event that triggered it. */
  ts: number;
  evidence: Record<string, unknown>;
  event_ids: string[];
  /** What makes this alert unique for its rule and entity (e.g. the trigger event and episode). */
  dedup: string;
  score?: number;
  model?: string;
  /**
   * The incident the alert joins, when it is not its own entity's: the entity the
   * incident is about (e.g. the address whose campaign tried the user) and the episode
   * that names it (e.g. the campaign's rule and alert). Absent: its entity, by time.
   */
  incident?: IncidentHint;
  /**
   * `watermark`: decided only once a watermark passed (the allowed lateness, by design),
   * not by its own event: a transfer judged when no earlier login can still come, a
   * compromise judged on an address's word given at the address's watermark. Its latency is
   * counted apart (`vigil_alert_latency_seconds{decided="watermark"}`). Not part of the alert.
   */
  decided?: "watermark";
}

/** Which incident an alert joins: the entity it is anchored at and the episode of it. */
export interface IncidentHint {
  readonly anchor: Entity;
  readonly episode: string;
}

/** Something a behaviour wants done. */
export type Effect =
  /** Deliver a message to another actor. */
  | { kind: "send"; to: Address; message: unknown }
  /**
   * Deliver `message` to this actor once the partition's event-time watermark passes
   * `at_ms` (deterministic: a replay fires it at the same point). A timer of the same
   * name replaces the previous one.
   *
   * With `watermark`, `message` (an object) comes with `watermark_ms`: the watermark it
   * fired at. Every event older than that had reached the actor before the message, and
   * no event older than that can come any more, so what lies before it is final. Such a
   * timer set at or below the watermark fires at once.
   */
  | { kind: "timer"; name: string; at_ms: number; message: unknown; watermark?: true }
  /**
   * Deliver `message` to this actor after `after_ms` of processing time, on the runtime's
   * injected clock. A timer of the same name replaces the previous one.
   */
  | { kind: "processing_timer"; name: string; after_ms: number; message: unknown }
  /** Drop this actor's event-time timer `name`, if one is pending: it will not fire. */
  | { kind: "cancel_timer"; name: string }
  /** Raise an alert. */
  | { kind: "alert"; alert: AlertDraft }
  /** Write a document to a store collection. */
  | { kind: "persist"; collection: string; doc: Record<string, unknown> }
  /** Move a process-wide gauge (e.g. `active_sessions`) by `delta`. */
  | { kind: "gauge"; name: string; delta: number }
  /**
   * Report a value of this actor (e.g. a page's views in its last window); metrics keep
   * the top few keys only, so the cardinality stays bounded.
   */
  | { kind: "observe"; name: string; value: number }
  /**
   * Score `features` with a model. The turn (its state and its other effects) takes
   * effect once the scores are in; the reply is then delivered to this actor before
   * any other message. A failed inference is a failed turn.
   *
   * `detached`: the turn takes effect at once and the actor goes on with its mailbox; the
   * reply is delivered once the scores are in, behind what arrived meanwhile (for a reply
   * whose handling does not depend on the state the turn left). A failed inference is
   * dead-lettered. A detached reply of `null` is not delivered (the scores need no turn).
   */
  | {
    kind: "infer";
    model: string;
    features: Float32Array;
    reply: (scores: Float32Array) => unknown;
    detached?: boolean;
  };

/** What a behaviour may read besides its state and message. */
export interface ActorContext {
  readonly self: Address;
  /** The event-time watermark of this actor's partition (ms). */
  readonly watermark_ms: number;
}

/** The result of one turn: the next state and what to do. */
export interface Step<S> {
  state: S;
  effects: readonly Effect[];
}

/**
 * An actor type.
 *
 * `receive` must not mutate `state`: it returns a new one. If it throws, the state it
 * was given is still the last good state, and the supervisor decides what happens.
 */
export interface Behaviour<S, M = unknown> {
  /** The actor type, the first half of its address. */
  readonly type: string;
  /** The state of an actor that has never been seen. */
  initial(key: string): S;
  /** One turn. */
  receive(state: S, message: M, ctx: ActorContext): Step<S>;
  /** A JSON view of the state, for the API (defaults to the state itself). */
  view?(state: S): unknown;
  /**
   * The model score a message will ask for, when the message alone says what to score:
   * the runtime asks for it as the message is admitted, so messages waiting in a mailbox
   * are scored together instead of one turn after another. The turn's `infer` effect of
   * that model then takes this score (its own features are not scored again).
   */
  prefetch?(message: M): Prefetch | null;
  /**
   * A message read from the signals topic (another process's actor sent it), as this type
   * takes it, or why it cannot. Anyone who may write to the topic may write such a record,
   * so only what actors send through it passes, rebuilt from its checked fields: a record
   * that merely looks like one never reaches a turn. A type without it takes no signals.
   */
  fromSignal?(message: unknown, limits: SignalLimits): { message: M } | { reason: string };
}

/** The bounds a signal's fields are held to (those of events: `InputLimits`). */
export interface SignalLimits {
  readonly max_key_chars: number;
  readonly min_timestamp_ms: number;
  readonly max_timestamp_ms: number;
}

/** A score asked for ahead of its turn (see `Behaviour.prefetch`). */
export interface Prefetch {
  model: string;
  features: Float32Array;
}

/** The empty effect list, shared so a quiet turn allocates nothing. */
export const NO_EFFECTS: readonly Effect[] = Object.freeze([]);

/**
 * A timer due once the watermark passes an event at `ts`, when no earlier event can still
 * come: its message `{ kind: name }` arrives stamped with the watermark it fired at. A
 * newer one of the same name replaces it.
 */
export function whenPassed(name: string, ts: number): Effect {
  return { kind: "timer", name, at_ms: ts + 1, message: { kind: name }, watermark: true };
}
