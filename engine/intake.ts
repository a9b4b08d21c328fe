/**
 * The intake: raw input (log records, file lines) → validated events → the actor
 * that owns each. Invalid, oversized and too-late events are dead-lettered with a
 * reason; nothing is dropped silently. A batch's offsets may be committed once
 * `handleBatch` resolves: every event is handled and every effect is durable.
 *
 * @module
 */

import type { ActorRuntime } from "../actors/runtime.ts";
import type { RuntimeTelemetry } from "../actors/ports.ts";
import { Ticket } from "../actors/ticket.ts";
import { preview } from "../events/bounds.ts";
import { Topics } from "../events/topics.ts";
import type { Address } from "../actors/types.ts";
import { IP, isIpAttempt } from "../actors/ip.ts";
import type { AuthEvent, DeadLetter, EventKind, VigilEvent } from "../events/types.ts";
import { defaults, type InputLimits } from "../config/defaults.ts";
import { parseEvent, validateEvent } from "../events/validate.ts";
import { aheadOfClock, futureReason, lateReason } from "../events/timeliness.ts";
import type { GeoLocator } from "../geo/database.ts";
import { needsPlace, withPlace } from "../geo/enrich.ts";
import type { Batch, Pending } from "../io/log.ts";
import type { Outbox } from "./outbox.ts";
import type { PartitionerName } from "../actors/placement.ts";
import { KEY_FIELD, routeOf, TYPE_OF_KIND } from "../actors/route.ts";
import { exponentialDelay } from "../supervisors/strategy.ts";
import {
  MisplacementReport,
  readRepartitioned,
  Repartitioner,
  repartitionStream,
} from "./repartition.ts";

/** Counts the intake reports, besides the runtime's. */
export interface IntakeTelemetry extends RuntimeTelemetry {
  ingested(kind: EventKind): void;
  /** The event itself, for figures by its type (logins and logouts, payments). */
  ingestedEvent?(event: VigilEvent): void;
  invalid(kind: EventKind | "unknown"): void;
  /** A record that arrived on another partition than its key's, moved there. */
  misplaced?(topic: string): void;
  /**
   * Events of `kind` whose actors' turns are done at `now_ms` (their batch handled): their
   * event times, the first `n` of `ts`.
   */
  decided?(kind: EventKind, ts: Float64Array, n: number, now_ms: number): void;
}

/** The event times of one live batch's events, by kind, until the batch is handled. */
class DecisionLog {
  /** Per kind (a batch is mostly one): the times, and how many of them are set. */
  #kinds = new Map<EventKind, { ts: Float64Array; n: number }>();

  push(kind: EventKind, ts: number): void {
    let k = this.#kinds.get(kind);
    if (!k) this.#kinds.set(kind, k = { ts: new Float64Array(64), n: 0 });
    if (k.n === k.ts.length) {
      const grown = new Float64Array(k.n * 2);
      grown.set(k.ts);
      k.ts = grown;
    }
    k.ts[k.n++] = ts;
  }

