/**
 * Replay: the same actors over a recorded `.jsonl` file, in event-time order, as fast
 * as the machine allows. Time is virtual and follows the events, so the same file
 * gives a byte-identical alerts file every time.
 *
 * @module
 */

import { VirtualClock } from "../actors/clock.ts";
import type { DeadLetterReason } from "../actors/ports.ts";
import { MemoryStore } from "../io/memory_store.ts";
import { ActorRuntime } from "../actors/runtime.ts";
import { Ticket } from "../actors/ticket.ts";
import { userBehaviour } from "../actors/user.ts";
import type { Config } from "../config/defaults.ts";
import type { Alert, DeadLetter, VigilEvent } from "../events/types.ts";
import { parseEvent } from "../events/validate.ts";
import { seededRandom } from "../actors/random.ts";
import { Intake, type IntakeTelemetry } from "./intake.ts";
import { Outbox } from "./outbox.ts";

/** What a replay did. */
export interface ReplayResult {
  events: number;
  invalid: number;
  late: number;
  alerts: Alert[];
  dead_letters: DeadLetter[];
  /** Time spent in the actors (after reading and parsing), ms. */
  run_ms: number;
  /** Time spent reading and parsing, ms. */
  parse_ms: number;
}

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

/**
 * Replays the events of `text` (one JSON object per line) through a fresh runtime.
 *
 * @example
 * ```ts
 * import { replayText } from "./replay.ts";
 * import { defaults } from "../config/defaults.ts";
 * const r = await replayText('{"kind":"auth","type":"logout","user_id":"u1","timestamp":0}\n', structuredClone(defaults));
 * r.events; // 1
 * ```
 */
export async function replayText(text: string, config: Config): Promise<ReplayResult> {
  const t0 = performance.now();
  const counts = new Counts();
  const alerts: Alert[] = [];
  const store = new MemoryStore({
    max_alerts: 1,
    max_dead_letters: config.memory_store_max_dead_letters,
  });
  const outbox = new Outbox(store, null);
  outbox.listen((a) => {
    alerts.push(...a);
  });
  const clock = new VirtualClock(0);
  const runtime = new ActorRuntime({
    behaviours: [userBehaviour(config)],
    runtime: config.runtime,
    supervision: config.supervision,
    alerts: config.alerts,
    clock,
    random: seededRandom(1),
    alertSink: outbox,
    deadLetters: outbox,
    telemetry: counts,
  });
  const intake = new Intake(runtime, outbox, counts, {
    max_event_bytes: config.max_event_bytes,
    now: () => clock.now(),
  });
  const events: { e: VigilEvent; line: number }[] = [];
  let sorted = true;
  let line = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === "") continue;
    const parsed = parseEvent(raw);
    if (!parsed.ok) {
      intake.reject({ value: raw, source: `line ${line}` }, "invalid", parsed.reason, undefined);
      continue;
    }
    if (events.length >= config.runtime.max_replay_events) {
      throw new Error(
        `Cannot replay more than ${config.runtime.max_replay_events} events at once ` +
          `(VIGIL_RUNTIME_MAX_REPLAY_EVENTS); split the file`,
      );
    }
    const prev = events[events.length - 1];
    if (prev && parsed.event.ts < prev.e.ts) sorted = false;
    events.push({ e: parsed.event, line });
  }
  if (!sorted) events.sort((a, b) => a.e.ts - b.e.ts || a.line - b.line);
  const t1 = performance.now();
  if (events.length > 0) clock.advanceTo(events[0]!.e.ts);
  const batch = config.runtime.max_batch_events;
  for (let i = 0; i < events.length; i += batch) {
    const ticket = new Ticket();
    const stop = Math.min(events.length, i + batch);
    for (let j = i; j < stop; j++) {
      const { e, line } = events[j]!;
      if (e.ts > clock.now()) clock.advanceTo(e.ts);
      const waiting = intake.accept(e, `line ${line}`, ticket);
      if (waiting) await waiting;
    }
    await ticket.settled();
    await outbox.flush();
  }
  await runtime.whenIdle();
  await outbox.flush();
  return {
    events: events.length,
    invalid: counts.invalid_events,
    late: counts.late_events,
    alerts,
    dead_letters: (await store.findDeadLetters(config.memory_store_max_dead_letters)).reverse(),
    run_ms: performance.now() - t1,
    parse_ms: t1 - t0,
  };
}
