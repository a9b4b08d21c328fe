/**
 * Replay on worker threads: the main thread reads the lines and deals each to the worker
 * that runs its kind's group (`GROUP_OF_KIND`); each worker runs its own actors over its
 * lines (`replay_worker.ts`), and the results are merged. The groups share no actor and
 * send each other nothing (users and IPs; network sources; services and pages), and each
 * keeps its events in file order, so the alerts are the ones a replay on one thread
 * raises, in the same order.
 *
 * A line's kind is read from its opening `{"kind":"…"` without parsing it; a line that
 * does not open so (or names `"kind"` twice) is parsed here to find it, and one that
 * cannot be goes to the first group, whose worker dead-letters it with its reason.
 *
 * If a worker finds its events out of event-time order, the workers stop and the replay
 * runs again on this thread, which sorts the file first.
 *
 * @module
 */

import type { Suppression } from "./suppressions.ts";
import type { Config } from "../config/defaults.ts";
import type { DeadLetter, EventKind } from "../events/types.ts";
import type { ModelService } from "../models/service.ts";
import {
  byTimeThenId,
  type FileLines,
  type LineSource,
  replay,
  type ReplayResult,
} from "./replay.ts";
import { roomFor, wholeLines } from "./line_reader.ts";
import { type FromWorker, GROUPS, threadOf, type ToWorker } from "./replay_protocol.ts";
import { GROUP_OF_KIND } from "../actors/route.ts";

const OPENING = '{"kind":"';

/** Each kind's name with its closing quote, and its group, by the name's first character. */
const BY_FIRST = new Map<number, [string, number][]>();
for (const [kind, group] of Object.entries(GROUP_OF_KIND)) {
  const c = kind.charCodeAt(0);
  if (!BY_FIRST.has(c)) BY_FIRST.set(c, []);
  BY_FIRST.get(c)!.push([kind + '"', group]);
}

/**
 * The group a line goes to (0 when its kind cannot be told: its worker says why). A line
 * that names its kind twice goes by the first; its worker finds that out (`misdealt`).
 */
export function groupOfLine(line: string): number {
  if (line.startsWith(OPENING)) {
    const names = BY_FIRST.get(line.charCodeAt(OPENING.length));
    if (names) {
      for (const [name, group] of names) if (line.startsWith(name, OPENING.length)) return group;
    }
  }
  try {
    const kind = (JSON.parse(line) as { kind?: unknown } | null)?.kind;
    // Own kinds only: a kind named `constructor` is no kind (its worker says why).
    return typeof kind === "string" && Object.hasOwn(GROUP_OF_KIND, kind)
      ? GROUP_OF_KIND[kind as EventKind]
      : 0;
  } catch {
    return 0;
  }
}

const OPENING_BYTES = new TextEncoder().encode(OPENING);

/** `BY_FIRST` in UTF-8. */
const BYTES_BY_FIRST = new Map<number, [Uint8Array, number][]>(
  [...BY_FIRST].map(([c, names]) => [
    c,
    names.map(([name, group]) => [new TextEncoder().encode(name), group]),
  ]),
);

/**
 * `groupOfLine` of the line in `b[start, end)` (no newline), read from its bytes; -1 for a
 * blank line. A line that does not open with its kind is decoded to be parsed.
 */
export function groupOfBytes(
  b: Uint8Array,
  start: number,
  end: number,
  decoder: TextDecoder,
): number {
  const at = start + OPENING_BYTES.length;
  if (at < end && startsWith(b, at - OPENING_BYTES.length, end, OPENING_BYTES)) {
    const names = BYTES_BY_FIRST.get(b[at]!);
    if (names) {
      for (const [name, group] of names) if (startsWith(b, at, end, name)) return group;
    }
  }
  const line = decoder.decode(b.subarray(start, end)).trim();
  return line.length === 0 ? -1 : groupOfLine(line);
}

function startsWith(b: Uint8Array, at: number, end: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > end) return false;
  for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix[i]) return false;
  return true;
}

/** A worker could not run its lines apart from the others' (see `FromWorker`). */
class Redo extends Error {}