  /** Tells `telemetry` of every event logged, decided at `now_ms`. */
  report(telemetry: IntakeTelemetry, now_ms: number): void {
    for (const [kind, k] of this.#kinds) telemetry.decided!(kind, k.ts, k.n, now_ms);
  }
}

/** Told whether alerts and dead letters are being made durable. */
export interface FlushHealth {
  durable(ok: boolean, err?: unknown): void;
}

/** One raw input. */
export interface RawInput {
  value: string;
  /** Where it came from, for dead letters: `topic/partition/offset`, `file:line`, `http`. */
  source: string;
  kind?: EventKind | undefined;
  fallback_ts?: number | undefined;
  /** The ordered input it was read from (a topic), for the watermarks. */
  stream?: string | undefined;
  /** The partition and offset it was read from (re-keyed records name them as their source). */
  partition?: number | undefined;
  offset?: number | undefined;
  /** The record's key, as its producer wrote it (null: none). */
  key?: string | null | undefined;
}

/**
 * How login attempts reach the actor of their IP: through the internal re-key topic
 * (the log modes: the IP's partition may be in another process), or delivered directly
 * (a replay, where every actor is in this process).
 */
export type Rekey = { topic: string } | "direct";

/** One login attempt on the re-key topic: its source offset, event time, and what IP actors read. */
interface RekeyEntry {
  o: number;
  ts: number;
  e: Record<string, unknown>;
}

/**
 * A record of the re-key topic: login attempts of one source partition, in offset order,
 * bound for the actors of one partition (the record is written to that partition). One
 * record carries many attempts, so the re-key topic costs a few records per batch, not
 * one per event. (A record `{p, o, ts, e}` of a single attempt is read too.)
 */
interface Rekeyed {
  p: number;
  r: RekeyEntry[];
}

/** The input stream of the IP actors that carries the attempts of source partition `p`. */
export const rekeyStream = (p: number): string => `rekey/${p}`;

/** Attempts in one re-key record, at most (about 150 bytes each: far below Kafka's 1 MB). */
const MAX_REKEY_ENTRIES = 1_000;

const MAX_DEAD_LETTER_CHARS = 65_536;

/** What delivering a record already delivered gives. */
const REPEAT = Symbol("repeat");

const orNull = <T>(x: T | typeof REPEAT): T | null => x === REPEAT ? null : x;

/** Validates and routes events into a runtime. */
export class Intake {
  #runtime: ActorRuntime;
  #outbox: Outbox;
  #telemetry: IntakeTelemetry;
  #maxEventBytes: number;
  #limits: InputLimits | undefined;
  #maxFutureMs: number;
  #topics: Topics;
  #health: FlushHealth;
  #archive: boolean;
  /** The live batches being handled, each with the event times of its events. */
  #decisions = new Map<Ticket, DecisionLog>();
  #backoff: { min_ms: number; max_ms: number };
  #now: () => number;
  #rekey: Rekey | null;
  #signals: string | null;
  /** `rekey/<p>`: the stream name of each source partition, built once. */
  #rekeyStreams: string[] = [];
  /** Re-key records being filled, by `source partition * partitions + target partition`. */
  #bundles = new Map<number, Rekeyed>();
  /** Moves records that arrived elsewhere than their key's partition (the log modes). */
  #repartitioner: Repartitioner | null = null;
  #repartitionTopic = "";
  #misplaced: MisplacementReport | null = null;
  /** `repartition/<topic>/<q>`: the stream name of each moved topic partition, built once. */
  #movedStreams = new Map<string, string>();
  /** Fills in the place of logins with an address and no location (null: not done). */
  #geo: GeoLocator | null;
  /** The database's name as events and alerts record it (`located_by`). */
  #geoTag = "";

  constructor(
    runtime: ActorRuntime,
    outbox: Outbox,
    telemetry: IntakeTelemetry,
    options: {
      max_event_bytes: number;
      /** The bounds events are validated with (default: `defaults.input`). */
      limits?: InputLimits;
      max_future_ms: number;
      now: () => number;
      topics?: Topics;
      health?: FlushHealth;
      /** Keep valid events in the store's raw archive. */
      archive?: boolean;
      flush_backoff?: { min_ms: number; max_ms: number };
      /** Send login attempts to the actor of their IP (default: not). */
      rekey?: Rekey;
      /** The internal topic of messages between actors (`forwardSignal`), read here too. */
      signals?: string;
      /**
       * The internal topic that moves records to their key's partition (the log modes),
       * how often in event time a partition tells the others how far it has read (0:
       * never), and the partitioner placement follows (for what the log says).
       */
      repartition?: { topic: string; progress_ms: number; placement: PartitionerName };
      /** The IP database, for logins with an address and no location (default: none). */
      geo?: GeoLocator | null;
    },
  ) {
    this.#runtime = runtime;
    this.#outbox = outbox;
    this.#telemetry = telemetry;
    this.#maxEventBytes = options.max_event_bytes;
    this.#limits = options.limits;
    this.#maxFutureMs = options.max_future_ms;
    this.#topics = options.topics ?? new Topics();
    this.#health = options.health ?? { durable() {} };
    this.#archive = options.archive ?? false;
    this.#backoff = options.flush_backoff ?? { min_ms: 100, max_ms: 5_000 };
    this.#now = options.now;
    this.#rekey = options.rekey ?? null;
    this.#signals = options.signals ?? null;
    this.#geo = options.geo ?? null;
    if (this.#geo) this.#geoTag = `${this.#geo.sources.city} ${this.#geo.sources.asn}`;
    const rp = options.repartition;
    if (rp) {
      this.#repartitionTopic = rp.topic;
      this.#repartitioner = new Repartitioner(
        runtime.partitions,
        rp.progress_ms,
        (m) => outbox.forward(rp.topic, m),
      );
      this.#misplaced = new MisplacementReport(
        runtime.partitions,
        rp.placement,
        (topic) => {
          const kind = this.#topics.kindOf(topic);
          return kind ? KEY_FIELD[kind] : "key";
        },
      );
    }
  }

