/**
 * The actor runtime: it places entity actors on partitions, gives each a bounded
 * mailbox, runs one message at a time per actor (also while a turn awaits a model),
 * interprets the effects behaviours return, supervises failures, fires event-time
 * timers from the partition watermark, and passivates idle or least recently used
 * actors to a snapshot store.
 *
 * Supervision tree: root → one partition supervisor per partition → entity actors.
 *
 * @module
 */

import type { AlertLimits, RuntimeLimits, SupervisionLimits } from "../config/defaults.ts";
import { preview } from "../events/bounds.ts";
import type { Alert, DeadLetter, Entity } from "../events/types.ts";
import { isLate } from "../events/timeliness.ts";
import { PartitionSupervisor } from "../supervisors/partition.ts";
import { RootSupervisor } from "../supervisors/root.ts";
import { exponentialDelay, type Strategy } from "../supervisors/strategy.ts";
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";
import { hash64 } from "../events/hash.ts";
import { incidentOf } from "./incident.ts";
import { partitionOf } from "./murmur2.ts";
import type { Placement } from "./placement.ts";
import {
  type AlertSink,
  type DeadLetterReason,
  type DeadLetterSink,
  type Inference,
  noTelemetry,
  type PersistSink,
  type RuntimeTelemetry,
  type SnapshotStore,
} from "./ports.ts";
import type { Ticket } from "./ticket.ts";
import { type PendingTimer, TimerQueue } from "./timers.ts";
import type {
  ActorContext,
  Address,
  AlertDraft,
  Behaviour,
  Effect,
  SignalLimits,
  Step,
} from "./types.ts";
import { Cell, type Envelope } from "./cell.ts";
import { Residents } from "./residents.ts";
import { EncodedSnapshots } from "./encoded_snapshots.ts";
import { laneId, type WatermarkHolds } from "./holds.ts";

/** How a runtime is put together. Only `behaviours` and the limits are required. */
export interface RuntimeOptions {
  // deno-lint-ignore no-explicit-any
  behaviours: readonly Behaviour<any, any>[];
  runtime: RuntimeLimits;
  supervision: SupervisionLimits;
  alerts: AlertLimits;
  clock?: Clock;
  /**
   * Raise the alerts of a message at the clock's time when it was delivered, and those of
   * a model's reply at the time its asking message was (a replay: actors work through
   * their mailboxes and wait for scores while the virtual clock runs on with the input, so
   * the time a turn runs is not repeatable; the time a message is delivered is). Off: at
   * the time they are raised.
   */
  alerts_at_delivery_time?: boolean;
  /** Random source for backoff jitter (seed it in tests). */
  random?: () => number;
  snapshots?: SnapshotStore;
  alertSink?: AlertSink;
  deadLetters?: DeadLetterSink;
  persist?: PersistSink;
  inference?: Inference;
  /**
   * Where `send` effects go when the receiver may live in another process: given, it
   * takes each (e.g. onto an internal topic keyed by the receiver, read back by whichever
   * process owns its partition); absent, messages are delivered here.
   */
  route?: (to: Address, message: unknown) => void;
  telemetry?: RuntimeTelemetry;
  /** The strategy for actors of a type (default: backoff from `supervision`). */
  strategyOf?: (type: string) => Strategy;
  /** Whether a rule's alerts are `enforce` or `shadow` (default: enforce). */
  modeOf?: (rule: string) => "enforce" | "shadow";
  /** The suppression covering an enforced alert, judged at its event time (null: none). */
  suppressedBy?: (alert: { rule: string; entity: Entity; ts: number }) => string | null;
  /** Told of each failed snapshot load (it is retried with backoff). */
  onSnapshotError?: (id: string, err: unknown, attempt: number) => void;
  /** Told of each escalation of a partition to the root, and what the root did. */
  onEscalation?: (escalation: Escalation) => void;
  /**
   * The input streams that feed each actor type, where they are known in advance (e.g.
   * every source partition of a re-key topic). A lane waits for each of them, as if it
   * lagged, until it first delivers or has been idle for the idle watermark delay, so the
   * first events of a stream that starts late are not found late.
   */
  expected_streams?:
    | Readonly<Record<string, readonly string[]>>
    | ((type: string, partition: number) => readonly string[]);
  /**
   * How long a lane waits at its start for an expected stream that has not delivered
   * (default and at most: the idle watermark delay), by stream name: less for a stream
   * that may well stay empty.
   */
  expected_wait_ms?: (stream: string) => number;
  /**
   * The partition of a key (default: Kafka's murmur2, as the Java client and kafkajs
   * place keys; see `placement.ts`).
   */
  placement?: Placement;
  /**
   * Holds the live ingest places on watermarks (`holds.ts`): a lane's watermark stays at
   * or below the lowest time held on it. Absent (a replay): none.
   */
  holds?: WatermarkHolds;
}

/**
 * Event time of one actor type in one partition. Each type has its own lane because its
 * events come from its own streams (a re-keyed stream lags the direct ones), and one
 * stream running ahead must not make another's events late.
 */
interface Lane {
  /** `partition/type`, the lane's name for its holds. */
  id: string;
  watermark: number;
  /** The watermark the lane would have without its holds (while one keeps it back). */
  held_to: number;
  /** Highest event time delivered, and the processing time when it was. */
  max_event_ms: number;
  last_event_at: number;
  timers: TimerQueue;
  /**
   * Per input stream feeding the lane: its highest event time and when it last delivered.
   * The watermark follows the slowest stream that is not idle, so a stream that lags
   * (a re-keyed topic, a partition being taken over) does not find its events late.
   */
  streams: Map<string, StreamMark>;
}

/** How far one input stream has come: event time, processing time, position. */
interface StreamMark {
  max: number;
  at: number;
  /** Highest position delivered, for streams that number their records (else -1). */
  seq: number;
}