/** One worker thread and the lines waiting to be dealt to it. */
class Lane {
  readonly worker: Worker;
  lines: string[] = [];
  nums: number[] = [];
  /** Lines of a file held as bytes, each ending in a newline; their numbers, how many. */
  #bytes: Uint8Array<ArrayBuffer> | null = null;
  #length = 0;
  #numbers: Float64Array<ArrayBuffer> | null = null;
  #held = 0;
  /** Buffers the worker handed back, to be filled again. */
  #spare: { bytes: Uint8Array<ArrayBuffer>; numbers: Float64Array<ArrayBuffer> }[] = [];
  /** Set as soon as the worker fails (or finds its events out of order). */
  failed = false;
  #unacked = 0;
  #room: (() => void) | null = null;
  #clocks: { resolve: (ms: number[]) => void; reject: (err: Error) => void } | null = null;
  #ready: Promise<void>;
  readonly done: Promise<Extract<FromWorker, { t: "done" }>>;
  /** The worker's clock once it has handled every line. */
  readonly drained: Promise<number>;

  constructor(
    thread: number,
    threads: number,
    config: Config,
    models: ModelService | null,
    readonly maxInFlight: number,
    suppressions: readonly Suppression[] = [],
  ) {
    this.worker = new Worker(new URL("./replay_worker.ts", import.meta.url).href, {
      type: "module",
    });
    let ready!: () => void;
    this.#ready = new Promise<void>((r) => ready = r);
    let drained!: (now: number) => void;
    this.drained = new Promise<number>((r) => drained = r);
    this.done = new Promise((resolve, reject) => {
      this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        switch (m.t) {
          case "ready":
            ready();
            return;
          case "ack": {
            if (m.bytes && m.numbers) this.#spare.push({ bytes: m.bytes, numbers: m.numbers });
            this.#unacked--;
            const room = this.#room;
            this.#room = null;
            room?.();
            return;
          }
          case "drained":
            drained(m.now);
            return;
          case "done":
            resolve(m);
            return;
          case "clocks":
            this.#clocks?.resolve(m.ms);
            this.#clocks = null;
            return;
          case "redo":
            this.failed = true;
            reject(new Redo(m.why));
            break;
          case "error":
            this.#fail(reject, `A replay worker failed: ${m.message}`);
            return;
        }
        // Nothing more comes: let a sender waiting for room go on (to find the failure).
        this.#room?.();
      };
      this.worker.onerror = (e) => {
        e.preventDefault();
        this.#fail(reject, `A replay worker failed: ${e.message}`);
      };
    });
    // A failure is seen where `done` is awaited; never as an unhandled rejection.
    this.done.catch(() => {});
    const start: ToWorker = {
      t: "start",
      config,
      suppressions: [...suppressions],
      thread,
      threads,
      models: models && { settings: models.settings, versions: models.activeVersions() },
    };
    this.worker.postMessage(start);
  }

  /** The worker failed: whatever waits on it is told (its result, room, its clocks). */
  #fail(reject: (err: Error) => void, message: string): void {
    this.failed = true;
    const err = new Error(message);
    reject(err);
    this.#clocks?.reject(err);
    this.#clocks = null;
    this.#room?.();
  }

  /** Waits while `maxInFlight` chunks are unanswered. */
  async #roomFor(): Promise<void> {
    await Promise.race([this.#ready, this.done]);
    while (this.#unacked >= this.maxInFlight && !this.failed) {
      await new Promise<void>((r) => this.#room = r);
    }
  }

  /** Deals out the lines held, waiting while `maxInFlight` chunks are unanswered. */
  async send(): Promise<void> {
    if (this.lines.length === 0) return;
    await this.#roomFor();
    const m: ToWorker = { t: "lines", lines: this.lines, nums: Float64Array.from(this.nums) };
    this.lines = [];
    this.nums = [];
    this.#unacked++;
    this.worker.postMessage(m);
  }

  /** Lines held as bytes. */
  get held(): number {
    return this.#held;
  }

  /** Holds line number `line`, the bytes `src[start, end)`, to deal as bytes (of `chunk`). */
  take(src: Uint8Array, start: number, end: number, line: number, chunk: number): void {
    const n = end - start + 1;
    if (this.#bytes === null || this.#numbers === null) {
      const spare = this.#spare.pop();
      this.#bytes = spare?.bytes ?? new Uint8Array(Math.max(1 << 20, n));
      this.#numbers = spare?.numbers ?? new Float64Array(chunk);
    }
    this.#bytes = roomFor(this.#bytes, this.#length, this.#length + n);
    if (this.#held === this.#numbers.length) {
      const more = new Float64Array(this.#numbers.length * 2);
      more.set(this.#numbers);
      this.#numbers = more;
    }
    this.#bytes.set(src.subarray(start, end), this.#length);
    this.#length += n;
    this.#bytes[this.#length - 1] = 10;
    this.#numbers[this.#held++] = line;
  }

  /** Deals out the lines held as bytes (the buffers move to the worker, and come back). */
  async sendBytes(): Promise<void> {
    if (this.#held === 0 || this.#bytes === null || this.#numbers === null) return;
    await this.#roomFor();
    const m: ToWorker = {
      t: "bytes",
      bytes: this.#bytes,
      length: this.#length,
      numbers: this.#numbers,
      count: this.#held,
    };
    this.#bytes = this.#numbers = null;
    this.#length = this.#held = 0;
    this.#unacked++;
    this.worker.postMessage(m, [m.bytes.buffer, m.numbers.buffer]);
  }

  /** The worker's clock as each of these lines was handled (after its result). */
  clocksAt(lines: number[]): Promise<number[]> {
    if (this.failed) return Promise.reject(new Error("A replay worker failed before its clocks"));
    const answer = new Promise<number[]>((resolve, reject) => this.#clocks = { resolve, reject });
    this.worker.postMessage({ t: "clocks", lines } satisfies ToWorker);
    return answer;
  }

  end(): void {
    this.worker.postMessage({ t: "end" } satisfies ToWorker);
  }
}

/**
 * Replays a line source as `replay` does, on `config.runtime.replay_threads` threads
 * (below 2: on this one). `models` says which models score, at which versions: each worker
 * loads the same versions from the same folder.
 */
export async function replayThreaded(
  source: LineSource,
  config: Config,
  models: ModelService | null = null,
  suppressions: readonly Suppression[] = [],
): Promise<ReplayResult> {
  if (config.runtime.replay_threads < 2) return replay(source, config, models, suppressions);
  const t0 = performance.now();
  const chunk = Math.max(1, config.runtime.replay_chunk_lines);
  const threads = Math.min(config.runtime.replay_threads, GROUPS);
  const lanes = Array.from(
    { length: threads },
    (_, thread) =>
      new Lane(
        thread,
        threads,
        config,
        models,
        Math.max(1, config.runtime.replay_chunks_in_flight),
        suppressions,
      ),
  );
  const laneOf = Array.from({ length: GROUPS }, (_, g) => threadOf(g, threads));
  const failed = () => lanes.some((l) => l.failed);
  try {
    if (isFile(source)) await dealFile(source, lanes, laneOf, chunk, failed);
    else {
      let line = 0;
      reading: for await (const lines of source()) {
        for (const raw of lines) {
          line++;
          if (raw.length === 0) continue;
          const lane = lanes[laneOf[groupOfLine(raw)]!]!;
          lane.lines.push(raw);
          lane.nums.push(line);
          if (lane.lines.length < chunk) continue;
          await lane.send();
          if (failed()) break reading;
        }
      }
    }
    if (!failed()) {
      for (const lane of lanes) {
        await lane.send();
        await lane.sendBytes();
      }
    }
    for (const lane of lanes) lane.end();
    // Event time ends where the whole input's did: time-driven work still to do when
    // the input runs out is raised at that time on every thread, as on one.
    // (A worker that fails meanwhile ends the wait: `done` rejects.)
    const ends = await Promise.race([
      Promise.all(lanes.map((l) => l.drained)),
      Promise.all(lanes.map((l) => l.done)).then(() => [] as number[]),
    ]);
    const ms = Math.max(...ends);
    for (const lane of lanes) lane.worker.postMessage({ t: "end_at", ms } satisfies ToWorker);
    const parts = await Promise.all(lanes.map((l) => l.done));
    await timeLetters(lanes, parts);
    return merge(parts, t0, config.memory_store_max_dead_letters);
  } catch (err) {
    if (!(err instanceof Redo)) throw err;
    for (const lane of lanes) lane.worker.terminate();
    const r = await replay(source, config, models, suppressions);
    return { ...r, ms: performance.now() - t0 };
  } finally {
    for (const lane of lanes) lane.worker.terminate();
  }
}

function isFile(source: LineSource): source is FileLines {
  return typeof (source as Partial<FileLines>).path === "string";
}

/**
 * Deals a file's lines to the lanes as bytes: each line is found by its newline, its
 * group read from its opening bytes, and its bytes copied to its lane's buffer; the
 * workers decode them. Lines are numbered as `linesOfFile` numbers them (a byte order mark
 * at the start is skipped; blank lines count but are not dealt; a line too long to hold
 * is dealt as its stand-in, to the first group).
 */
async function dealFile(
  source: FileLines,
  lanes: Lane[],
  laneOf: number[],
  chunk: number,
  failed: () => boolean,
): Promise<void> {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  let line = 0;
  let first = true;
  const lines = wholeLines(source.path, source.chunk_bytes, source.max_line_bytes, source.onRead);
  for await (const buf of lines) {
    const end = buf.length;
    let start = 0;
    if (first) {
      first = false;
      if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
    }
    while (start < end) {
      let nl = buf.indexOf(10, start);
      if (nl < 0) nl = end; // the last line, without a newline
      line++;
      const group = groupOfBytes(buf, start, nl, decoder);
      if (group >= 0) {
        const lane = lanes[laneOf[group]!]!;
        lane.take(buf, start, nl, line, chunk);
        if (lane.held >= chunk) {
          await lane.sendBytes();
          if (failed()) return;
        }
      }
      start = nl + 1;
    }
  }
}

/**
 * A dead letter is timed by the clock, which on one thread is the latest event time of
 * every line before it; a worker saw only its own lines. So a letter written at line L
 * is timed by the latest clock any worker had at L.
 */
async function timeLetters(
  lanes: Lane[],
  parts: Extract<FromWorker, { t: "done" }>[],
): Promise<void> {
  const lines = [...new Set(parts.flatMap((p) => p.letter_lines.filter(Number.isFinite)))];
  if (lines.length === 0) return;
  const clocks = await Promise.all(lanes.map((l) => l.clocksAt(lines)));
  const at = new Map(lines.map((l, i) => [l, Math.max(...clocks.map((c) => c[i]!))]));
  for (const p of parts) {
    p.dead_letters.forEach((d, i) => {
      const ms = at.get(p.letter_lines[i]!);
      if (ms !== undefined) d.at = new Date(ms).toISOString();
    });
  }
}

function merge(
  parts: Extract<FromWorker, { t: "done" }>[],
  t0: number,
  max_letters: number,
): ReplayResult {
  const letters: { d: DeadLetter; line: number; part: number; i: number }[] = [];
  parts.forEach((p, part) =>
    p.dead_letters.forEach((d, i) => letters.push({ d, line: p.letter_lines[i]!, part, i }))
  );
  letters.sort((a, b) => a.line - b.line || a.part - b.part || a.i - b.i);
  // Each worker kept its newest; together, the newest as one store keeps them.
  if (letters.length > max_letters) letters.splice(0, letters.length - max_letters);
  return {
    events: parts.reduce((n, p) => n + p.events, 0),
    invalid: parts.reduce((n, p) => n + p.invalid, 0),
    late: parts.reduce((n, p) => n + p.late, 0),
    alerts: parts.flatMap((p) => p.alerts).sort(byTimeThenId),
    dead_letters: letters.map((l) => l.d),
    sorted: false,
    threads: parts.length,
    ms: performance.now() - t0,
  };
}