  /**
   * What to log about misplaced records since the last call (a line per topic that had
   * some; called once a minute).
   */
  misplacementReport(): { message: string; fields: Record<string, unknown> }[] {
    return this.#misplaced?.take() ?? [];
  }

  /** Handles one batch of log records; resolves when all is handled and durable. */
  async handleBatch(batch: Batch): Promise<void> {
    await (await this.process(batch)).durable;
  }

  /**
   * Handles one batch of log records: resolves once every event is handled, with the
   * promise of its alerts, dead letters and forwarded records being durable (the next
   * batch may be handled meanwhile).
   */
  async process(batch: Batch): Promise<Pending> {
    try {
      await this.#handle(batch);
    } finally {
      this.#forwardBundles();
    }
    return { durable: this.#flushUntilDurable(batch) };
  }

  async #handle(batch: Batch): Promise<void> {
    const live = new Ticket();
    const decisions = this.#telemetry.decided ? new DecisionLog() : null;
    if (decisions) this.#decisions.set(live, decisions);
    try {
      await this.#offerAll(batch, live);
      decisions?.report(this.#telemetry, this.#now());
    } finally {
      this.#decisions.delete(live);
    }
  }

  /** Offers every record of a batch; resolves once each is handled (`live`: its ticket). */
  async #offerAll(batch: Batch, live: Ticket): Promise<void> {
    const replayed = new Ticket({ replay: true });
    const below = batch.replay_below ?? -1;
    const rekeyed = this.#rekey !== null && this.#rekey !== "direct" &&
      batch.topic === this.#rekey.topic;
    const kind = this.#topics.kindOf(batch.topic);
    const signals = batch.topic === this.#signals;
    const moved = this.#repartitioner !== null && batch.topic === this.#repartitionTopic;
    try {
      for (const r of batch.records) {
        const input: RawInput = {
          value: r.value,
          source: `${r.topic}/${r.partition}/${r.offset}`,
          kind,
          fallback_ts: r.timestamp,
          stream: batch.topic,
          partition: batch.partition,
          offset: r.offset,
          key: r.key,
        };
        const ticket = r.offset < below ? replayed : live;
        const waiting = signals
          ? this.#offerSignal(input, ticket)
          : rekeyed
          ? this.#offerRekeyed(input, ticket)
          : moved
          ? this.#offerMoved(input, ticket)
          : this.offer(input, ticket);
        if (waiting) await waiting;
      }
    } finally {
      if (kind !== undefined) this.#repartitioner?.endBatch(kind, batch.partition);
    }
    await replayed.settled();
    await live.settled();
  }