interface PartitionState {
  lanes: Map<string, Lane>;
  supervisor: PartitionSupervisor;
}

/** An event skipped as one its stream already delivered (same position). */
export interface Repeat {
  repeat: true;
}

/** An event refused as older than its partition's watermark. */
export interface Late {
  partition: number;
  watermark: number;
}

/**
 * Everything a partition's actors hold, at one point of its input: their states
 * (resident and passivated), the pending event-time timers and the watermark. States are
 * immutable, so an image is a consistent cut however long it takes to write out.
 * Processing-time timers and failure history are not part of it.
 */
export interface PartitionImage {
  /** Event time per actor type. */
  lanes: LaneImage[];
  /** `type:key` → state. */
  actors: [string, unknown][];
}

/** Event time of one actor type in a partition image. */
export interface LaneImage {
  type: string;
  /** null: no event seen yet. */
  watermark: number | null;
  max_event_ms: number | null;
  timers: PendingTimer[];
  /**
   * The input streams that fed the lane: name, highest event time, and how long before
   * the image it last delivered. A new owner needs them: without them, the first stream
   * to deliver after a takeover would move event time past the streams still catching up.
   * The fourth is the highest position delivered (see `deliverEvent`).
   */
  streams: [string, number, number, number][];
}

/** A partition that failed past its intensity, as the root supervisor was told of it. */
export interface Escalation {
  partition: number;
  /** The actor whose failure tipped it over (`type:key`), and its error. */
  actor: string;
  error: string;
  /**
   * `restart_partition`: its actors were passivated (they come back from their last good
   * state); `hold`: the root is past its own intensity and restarted nothing.
   */
  action: "restart_partition" | "hold";
  /** Why the root held (empty for a restart). */
  reason: string;
}

/** Characters of an error message kept in a dead letter's reason or an escalation. */
const MAX_ERROR_CHARS = 500;

/** Actors looked at, at most, to find one to evict. */
const EVICTION_TRIES = 64;

/** Counts and depths, for metrics and the API. */
export interface RuntimeStats {
  resident: Record<string, number>;
  mailbox_depth: number;
  max_mailbox_depth: number;
  busy: number;
  inflight: number;
  timers: number;
  quarantined: number;
  partition_restarts: number;
}

/** The actor runtime of one process. */
export class ActorRuntime {
  readonly partitions: number;
  // deno-lint-ignore no-explicit-any
  #behaviours = new Map<string, Behaviour<any, any>>();
  /** Resident actors, by type, in residency-ring order. */
  #cells = new Residents();
  /** Cells that are, or were lately, busy or holding messages. */
  #watched = new Set<Cell>();
  #parts: PartitionState[];
  #root: RootSupervisor;
  #o: RuntimeOptions;
  #clock: Clock;
  #random: () => number;
  #snapshots: SnapshotStore;
  #telemetry: RuntimeTelemetry;
  #inflight = 0;
  #clockTimers = new Map<string, TimerHandle>();
  #idleWaiters: (() => void)[] = [];
  #ctx: { self: Address; watermark_ms: number } = { self: { type: "", key: "" }, watermark_ms: 0 };
  #defaultStrategy: Strategy;
  #placement: Placement;
  #holds: WatermarkHolds | null;

