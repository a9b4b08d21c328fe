/**
 * A replay's worker thread (see `replay_parallel.ts`): one run of the actors over the
 * lines it is dealt, with their line numbers, in the order dealt. It loads the models the
 * main thread names, answers each chunk of lines once it is fed, and at the end sends its
 * result: alerts, dead letters with the line each was written at, and counts.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { ModelService } from "../models/service.ts";
import { OutOfOrder, Run } from "./replay.ts";
import { GROUP_OF_KIND } from "../actors/route.ts";
import { type FromWorker, threadOf, type ToWorker } from "./replay_protocol.ts";

const inbox: ToWorker[] = [];
let wake: (() => void) | null = null;

self.onmessage = (e: MessageEvent<ToWorker>) => {
  inbox.push(e.data);
  const w = wake;
  wake = null;
  w?.();
};

function post(m: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(m, transfer);
}

async function next(): Promise<ToWorker> {
  while (inbox.length === 0) await new Promise<void>((r) => wake = r);
  return inbox.shift()!;
}

async function work(): Promise<void> {
  const start = await next();
  if (start.t !== "start") {
    throw new Error(`A replay worker must be started first, got "${start.t}"`);
  }
  let models: ModelService | null = null;
  try {
    if (start.models) {
      models = new ModelService(start.models.settings);
      for (const [name, version] of Object.entries(start.models.versions)) {
        await models.activate(name, version);
      }
      models.eager = true;
    }
    const t0 = performance.now();
    const run = new Run(start.config, models, start.suppressions);
    post({ t: "ready" });
    // The kinds dealt to this thread (a line of another named its kind twice).
    const mine = new Set(
      Object.entries(GROUP_OF_KIND)
        .filter(([, group]) => threadOf(group, start.threads) === start.thread)
        .map(([kind]) => kind),
    );
    let line = 0;
    let clock = 0;
    // Where the clock moved on: the line, and the time it moved to (for "clocks"); 16 bytes
    // per event at most, against the kilobyte or so each event's actors hold in a replay.
    const movedAt: number[] = [];
    const movedTo: number[] = [];
    /** Feeds one line: null, or a promise to wait for; false when the lines must be redone. */
    const feed = (raw: string, num: number): Promise<void> | null | false => {
      line = num;
      if (raw.length === 0) return null;
      const e = run.parse(raw, line);
      if (!e) return null;
      if (!mine.has(e.kind)) {
        post({ t: "redo", why: `line ${line} is of kind "${e.kind}", dealt by another` });
        return false;
      }
      const waiting = run.feed(e, line);
      if (run.clock.now() > clock) {
        clock = run.clock.now();
        movedAt.push(line);
        movedTo.push(clock);
      }
      return waiting;
    };
    const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
    try {
      for (;;) {
        const m = await next();
        if (m.t === "end") break;
        if (m.t === "lines") {
          const { lines, nums } = m;
          for (let i = 0; i < lines.length; i++) {
            const waiting = feed(lines[i]!, nums[i]!);
            if (waiting === false) return;
            if (waiting) await waiting;
          }
          post({ t: "ack" });
        } else if (m.t === "bytes") {
          const text = decoder.decode(m.bytes.subarray(0, m.length));
          let start = 0;
          for (let i = 0; i < m.count; i++) {
            const nl = text.indexOf("\n", start);
            const waiting = feed(text.slice(start, nl).trim(), m.numbers[i]!);
            start = nl + 1;
            if (waiting === false) return;
            if (waiting) await waiting;
          }
          post({ t: "ack", bytes: m.bytes, numbers: m.numbers }, [
            m.bytes.buffer,
            m.numbers.buffer,
          ]);
        } else throw new Error(`A replay worker got "${m.t}" twice`);
      }
    } catch (err) {
      if (err instanceof OutOfOrder) {
        post({ t: "redo", why: `line ${line} is older than the line before it` });
        return;
      }
      throw err;
    }
    const r = await run.finish(false, t0, async (now) => {
      post({ t: "drained", now });
      const m = await next();
      if (m.t !== "end_at") throw new Error(`A replay worker waited for "end_at", got "${m.t}"`);
      return m.ms;
    });
    post({
      t: "done",
      events: r.events,
      invalid: r.invalid,
      late: r.late,
      alerts: r.alerts,
      dead_letters: r.dead_letters,
      letter_lines: r.dead_letters.map((d) => run.outbox.lineOf.get(d) ?? Infinity),
    });
    for (;;) {
      const m = await next();
      if (m.t !== "clocks") throw new Error(`A replay worker that is done got "${m.t}"`);
      post({ t: "clocks", ms: m.lines.map((l) => clockAt(movedAt, movedTo, l)) });
    }
  } finally {
    await models?.close();
  }
}

/** The clock as line `line` was handled: where it last moved at or before that line (0: never). */
function clockAt(movedAt: number[], movedTo: number[], line: number): number {
  let lo = 0, hi = movedAt.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (movedAt[mid]! <= line) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : movedTo[lo - 1]!;
}

// The main thread ends the worker once it has the result (or an error).
work().catch((err) => {
  post({ t: "error", message: err instanceof Error ? err.stack ?? err.message : String(err) });
});