  /**
   * Flushes the outbox, retrying with backoff while the store or the producer fails:
   * the batch's events are already in the actors' state, so the batch must not fail
   * (it would be delivered again and counted twice). The partition waits meanwhile, and
   * the process reports not ready.
   */
  async #flushUntilDurable(batch: Batch): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        await this.#outbox.flush();
        this.#health.durable(true);
        return;
      } catch (err) {
        this.#health.durable(false, err);
        const delay = exponentialDelay(this.#backoff.min_ms, this.#backoff.max_ms, attempt + 1);
        await new Promise((r) => setTimeout(r, delay));
        await batch.heartbeat?.().catch(() => {});
      }
    }
  }

  /** Validates one raw input and delivers it; a returned promise must be awaited (backpressure). */
  offer(input: RawInput, ticket: Ticket | null): Promise<void> | null {
    const replay = ticket?.replay === true; // dead-lettered once already: not again
    const tooBig = oversize(input.value, this.#maxEventBytes);
    if (tooBig) {
      if (!replay) this.reject(input, "oversized", tooBig, input.kind);
      return null;
    }
    const parsed = parseEvent(input.value, {
      kind: input.kind,
      fallback_ts: input.fallback_ts,
      limits: this.#limits,
    });
    if (!parsed.ok) {
      if (!replay) this.reject(input, "invalid", parsed.reason, input.kind);
      return null;
    }
    const to = routeOf(parsed.event);
    const rp = this.#repartitioner;
    if (rp !== null && to !== null && input.kind !== undefined && input.stream !== undefined) {
      const moved = this.#placeOf(parsed.event, to, input, ticket, rp);
      if (moved !== undefined) return moved;
    }
    return this.accept(
      parsed.event,
      input.source,
      ticket,
      input.stream,
      input.partition,
      input.offset,
      to,
    );
  }

  /**
   * For an event of an input topic partition: notes how far the partition has been read
   * and, when its actor lives on another partition, moves it there (returning null);
   * undefined when it is to be delivered here.
   */
  #placeOf(
    event: VigilEvent,
    to: Address,
    input: RawInput,
    ticket: Ticket | null,
    rp: Repartitioner,
  ): null | undefined {
    const q = input.partition ?? -1, o = input.offset ?? -1, kind = input.kind!;
    if (q < 0 || aheadOfClock(event.ts, this.#now(), this.#maxFutureMs) !== null) return undefined;
    const replay = ticket?.replay === true;
    const topic = input.stream!;
    if (!replay) this.#misplaced!.read(topic);
    rp.read(kind, q, o, event.ts);
    const p = this.#runtime.partitionFor(to.key);
    if (p === q) return undefined;
    // Read here, handled there: this partition's stream moves on as if it had been
    // delivered, and a record read again is found a repeat and not moved twice.
    if (this.#runtime.noteStream(q, to.type, topic, event.ts, o) !== null) return null;
    this.#counted(event, replay);
    if (event.kind === "auth" && this.#rekey !== null && isIpAttempt(event)) {
      this.#rekeyAttempt(event, input.source, ticket, q, o);
    }
    if (replay) return null; // moved when first handled live
    this.#telemetry.misplaced?.(topic);
    this.#misplaced!.misplaced(topic, q, input.key ?? null);
    rp.move(kind, q, p, { o, ts: input.fallback_ts ?? 0, v: input.value });
    return null;
  }

  /**
   * A record of the repartition topic: each record it moves delivered to its actor (on
   * this partition), then the source partition's stream moved on to where it had read.
   */
  #offerMoved(input: RawInput, ticket: Ticket | null): Promise<void> | null {
    const read = readRepartitioned(input.value, this.#runtime.partitions);
    if (!read.ok) {
      if (ticket?.replay !== true) this.reject(input, "invalid", read.reason, undefined);
      return null;
    }
    const { k, q, r, hi, mx } = read.record;
    const topic = this.#topics.of(k);
    const id = `${topic}/${q}`;
    let stream = this.#movedStreams.get(id);
    if (stream === undefined) this.#movedStreams.set(id, stream = repartitionStream(topic, q));
    const type = TYPE_OF_KIND[k];
    const p = input.partition ?? -1;
    const next = (from: number): Promise<void> | null => {
      for (let i = from; i < r.length; i++) {
        const waiting = this.#deliverMoved(r[i], k, topic, q, ticket, stream);
        if (waiting) return waiting.then(() => next(i + 1) ?? undefined);
      }
      if (p >= 0) this.#runtime.noteStream(p, type, stream, mx, hi);
      return null;
    };
    return next(0);
  }

  /** One record moved here from partition `q` of `topic`, delivered to its actor. */
  #deliverMoved(
    m: { o?: unknown; ts?: unknown; v?: unknown } | undefined,
    kind: EventKind,
    topic: string,
    q: number,
    ticket: Ticket | null,
    stream: string,
  ): Promise<void> | null {
    const o = typeof m?.o === "number" ? m.o : -1;
    const source = `${topic}/${q}/${o}`;
    const value = typeof m?.v === "string" ? m.v : "";
    const fallback_ts = typeof m?.ts === "number" ? m.ts : undefined;
    const parsed = parseEvent(value, { kind, fallback_ts });
    if (!parsed.ok) {
      if (ticket?.replay !== true) this.reject({ value, source }, "invalid", parsed.reason, kind);
      return null;
    }
    const to = routeOf(parsed.event);
    if (to === null) return null;
    let event = parsed.event;
    if (this.#geo !== null && needsPlace(event)) {
      const loading = this.#geo.prepare(event.ip);
      if (loading) {
        return loading.then(() =>
          this.#deliverMoved(m, kind, topic, q, ticket, stream) ?? undefined
        );
      }
      event = this.#located(event);
    }
    return orNull(this.#deliver(to, event, source, ticket, stream, o));
  }

  /** A login with an address and no location, with what the IP database knows of it. */
  #located(event: AuthEvent & { ip: string }): AuthEvent {
    return withPlace(event, this.#geo!.locate(event.ip), this.#geoTag);
  }

  /** Counts an event taken in (and archives it): once, when first handled live. */
  #counted(event: VigilEvent, replay: boolean): void {
    if (replay) return;
    this.#telemetry.ingested(event.kind);
    this.#telemetry.ingestedEvent?.(event);
    if (this.#archive) {
      this.#outbox.archive({
        event_id: event.event_id,
        kind: event.kind,
        ts: event.ts,
        raw: event.raw,
      });
    }
  }

  /** Delivers a validated event to its actor. */
  accept(
    event: VigilEvent,
    source: string,
    ticket: Ticket | null,
    stream = "",
    partition = -1,
    offset = -1,
    to: Address | null = routeOf(event),
  ): Promise<void> | null {
    if (this.#geo !== null && needsPlace(event)) {
      // The database loads at the first event that needs it; this one (and, through
      // backpressure, those after it) waits for it, so every event sees the same database.
      const loading = this.#geo.prepare(event.ip);
      if (loading) {
        return loading.then(() =>
          this.accept(event, source, ticket, stream, partition, offset, to) ?? undefined
        );
      }
      event = this.#located(event);
    }
    const replay = ticket?.replay === true;
    this.#counted(event, replay);
    if (to === null) return null;
    if (!replay && ticket !== null) this.#decisions.get(ticket)?.push(event.kind, event.ts);
    const ahead = aheadOfClock(event.ts, this.#now(), this.#maxFutureMs);
    if (ahead !== null) {
      if (replay) return null;
      this.#deadLetter({
        source,
        reason: futureReason(event.event_id, ahead, this.#maxFutureMs),
        raw: JSON.stringify(event.raw),
        raw_bytes: 0,
        at: new Date(this.#now()).toISOString(),
      }, "future");
      return null;
    }
    // A log record's offset is its position in its stream: a record the log hands over
    // again (the consumer rejoined at an older committed offset after a broker restart)
    // is skipped as a repeat instead of being counted twice or found late.
    const waiting = this.#deliver(to, event, source, ticket, stream, stream === "" ? -1 : offset);
    if (waiting === REPEAT) return null; // its attempt was re-keyed the first time
    if (event.kind === "auth" && this.#rekey !== null && isIpAttempt(event)) {
      const more = this.#rekeyAttempt(event, source, ticket, partition, offset);
      if (more) return waiting ? Promise.all([waiting, more]).then(() => {}) : more;
    }
    return waiting;
  }

  /** Sends a login attempt on to the actor of its IP. */
  #rekeyAttempt(
    event: AuthEvent,
    source: string,
    ticket: Ticket | null,
    partition: number,
    offset: number,
  ): Promise<void> | null {
    const rekey = this.#rekey!;
    if (rekey === "direct") {
      return orNull(this.#deliver({ type: IP, key: event.ip! }, event, source, ticket, "direct"));
    }
    // Forwarded once, when first handled live: a replay of the record (rebuilding state
    // after a takeover) finds it already on the re-key topic.
    if (ticket?.replay === true) return null;
    // What the IP's actor reads, not the whole event: half the bytes through Kafka.
    const e: Record<string, unknown> = {
      kind: "auth",
      type: event.type,
      event_id: event.event_id,
      user_id: event.user_id,
      ip: event.ip,
    };
    // The AS the IP database found, for the targets' `user.compromise_after_attack`.
    if (event.asn !== undefined) e.asn = event.asn;
    const partitions = this.#runtime.partitions;
    const slot = partition * partitions + this.#runtime.partitionFor(event.ip!);
    let bundle = this.#bundles.get(slot);
    if (!bundle) this.#bundles.set(slot, bundle = { p: partition, r: [] });
    bundle.r.push({ o: offset, ts: event.ts, e });
    if (bundle.r.length >= MAX_REKEY_ENTRIES) this.#forwardBundle(slot, bundle);
    return null;
  }

  /** Hands every re-key record being filled to the outbox (for the next flush). */
  #forwardBundles(): void {
    for (const [slot, bundle] of this.#bundles) this.#forwardBundle(slot, bundle);
  }

  #forwardBundle(slot: number, bundle: Rekeyed): void {
    const rekey = this.#rekey;
    this.#bundles.delete(slot);
    if (rekey === null || rekey === "direct") return;
    this.#outbox.forward(rekey.topic, {
      key: null,
      value: JSON.stringify(bundle),
      partition: slot % this.#runtime.partitions,
    });
  }

  /**
   * Puts a message for an actor that may live in another process on the signals topic,
   * keyed (and partitioned) by the receiver; it goes out with the batch's flush, before
   * the batch's offsets are committed.
   */
  forwardSignal(to: Address, message: unknown): void {
    if (this.#signals === null) throw new Error("Cannot forward a signal: no signals topic");
    this.#outbox.forward(this.#signals, {
      key: to.key,
      value: JSON.stringify({ to: { type: to.type, key: to.key }, m: message }),
      partition: this.#runtime.partitionFor(to.key),
    });
  }

  /**
   * A record of the signals topic: its message delivered to its actor. Re-read after a
   * takeover, it rebuilds state like the other topics (the log holds live records back
   * until every topic of the partition has been read again).
   */
  #offerSignal(input: RawInput, ticket: Ticket | null): Promise<void> | null {
    let record: { to?: { type?: unknown; key?: unknown }; m?: unknown };
    try {
      record = JSON.parse(input.value);
    } catch (err) {
      if (ticket?.replay !== true) {
        this.reject(input, "invalid", `Cannot read a signal: ${String(err)}`, undefined);
      }
      return null;
    }
    const type = record?.to?.type, key = record?.to?.key;
    const limits = this.#limits ?? defaults.input;
    let reason = "";
    if (typeof type !== "string") reason = "Cannot use a signal: it needs to.type (an actor type)";
    else if (typeof key !== "string" || key === "" || key.length > limits.max_key_chars) {
      reason = `Cannot use a signal: its to.key must be 1 to ${limits.max_key_chars} characters`;
    } else {
      // Only what the receiver's type takes from other actors, rebuilt from checked fields.
      const taken = this.#runtime.fromSignal(type, record.m, limits);
      if ("message" in taken) return this.#runtime.deliver({ type, key }, taken.message, ticket);
      reason = taken.reason;
    }
    if (ticket?.replay !== true) this.reject(input, "invalid", reason, undefined);
    return null;
  }

  /** A record of the re-key topic: each attempt in it delivered to the actor of its IP. */
  #offerRekeyed(input: RawInput, ticket: Ticket | null): Promise<void> | null {
    let record: Partial<Rekeyed & RekeyEntry>;
    try {
      record = JSON.parse(input.value);
      if (typeof record !== "object" || record === null) throw new Error("not an object");
    } catch (err) {
      if (ticket?.replay !== true) {
        this.reject(input, "invalid", `Cannot read a re-keyed record: ${String(err)}`, "auth");
      }
      return null;
    }
    const p = record.p ?? -1;
    const entries = Array.isArray(record.r)
      ? record.r
      : [{ o: record.o ?? -1, ts: record.ts ?? 0, e: record.e ?? {} }];
    if (!(Number.isInteger(p) && p >= 0 && p < this.#runtime.partitions)) {
      if (ticket?.replay !== true) {
        const reason = `Cannot use a re-keyed record: bad source ${preview(p)}`;
        this.reject(input, "invalid", reason, "auth");
      }
      return null;
    }
    const stream = this.#rekeyStreams[p] ??= rekeyStream(p);
    const next = (from: number): Promise<void> | null => {
      for (let i = from; i < entries.length; i++) {
        const waiting = this.#offerRekeyEntry(input, entries[i], i, entries.length, ticket, stream);
        if (waiting) return waiting.then(() => next(i + 1) ?? undefined);
      }
      return null;
    };
    return next(0);
  }

  /** One attempt of a re-key record, delivered to the actor of its IP. */
  #offerRekeyEntry(
    input: RawInput,
    entry: RekeyEntry | undefined,
    index: number,
    count: number,
    ticket: Ticket | null,
    stream: string,
  ): Promise<void> | null {
    const source = count === 1 ? input.source : `${input.source}#${index}`;
    let parsed;
    try {
      // The text names the entry (an id is derived from it only if the entry has none).
      parsed = validateEvent(entry?.e, source, {
        kind: "auth",
        fallback_ts: entry?.ts,
        limits: this.#limits,
      });
    } catch (err) {
      parsed = { ok: false as const, reason: `Cannot read a re-keyed record: ${String(err)}` };
    }
    const refuse = (reason: string): null => {
      if (ticket?.replay !== true) {
        // As it arrived; an entry too deep to write whole is shown cut (the reason says why).
        let value: string;
        try {
          value = JSON.stringify(entry) ?? "";
        } catch {
          value = preview(entry);
        }
        this.reject({ ...input, source, value }, "invalid", reason, "auth");
      }
      return null;
    };
    if (!parsed.ok) return refuse(parsed.reason);
    const event = parsed.event;
    if (event.kind !== "auth" || !isIpAttempt(event)) {
      return refuse("Cannot use a re-keyed record: not a login attempt with an IP");
    }
    // Its source offset orders the stream (every attempt at or below the highest delivered
    // is a repeat): a whole number, as the intake that re-keyed it wrote, or none (-1).
    const o = entry?.o ?? -1;
    if (!(Number.isSafeInteger(o) && o >= -1)) {
      return refuse(
        `Cannot use a re-keyed record: its offset o must be a whole number, got ${preview(o)}`,
      );
    }
    return orNull(this.#deliver({ type: IP, key: event.ip! }, event, source, ticket, stream, o));
  }

  /** Delivers an event to an actor at its event time; dead-letters it when it is late. */
  #deliver(
    to: Address,
    event: VigilEvent,
    source: string,
    ticket: Ticket | null,
    stream: string,
    seq = -1,
  ): Promise<void> | null | typeof REPEAT {
    const r = this.#runtime.deliverEvent(
      to.type,
      to.key,
      { kind: "event", event },
      event.ts,
      ticket,
      stream,
      seq,
    );
    // The ingest held the lane at this event's time until it was taken: taken now.
    if (this.#runtime.holding) this.#runtime.releaseHold(to.type, event.event_id);
    if (r === null || r instanceof Promise) return r;
    if ("repeat" in r) return REPEAT; // already delivered
    if (ticket?.replay === true) return null; // late then too, and dead-lettered then
    this.#deadLetter({
      source,
      reason: lateReason(event.event_id, r.watermark - event.ts, to.type, r.partition),
      raw: JSON.stringify(event.raw),
      raw_bytes: 0,
      at: new Date(this.#now()).toISOString(),
    }, "late");
    return null;
  }

  /** Dead-letters a raw input with a reason (`raw_bytes`: its size, when `input` holds only its start). */
  reject(
    input: RawInput,
    why: "invalid" | "oversized",
    reason: string,
    kind: EventKind | undefined,
    raw_bytes = utf8Length(input.value),
  ): void {
    this.#telemetry.invalid(kind ?? "unknown");
    this.#deadLetter({
      source: input.source,
      reason,
      raw: input.value.length > MAX_DEAD_LETTER_CHARS
        ? input.value.slice(0, MAX_DEAD_LETTER_CHARS)
        : input.value,
      raw_bytes,
      at: new Date(this.#now()).toISOString(),
    }, why);
  }

  /**
   * Dead-letters an event the HTTP ingest found late or too far ahead, with the reason
   * its answer gave (the same rule and words as the intake's own).
   */
  refuseUntimely(event: VigilEvent, source: string, why: "late" | "future", reason: string): void {
    this.#deadLetter({
      source,
      reason,
      raw: JSON.stringify(event.raw),
      raw_bytes: 0,
      at: new Date(this.#now()).toISOString(),
    }, why);
  }

  #deadLetter(letter: DeadLetter, why: "invalid" | "oversized" | "late" | "future"): void {
    if (letter.raw_bytes === 0) letter.raw_bytes = utf8Length(letter.raw);
    letter.category = why;
    this.#telemetry.deadLettered(why);
    this.#outbox.deadLetter(letter);
  }
}

/** UTF-8 length of a string, without encoding it. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Why `text` is over `max_bytes` in UTF-8, or null when it is not (cheap for short texts). */
export function oversize(text: string, max_bytes: number): string | null {
  if (text.length * 3 <= max_bytes) return null;
  const bytes = text.length > max_bytes ? text.length : utf8Length(text);
  if (bytes <= max_bytes) return null;
  return `Cannot accept event: ${
    bytes > text.length ? bytes : "at least " + bytes
  } bytes exceeds the limit of ${max_bytes}`;
}