  constructor(options: RuntimeOptions) {
    this.#o = options;
    this.#holds = options.holds ?? null;
    this.partitions = options.runtime.partitions;
    this.#placement = options.placement ?? partitionOf;
    for (const b of options.behaviours) this.#behaviours.set(b.type, b);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#snapshots = options.snapshots ?? new EncodedSnapshots(options.runtime);
    this.#telemetry = options.telemetry ?? noTelemetry;
    const s = options.supervision;
    this.#defaultStrategy = {
      kind: "backoff",
      max_retries: s.max_message_retries,
      max_restarts: s.max_restarts_per_key,
      within_ms: s.restart_window_ms,
      min_ms: s.backoff_min_ms,
      max_ms: s.backoff_max_ms,
      jitter: s.backoff_jitter,
    };
    this.#root = new RootSupervisor({
      max_partition_restarts: s.max_partition_restarts,
      window_ms: s.root_window_ms,
    });
    this.#parts = Array.from({ length: this.partitions }, (_, p) => ({
      lanes: new Map(),
      supervisor: new PartitionSupervisor(p, {
        max_failures: s.max_failures_per_partition,
        window_ms: s.partition_window_ms,
        quarantine_ms: s.quarantine_ms,
      }),
    }));
  }

  /** The partition an actor key lives on (the producers' partitioner: `placement`). */
  partitionFor(key: string): number {
    return this.#placement(key, this.partitions);
  }

  /**
   * The event-time watermark of an actor type in a partition (without a type: the
   * furthest of the partition's lanes).
   */
  watermark(partition: number, type?: string): number {
    const lanes = this.#parts[partition]!.lanes;
    if (type !== undefined) return lanes.get(type)?.watermark ?? -Infinity;
    let wm = -Infinity;
    for (const lane of lanes.values()) if (lane.watermark > wm) wm = lane.watermark;
    return wm;
  }

  #lane(partition: number, type: string): Lane {
    const lanes = this.#parts[partition]!.lanes;
    let lane = lanes.get(type);
    if (!lane) {
      lane = {
        id: laneId(partition, type),
        watermark: -Infinity,
        held_to: -Infinity,
        max_event_ms: -Infinity,
        last_event_at: 0,
        timers: new TimerQueue(),
        streams: new Map(),
      };
      const now = this.#clock.now();
      const expected = this.#o.expected_streams;
      const names = typeof expected === "function" ? expected(type, partition) : expected?.[type];
      const idle = this.#o.runtime.idle_watermark_delay_ms;
      const wait = this.#o.expected_wait_ms;
      for (const name of names ?? []) {
        // Seen `idle - wait` ago: idle, and so no longer waited for, `wait` from now.
        const at = wait === undefined ? now : now - idle + Math.min(idle, wait(name));
        lane.streams.set(name, { max: -Infinity, at, seq: -1 });
      }
      lanes.set(type, lane);
    }
    return lane;
  }

  /**
   * Delivers `message` to the actor at `to`, activating it if needed. Returns `null`
   * when the message was accepted, or a promise that resolves once a full mailbox
   * has taken it: the caller must wait for it before delivering more (backpressure).
   */
  deliver(to: Address, message: unknown, ticket: Ticket | null = null): Promise<void> | null {
    const cell = this.#cellFor(to.type, to.key, message);
    return cell ? this.#admit(cell, message, ticket) : null;
  }

  /**
   * Delivers an event's message at event time `event_ms`, read from input `stream`:
   * refuses it (returning the watermark) if it is older than the watermark of its actor
   * type in its partition, otherwise delivers it and moves that watermark on. Resident
   * actors' partitions are known, so no hashing.
   *
   * A stream whose records carry increasing positions (`seq`: a log record's offset, a
   * re-keyed record's source offset) may repeat some (a producer retried, a consumer
   * rejoined at an older offset, a worker died before committing): a record at or below
   * the highest position delivered is skipped as a repeat. So one record is delivered to
   * one actor per type and partition at most.
   */
  deliverEvent(
    type: string,
    key: string,
    message: unknown,
    event_ms: number,
    ticket: Ticket | null,
    stream = "",
    seq = -1,
  ): Promise<void> | null | Late | Repeat {
    let cell = this.#cells.get(type, key);
    const partition = cell ? cell.partition : this.partitionFor(key);
    const lane = this.#lane(partition, type);
    const mark = lane.streams.get(stream);
    if (seq >= 0 && mark && seq <= mark.seq) return { repeat: true };
    if (isLate(event_ms, lane.watermark)) return { partition, watermark: lane.watermark };
    cell ??= this.#cellFor(type, key, message) ?? undefined;
    const waiting = cell ? this.#admit(cell, message, ticket) : null;
    if (event_ms > lane.max_event_ms) lane.max_event_ms = event_ms;
    const now = this.#clock.now();
    lane.last_event_at = now;
    this.#advanceLane(lane, this.#slowest(lane, mark, stream, event_ms, now, seq));
    return waiting;
  }

  /**
   * Notes that input `stream` of an actor type's lane in `partition` has come to event
   * time `event_ms` and position `seq`, without a message for any actor: a record read
   * here but handled elsewhere (moved to its key's partition), or a source partition's
   * word of how far it has come. Moves the lane's watermark as a delivery would. Returns
   * a `Repeat` when the stream delivered that position already.
   */
  noteStream(
    partition: number,
    type: string,
    stream: string,
    event_ms: number,
    seq = -1,
  ): Repeat | null {
    const lane = this.#lane(partition, type);
    const mark = lane.streams.get(stream);
    if (seq >= 0 && mark && seq <= mark.seq) return { repeat: true };
    if (event_ms > lane.max_event_ms) lane.max_event_ms = event_ms;
    const now = this.#clock.now();
    lane.last_event_at = now;
    this.#advanceLane(lane, this.#slowest(lane, mark, stream, event_ms, now, seq));
    return null;
  }

  /** Notes an event of `stream`; the highest event time of the slowest active stream. */
  #slowest(
    lane: Lane,
    mine: StreamMark | undefined,
    stream: string,
    event_ms: number,
    now: number,
    seq: number,
  ): number {
    const streams = lane.streams;
    if (!mine) streams.set(stream, { max: event_ms, at: now, seq });
    else {
      if (event_ms > mine.max) mine.max = event_ms;
      if (seq > mine.seq) mine.seq = seq;
      mine.at = now;
      if (streams.size === 1) return mine.max;
    }
    if (streams.size === 1) return event_ms;
    const cutoff = now - this.#o.runtime.idle_watermark_delay_ms;
    let min = Infinity;
    for (const s of streams.values()) if (s.at >= cutoff && s.max < min) min = s.max;
    return min;
  }

  /** The resident or activated cell for an address; null (and dead-lettered) when quarantined. */
  #cellFor(type: string, key: string, message: unknown): Cell | null {
    const cell = this.#cells.get(type, key);
    if (cell) return cell;
    const partition = this.partitionFor(key);
    const id = type + ":" + key;
    if (this.#parts[partition]!.supervisor.isQuarantined(id, this.#clock.now())) {
      this.#reject(
        id,
        message,
        "quarantined",
        `Actor ${id} is quarantined after repeated failures`,
      );
      return null;
    }
    return this.#activate({ type, key }, id, partition);
  }

  #admit(cell: Cell, message: unknown, ticket: Ticket | null): Promise<void> | null {
    ticket?.add();
    this.#inflight++;
    const env: Envelope = {
      message,
      ticket,
      attempt: 0,
      at: this.#deliveredAt(),
      scores: this.#prefetch(cell, message),
    };
    if (!cell.busy && cell.queued === 0) {
      this.#turn(cell, env);
      return null;
    }
    if (cell.queued < this.#o.runtime.mailbox_capacity) {
      cell.enqueue(env);
      return null;
    }
    return cell.wait(env);
  }

  /** Asks for the score a message will need, if its behaviour can tell (`prefetch`). */
  #prefetch(cell: Cell, message: unknown): Envelope["scores"] {
    const prefetch = cell.behaviour.prefetch;
    const model = this.#o.inference;
    if (prefetch === undefined || model === undefined) return null;
    const want = prefetch(message);
    if (want === null) return null;
    const scores = model.infer(want.model, want.features);
    scores.catch(() => {}); // a failure is the turn's, when it takes the score
    return { model: want.model, scores };
  }

  /**
   * Moves the event-time watermarks of a partition (of one actor type, or all of them)
   * to `event_ms − allowed lateness` (never backwards) and fires the timers that fall due.
   */
  advanceWatermark(partition: number, event_ms: number, type?: string): void {
    if (type !== undefined) {
      this.#advanceLane(this.#lane(partition, type), event_ms);
      return;
    }
    for (const lane of this.#parts[partition]!.lanes.values()) this.#advanceLane(lane, event_ms);
  }

  /**
   * The input has ended (a replay's file): event time runs out in every partition, so
   * every event-time timer fires (windows close, what waits to be judged is judged).
   */
  endOfInput(): void {
    for (let p = 0; p < this.#parts.length; p++) this.advanceWatermark(p, Infinity);
  }

  /** Moves a lane's watermark on to `event_ms − allowed lateness`; the timers it fired. */
  #advanceLane(lane: Lane, event_ms: number): number {
    return this.#raiseLane(lane, event_ms - this.#o.runtime.allowed_lateness_ms);
  }

  /** Moves a lane's watermark on to `to`, or to the lowest time held on it; the timers fired. */
  #raiseLane(lane: Lane, to: number): number {
    let wm = to;
    const holds = this.#holds;
    if (holds !== null && holds.size > 0) {
      const floor = holds.floor(lane.id);
      if (wm > floor) {
        if (wm > lane.held_to) lane.held_to = wm;
        wm = floor;
      }
    }
    if (wm <= lane.watermark) return 0;
    lane.watermark = wm;
    if (lane.timers.size === 0) return 0;
    const due = lane.timers.popDue(wm);
    for (const t of due) {
      if (t.stamp) this.#fire(t.type, t.key, stamped(t.message, wm), true);
      else this.#fire(t.type, t.key, t.message);
    }
    return due.length;
  }

  /**
   * Holds the watermark of `type`'s lane in `partition` at or below `event_ms` until
   * event `id` is released (`releaseHold`) or the hold runs out; false when there is no
   * room (or no hold table).
   */
  hold(partition: number, type: string, id: string, event_ms: number): boolean {
    return this.#holds?.place(partition, type, id, event_ms, this.#clock.now()) ?? false;
  }

  /** Releases a hold of event `id` on a lane of `type`; the timers that then fired. */
  releaseHold(type: string, id: string): number {
    const held = this.#holds?.release(type, id);
    return held ? this.#unheld(held.partition, held.type) : 0;
  }

  /** Releases the holds that have run out; the timers that then fired. */
  expireHolds(): number {
    let fired = 0;
    for (const held of this.#holds?.expire(this.#clock.now()) ?? []) {
      fired += this.#unheld(held.partition, held.type);
    }
    return fired;
  }

  /** Whether any hold is in place (the intake releases only then). */
  get holding(): boolean {
    return this.#holds !== null && this.#holds.size > 0;
  }

  /** A lane a hold was taken off moves on to where it would be without it. */
  #unheld(partition: number, type: string): number {
    const lane = this.#parts[partition]?.lanes.get(type);
    if (!lane || lane.held_to <= lane.watermark) return 0;
    return this.#raiseLane(lane, lane.held_to);
  }

  /**
   * Lets event time go on in partitions that have had no event for `idle_ms` of
   * processing time: their watermark moves as if event time had kept pace with the clock
   * since then, so timers (idle sessions) fire when traffic stops. Busy partitions, and
   * partitions catching up on old events, are left alone. Returns the timers fired.
   */
  advanceIdle(idle_ms: number): number {
    const now = this.#clock.now();
    let fired = 0;
    for (const part of this.#parts) {
      for (const lane of part.lanes.values()) {
        const quiet = now - lane.last_event_at - idle_ms;
        if (lane.max_event_ms === -Infinity || quiet <= 0) continue;
        fired += this.#advanceLane(
          lane,
          lane.max_event_ms + quiet + this.#o.runtime.allowed_lateness_ms,
        );
      }
    }
    return fired;
  }

  /** Resolves when no message is queued or being handled. */
  whenIdle(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Passivates actors idle for longer than the idle timeout. Looks at no more than
   * `sweep_max_actors` actors of each type, going on round its residency ring from where
   * the last sweep stopped, so a sweep's cost is bounded however many are resident and
   * every actor is looked at within size / `sweep_max_actors` sweeps.
   */
  sweep(): number {
    const cutoff = this.#clock.now() - this.#o.runtime.idle_timeout_ms;
    let n = 0;
    for (const cell of this.#cells.sweepOrder(this.#o.runtime.sweep_max_actors)) {
      if (cell.lastActive <= cutoff && this.#passivate(cell)) n++;
    }
    return n;
  }

  /**
   * Forgets everything of the partitions not in `keep`: their actors (resident and
   * snapshotted), timers, watermark and failure history. Used when a rebalance moves
   * partitions to another process, which rebuilds that state itself.
   */
  retainPartitions(keep: readonly number[]): number[] {
    const kept = new Set(keep);
    const dropped: number[] = [];
    for (let p = 0; p < this.partitions; p++) {
      if (kept.has(p)) continue;
      if (this.#parts[p]!.lanes.size === 0 && !this.#hasResident(p)) continue;
      dropped.push(p);
      this.clearPartition(p);
    }
    return dropped;
  }

  /** Forgets everything of one partition (see `retainPartitions`). */
  clearPartition(p: number): void {
    const part = this.#parts[p]!;
    for (const cell of [...this.#cells.all()]) {
      if (cell.partition !== p) continue;
      for (const env of cell.takeAll()) this.#done(env);
      this.#cells.remove(cell);
    }
    this.#snapshots.deleteWhere?.((id) => this.#partitionOfId(id) === p);
    for (const [id, handle] of this.#clockTimers) {
      const key = id.slice(id.indexOf(":") + 1, id.lastIndexOf("#"));
      if (this.partitionFor(key) !== p) continue;
      this.#clock.clearTimeout(handle);
      this.#clockTimers.delete(id);
    }
    part.lanes = new Map();
    this.#holds?.clearPartition(p);
    part.supervisor.reset();
  }

  /**
   * The image of a partition, or null while one of its actors is busy or has messages
   * waiting (the image must fall between two messages of every actor).
   */
  exportPartition(p: number): PartitionImage | null {
    const entriesWhere = this.#snapshots.entriesWhere?.bind(this.#snapshots);
    if (!entriesWhere) {
      throw new Error("Cannot checkpoint: the snapshot store cannot list its entries");
    }
    const actors: [string, unknown][] = [];
    for (const cell of this.#cells.all()) {
      if (cell.partition !== p) continue;
      if (cell.busy || cell.queued > 0 || cell.waiting > 0) return null;
      actors.push([cell.id, cell.state]);
    }
    for (const entry of entriesWhere((id) => this.#partitionOfId(id) === p)) {
      if (!this.#cells.get(...splitId(entry[0]))) actors.push(entry);
    }
    const lanes: LaneImage[] = [];
    const now = this.#clock.now();
    for (const [type, lane] of this.#parts[p]!.lanes) {
      lanes.push({
        type,
        watermark: Number.isFinite(lane.watermark) ? lane.watermark : null,
        max_event_ms: Number.isFinite(lane.max_event_ms) ? lane.max_event_ms : null,
        timers: lane.timers.pending(),
        streams: [...lane.streams].map(([name, s]) => [name, s.max, now - s.at, s.seq]),
      });
    }
    return { lanes, actors };
  }

  /**
   * Puts a partition's image in place: states go to the snapshot store (actors activate
   * lazily on their next message), timers and watermark to the partition. The partition
   * must hold nothing yet (a partition just assigned, after `retainPartitions`).
   */
  importPartition(p: number, image: PartitionImage): void {
    const part = this.#parts[p]!;
    if (part.lanes.size > 0 || this.#hasResident(p)) {
      throw new Error(`Cannot restore partition ${p}: it already holds actors or timers`);
    }
    for (const [id, state] of image.actors) {
      if (this.#partitionOfId(id) !== p) {
        throw new Error(`Cannot restore partition ${p}: actor ${id} belongs to another one`);
      }
      this.#snapshots.save(id, state);
    }
    for (const l of image.lanes) {
      const lane = this.#lane(p, l.type);
      for (const t of l.timers) {
        lane.timers.set(t.type, t.key, t.name, t.at, t.message, t.stamp === true);
      }
      lane.watermark = l.watermark ?? -Infinity;
      lane.max_event_ms = l.max_event_ms ?? -Infinity;
      const now = this.#clock.now();
      lane.last_event_at = now;
      for (const [name, max, idle_ms, seq] of l.streams) {
        // A stream that has not delivered yet has no highest time (JSON wrote null).
        lane.streams.set(name, { max: max ?? -Infinity, at: now - idle_ms, seq });
      }
    }
  }

  #partitionOfId(id: string): number {
    return this.partitionFor(id.slice(id.indexOf(":") + 1));
  }

  #hasResident(p: number): boolean {
    for (const cell of this.#cells.all()) if (cell.partition === p) return true;
    return false;
  }

  /** Passivates every idle actor (at shutdown, or to hand partitions over). */
  passivateAll(partition?: number): number {
    let n = 0;
    for (const cell of [...this.#cells.all()]) {
      if (partition !== undefined && cell.partition !== partition) continue;
      if (this.#passivate(cell)) n++;
    }
    return n;
  }

  /** The state of one actor, resident or passivated, as its behaviour shows it. */
  async stateOf(type: string, key: string): Promise<unknown> {
    const b = this.#behaviours.get(type);
    if (!b) return undefined;
    const cell = this.#cells.get(type, key);
    const state = cell ? cell.state : await this.#snapshots.load(type + ":" + key);
    if (state === undefined) return undefined;
    return b.view ? b.view(state) : state;
  }

  /** Whether an actor is resident now. */
  isResident(type: string, key: string): boolean {
    return this.#cells.get(type, key) !== undefined;
  }

  /**
   * A message from the signals topic for an actor of `type`, as that type takes it, or why
   * it cannot (see `Behaviour.fromSignal`).
   */
  fromSignal(
    type: string,
    message: unknown,
    limits: SignalLimits,
  ): { message: unknown } | { reason: string } {
    const b = this.#behaviours.get(type);
    if (!b) return { reason: `Cannot use a signal: there is no actor type ${preview(type)}` };
    if (!b.fromSignal) return { reason: `Cannot use a signal: ${type} actors take none` };
    return b.fromSignal(message, limits);
  }

  /** Actor types this runtime knows. */
  get types(): string[] {
    return [...this.#behaviours.keys()];
  }

  /** Counts for metrics and the API. */
  stats(): RuntimeStats {
    // Only cells that have been busy or held messages are looked at, not every actor.
    let depth = 0, max = 0, busy = 0;
    for (const c of this.#watched) {
      const q = c.queued;
      if (q === 0 && !c.busy && c.waiting === 0) {
        this.#watched.delete(c);
        continue;
      }
      depth += q;
      if (q > max) max = q;
      if (c.busy) busy++;
    }
    const now = this.#clock.now();
    let timers = 0, quarantined = 0;
    for (const p of this.#parts) {
      for (const lane of p.lanes.values()) timers += lane.timers.size;
      quarantined += p.supervisor.quarantined(now).length;
    }
    timers += this.#clockTimers.size;
    return {
      resident: Object.fromEntries(
        [...this.#behaviours.keys()].map((t) => [t, this.#cells.count(t)]),
      ),
      mailbox_depth: depth,
      max_mailbox_depth: max,
      busy,
      inflight: this.#inflight,
      timers,
      quarantined,
      partition_restarts: this.#root.restarts,
    };
  }

  // ---- internals -------------------------------------------------------------------

  #activate(to: Address, id: string, partition: number): Cell {
    const b = this.#behaviours.get(to.type);
    if (!b) throw new Error(`Cannot deliver to "${id}": no actor type "${to.type}" is registered`);
    const cell = new Cell(to.type, to.key, partition, b, this.#clock.now(), this.#watched);
    this.#cells.add(cell);
    this.#telemetry.activated(to.type);
    this.#restore(cell, 0);
    if (this.#cells.size > this.#o.runtime.max_resident_actors) this.#evictOne(cell);
    return cell;
  }

  /**
   * Puts a cell's saved state (or its initial state) in place. A snapshot that cannot
   * be loaded is retried with backoff while messages wait in the mailbox: starting
   * fresh instead would silently lose the actor's history.
   */
  #restore(cell: Cell, attempt: number): void {
    let saved: unknown;
    try {
      const store = this.#snapshots;
      saved = store.take ? store.take(cell.id) : store.load(cell.id);
    } catch (err) {
      saved = Promise.reject(err);
    }
    if (!(saved instanceof Promise)) {
      cell.state = saved ?? cell.behaviour.initial(cell.key);
      if (attempt > 0) {
        cell.busy = false;
        this.#drain(cell);
      }
      return;
    }
    cell.busy = true;
    saved.then((s) => {
      cell.state = s ?? cell.behaviour.initial(cell.key);
      cell.busy = false;
      this.#drain(cell);
    }, (err) => {
      this.#telemetry.restarted(cell.type);
      const s = this.#o.supervision;
      const delay = exponentialDelay(s.backoff_min_ms, s.backoff_max_ms, attempt + 1);
      this.#o.onSnapshotError?.(cell.id, err, attempt + 1);
      this.#clock.setTimeout(() => this.#restore(cell, attempt + 1), delay);
    });
  }

  /**
   * Passivates one actor, approximately the least recently used (the CLOCK algorithm:
   * an actor active since it last came round gets a second chance at the back of the
   * ring). Reordering only here and in the sweep keeps delivery free of Map churn.
   */
  #evictOne(keep: Cell): void {
    const now = this.#clock.now();
    let tries = 0;
    let fallback: Cell | null = null;
    for (const cell of this.#cells.evictionOrder()) {
      if (++tries > EVICTION_TRIES) break;
      if (cell === keep || cell.busy || cell.queued > 0) continue;
      if (cell.lastActive > cell.movedAt) {
        fallback ??= cell;
        this.#moveToBack(cell, now);
        continue;
      }
      this.#passivate(cell);
      return;
    }
    if (fallback) this.#passivate(fallback);
  }

  #moveToBack(cell: Cell, now: number): void {
    this.#cells.moveToBack(cell);
    cell.movedAt = now;
  }

  #passivate(cell: Cell): boolean {
    if (cell.busy || cell.queued > 0) return false;
    this.#snapshots.save(cell.id, cell.state);
    this.#cells.remove(cell);
    this.#telemetry.passivated(cell.type);
    return true;
  }

  /** A processing-time timer on the injected clock, replacing one of the same name. */
  #processingTimer(cell: Cell, name: string, after_ms: number, message: unknown): void {
    const id = `${cell.id}#${name}`;
    const previous = this.#clockTimers.get(id);
    if (previous !== undefined) this.#clock.clearTimeout(previous);
    const { type, key } = cell;
    this.#clockTimers.set(
      id,
      this.#clock.setTimeout(() => {
        this.#clockTimers.delete(id);
        this.#fire(type, key, message);
      }, Math.max(0, after_ms)),
    );
  }

  /** Cancels every processing-time timer (at shutdown). */
  cancelTimers(): void {
    for (const handle of this.#clockTimers.values()) this.#clock.clearTimeout(handle);
    this.#clockTimers.clear();
  }

  /** Delivers a timer's message (`ordered`: behind every sender waiting for room, too). */
  #fire(type: string, key: string, message: unknown, ordered = false): void {
    this.#inflight++;
    const at = this.#deliveredAt();
    this.#post(type, key, { message, ticket: null, attempt: 0, at, scores: null }, ordered);
  }

  /**
   * Delivers an envelope already counted in flight, activating its actor if need be (a
   * quarantined actor's timers and replies are dead-lettered: they would wake it).
   */
  #post(type: string, key: string, env: Envelope, ordered: boolean): void {
    let cell = this.#cells.get(type, key);
    if (!cell) {
      const id = type + ":" + key, partition = this.partitionFor(key);
      if (this.#parts[partition]!.supervisor.isQuarantined(id, this.#clock.now())) {
        const reason = `Actor ${id} is quarantined after repeated failures`;
        this.#reject(id, env.message, "quarantined", reason);
        this.#done(env);
        return;
      }
      cell = this.#activate({ type, key }, id, partition);
    }
    if (!cell.busy && cell.queued === 0) this.#turn(cell, env);
    else if (ordered && cell.waiting > 0) void cell.wait(env);
    else cell.enqueue(env); // timers may exceed the mailbox bound by at most one per timer name
  }

  #turn(cell: Cell, env: Envelope): void {
    cell.lastActive = this.#clock.now();
    const ctx = this.#ctx;
    ctx.self = cell;
    ctx.watermark_ms = this.#lane(cell.partition, cell.type).watermark;
    let step: Step<unknown>;
    try {
      step = cell.behaviour.receive(cell.state, env.message, ctx as ActorContext);
    } catch (err) {
      this.#fail(cell, env, err);
      return;
    }
    const effects = step.effects;
    for (let i = 0; i < effects.length; i++) {
      const effect = effects[i]!;
      if (effect.kind === "infer" && effect.detached !== true) {
        this.#awaitInference(cell, env, step);
        return;
      }
    }
    this.#commit(cell, env, step, null);
  }

  #awaitInference(cell: Cell, env: Envelope, step: Step<unknown>): void {
    cell.busy = true;
    const infers: Extract<Effect, { kind: "infer" }>[] = [];
    for (const e of step.effects) if (e.kind === "infer" && e.detached !== true) infers.push(e);
    const model = this.#o.inference;
    // A score asked for at admission serves its model's effect (once: a retry asks anew).
    const pre = env.scores;
    env.scores = null;
    const scoreOf = (e: Extract<Effect, { kind: "infer" }>): Promise<Float32Array> => {
      if (pre?.model !== e.model) return model!.infer(e.model, e.features);
      const p = pre.scores;
      pre.model = "";
      return p;
    };
    // One effect (a flow's score) needs no Promise.all.
    const scored: Promise<Float32Array | Float32Array[]> = !model
      ? Promise.reject(new Error("Cannot score: no model service is configured"))
      : infers.length === 1
      ? scoreOf(infers[0]!)
      : Promise.all(infers.map(scoreOf));
    scored.then((results) => {
      cell.busy = false;
      try {
        const replies = Array.isArray(results)
          ? infers.map((e, i) => e.reply(results[i]!))
          : [infers[0]!.reply(results)];
        this.#commit(cell, env, step, replies);
      } catch (err) {
        this.#fail(cell, env, err);
      }
      this.#drain(cell);
    }, (err) => {
      cell.busy = false;
      this.#fail(cell, env, err);
      this.#drain(cell);
    });
  }

  /** The time a message delivered now raises its alerts at (-1: when they are raised). */
  #deliveredAt(): number {
    return this.#o.alerts_at_delivery_time ? this.#clock.now() : -1;
  }

  /** Puts a turn's state and effects in place; its alerts are raised at `env.at`. */
  #commit(cell: Cell, env: Envelope, step: Step<unknown>, replies: unknown[] | null): void {
    const at = env.at;
    cell.state = step.state;
    env.attempt = 0;
    let blocked: Promise<void>[] | null = null;
    for (const effect of step.effects) {
      const waiting = this.#effect(cell, effect, env.ticket, at);
      if (waiting) (blocked ??= []).push(waiting);
    }
    if (replies) {
      for (let i = replies.length - 1; i >= 0; i--) {
        env.ticket?.add();
        this.#inflight++;
        cell.pushFront({ message: replies[i], ticket: env.ticket, attempt: 0, at, scores: null });
      }
    }
    if (!blocked) {
      this.#done(env);
      return;
    }
    cell.busy = true;
    Promise.all(blocked).then(() => {
      cell.busy = false;
      this.#done(env);
      this.#drain(cell);
    });
  }

  #effect(cell: Cell, effect: Effect, ticket: Ticket | null, at: number): Promise<void> | null {
    switch (effect.kind) {
      case "alert":
        if (ticket?.replay !== true) this.#raise(effect.alert, at);
        return null;
      case "processing_timer":
        this.#processingTimer(cell, effect.name, effect.after_ms, effect.message);
        return null;
      case "timer":
        if (effect.watermark !== true) {
          this.#lane(cell.partition, cell.type).timers.set(
            cell.type,
            cell.key,
            effect.name,
            effect.at_ms,
            effect.message,
          );
        } else {
          const lane = this.#lane(cell.partition, cell.type);
          if (effect.at_ms > lane.watermark) {
            lane.timers.set(cell.type, cell.key, effect.name, effect.at_ms, effect.message, true);
          } else {
            // Due already: now, behind what the mailbox holds (all of it admitted at or
            // after the watermark it is stamped with, or before it is handled).
            lane.timers.cancel(cell.type, cell.key, effect.name);
            this.#fire(cell.type, cell.key, stamped(effect.message, lane.watermark), true);
          }
        }
        return null;
      case "cancel_timer":
        this.#lane(cell.partition, cell.type).timers.cancel(cell.type, cell.key, effect.name);
        return null;
      case "send":
        if (this.#o.route) {
          // Replayed turns (state rebuilt after a takeover) sent theirs the first time.
          if (ticket?.replay !== true) this.#o.route(effect.to, effect.message);
          return null;
        }
        return this.deliver(effect.to, effect.message, ticket);
      case "persist":
        this.#o.persist?.persist(effect.collection, effect.doc);
        return null;
      case "observe":
        if (ticket?.replay !== true) {
          this.#telemetry.observed?.(effect.name, cell.key, effect.value);
        }
        return null;
      case "gauge":
        this.#telemetry.gauge(effect.name, effect.delta);
        return null;
      case "infer":
        if (effect.detached === true) this.#scoreDetached(cell, effect, ticket, at);
        return null;
    }
  }

  /**
   * Scores a detached `infer` effect: its reply is delivered once the scores are in, in
   * the asking message's batch (`ticket`) and raising its alerts at the asking message's
   * time, behind what the actor received meanwhile.
   */
  #scoreDetached(
    cell: Cell,
    effect: Extract<Effect, { kind: "infer" }>,
    ticket: Ticket | null,
    at: number,
  ): void {
    ticket?.add();
    this.#inflight++;
    const { type, key, id } = cell;
    const model = this.#o.inference;
    const scored = model
      ? model.infer(effect.model, effect.features)
      : Promise.reject(new Error("Cannot score: no model service is configured"));
    const failed = (err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      this.#reject(id, { model: effect.model }, "failed", `Cannot score for ${id}: ${why}`);
      this.#done({ message: null, ticket, attempt: 0, at, scores: null });
    };
    scored.then((scores) => {
      let message: unknown;
      try {
        message = effect.reply(scores);
      } catch (err) {
        failed(err);
        return;
      }
      const env: Envelope = { message, ticket, attempt: 0, at, scores: null };
      if (message === null) this.#done(env); // nothing for the actor to hear
      else this.#post(type, key, env, false);
    }, failed);
  }

  /** Raises an alert at `at` (-1: the clock's now). */
  #raise(d: AlertDraft, at: number): void {
    const now = at >= 0 ? at : this.#clock.now();
    const alert: Alert = {
      alert_id: hash64(`${d.rule}|${d.entity.type}|${d.entity.key}|${d.dedup}`),
      rule: d.rule,
      severity: d.severity,
      entity: d.entity,
      timestamp: new Date(d.ts).toISOString(),
      detected_at: new Date(now).toISOString(),
      evidence: d.evidence,
      event_ids: d.event_ids.slice(-this.#o.alerts.max_event_ids),
      mode: this.#o.modeOf?.(d.rule) ?? "enforce",
      incident: incidentOf(d, this.#o.alerts.incident_window_ms),
    };
    if (d.score !== undefined) alert.score = d.score;
    if (d.model !== undefined) alert.model = d.model;
    const by = alert.mode === "enforce" ? this.#o.suppressedBy?.(d) ?? null : null;
    if (by !== null) {
      alert.mode = "suppressed";
      alert.suppressed_by = by;
    }
    this.#telemetry.alertRaised(alert, now - d.ts, d.decided);
    this.#o.alertSink?.publish(alert);
  }

  #fail(cell: Cell, env: Envelope, err: unknown): void {
    env.attempt++;
    const now = this.#clock.now();
    const sup = this.#parts[cell.partition]!.supervisor;
    const strategy = this.#o.strategyOf?.(cell.type) ?? this.#defaultStrategy;
    const { directive, escalate } = sup.onFailure(
      strategy,
      env.attempt,
      cell.restarts,
      now,
      this.#random,
    );
    cell.noteRestart(now, this.#o.supervision.max_restarts_per_key + 1);
    this.#telemetry.restarted(cell.type);
    const why = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_CHARS);
    switch (directive.action) {
      case "retry":
        if (directive.delay_ms === 0) this.#turn(cell, env);
        else {
          cell.busy = true;
          this.#clock.setTimeout(() => {
            cell.busy = false;
            this.#turn(cell, env);
            this.#drain(cell);
          }, directive.delay_ms);
        }
        break;
      case "skip":
      case "resume":
        this.#deadLetter(
          cell,
          env,
          "failed",
          `Actor ${cell.id} failed ${env.attempt} times: ${why}`,
        );
        break;
      case "stop":
        this.#snapshots.delete(cell.id);
        cell.state = cell.behaviour.initial(cell.key);
        this.#deadLetter(cell, env, "stopped", `Actor ${cell.id} was stopped after: ${why}`);
        break;
      case "quarantine": {
        sup.quarantine(cell.id, now);
        const reason = `Actor ${cell.id} is quarantined after repeated failures: ${why}`;
        this.#deadLetter(cell, env, "quarantined", reason);
        for (const queued of cell.takeAll()) this.#deadLetter(cell, queued, "quarantined", reason);
        this.#passivate(cell);
        break;
      }
    }
    if (escalate) this.#escalate(cell, why);
  }

  /** The root's answer to a partition failing past its intensity (`cell`'s failure tipped it). */
  #escalate(cell: Cell, error: string): void {
    const partition = cell.partition;
    const d = this.#root.onEscalation(partition, this.#clock.now());
    if (d.action === "restart_partition") this.passivateAll(partition);
    // Held or restarted, the partition escalates again only after as many failures more.
    this.#parts[partition]!.supervisor.reset();
    this.#o.onEscalation?.({
      partition,
      actor: cell.id,
      error,
      action: d.action,
      reason: d.action === "hold" ? d.reason : "",
    });
  }

  #deadLetter(cell: Cell, env: Envelope, reason: DeadLetterReason, text: string): void {
    this.#reject(cell.id, env.message, reason, text);
    this.#done(env);
  }

  #reject(id: string, message: unknown, reason: DeadLetterReason, text: string): void {
    this.#telemetry.deadLettered(reason);
    const raw = safeJson(message);
    const letter: DeadLetter = {
      source: `actor:${id}`,
      reason: text,
      raw,
      raw_bytes: raw.length,
      at: new Date(this.#clock.now()).toISOString(),
      category: reason,
    };
    this.#o.deadLetters?.deadLetter(letter);
  }

  #done(env: Envelope): void {
    env.ticket?.done();
    if (--this.#inflight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  #drain(cell: Cell): void {
    while (!cell.busy) {
      const env = cell.next();
      if (!env) return;
      this.#turn(cell, env);
    }
  }
}

function splitId(id: string): [string, string] {
  const i = id.indexOf(":");
  return [id.slice(0, i), id.slice(i + 1)];
}

function safeJson(message: unknown): string {
  try {
    // An event message is dead-lettered as the event arrived, unknown fields included.
    const event = (message as { event?: { raw?: unknown } } | null)?.event;
    const text = JSON.stringify(event?.raw ?? message) ?? "";
    return text.length > 65_536 ? text.slice(0, 65_536) : text;
  } catch {
    return String(message);
  }
}

/** A timer's message with the watermark it fired at (`watermark_ms`). */
function stamped(message: unknown, watermark_ms: number): unknown {
  return { ...(message as Record<string, unknown>), watermark_ms };
}
