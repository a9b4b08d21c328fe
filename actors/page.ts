/**
 * The per-page actor (key `page`: click events, the clickstream seed): page views counted
 * in tumbling windows of event time (1 min), the closed ones kept for the API, and
 * `click.traffic_spike` when a window is far above the page's own baseline (docs/detections.md).
 *
 * A window closes when the partition's watermark passes its end (an event-time timer),
 * so late views within the allowed lateness still count, and a replay closes it at the
 * same point. Baselines are exponential averages of the closed windows' counts, quiet
 * minutes included: the recent one, and one per hour of the day and per hour of the week
 * (each moving with that hour's windows only), so the daily and weekly rhythm is expected.
 * A spike is a count far above what is expected for its hour, by a Poisson tail test with
 * a minimum count and ratio, so a busy minute of a quiet page raises nothing.
 *
 * @module
 */

import type { AlertLimits, PageRules } from "../config/defaults.ts";
import type { OtherEvent } from "../events/types.ts";
import type { ActorContext, Behaviour, Effect, Step } from "./types.ts";
import { NO_EFFECTS } from "./types.ts";
import { cooledDown } from "./window.ts";

/** The actor type name. */
export const PAGE = "page";

/** Messages a page actor understands. */
export type PageMessage =
  | { kind: "event"; event: OtherEvent }
  | { kind: "close"; start_ms: number };

/** A window: its start and its views. */
export type Window = readonly [start_ms: number, views: number];

/** A page's state. Never mutated: each turn returns a new one. */
export interface PageState {
  readonly views: number;
  /** Windows still open (the watermark has not passed their end), oldest first. */
  readonly open: readonly Window[];
  /** Closed windows, oldest first (at most `history_windows`). */
  readonly closed: readonly Window[];
  /** The baseline of closed windows' counts: how many, mean, variance. */
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
  /** Event time of the last spike alert (cool-down). */
  readonly spike_alert_ms: number | null;
  /** Views of the window last alerted (a much bigger one re-alerts within the cool-down). */
  readonly spike_alert_views: number;
  /**
   * Per hour of the day (24) and of the week (168): windows seen and their mean count,
   * interleaved (`[n0, mean0, n1, mean1, …]`); null before the first closed window.
   */
  readonly day?: readonly number[] | null;
  readonly week?: readonly number[] | null;
}

const INITIAL: PageState = Object.freeze({
  views: 0,
  open: Object.freeze([]),
  closed: Object.freeze([]),
  n: 0,
  mean: 0,
  variance: 0,
  spike_alert_ms: null,
  spike_alert_views: 0,
  day: null,
  week: null,
});

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The parameters a page actor reads on every turn. */
export interface PageParams {
  page: PageRules;
  alerts: AlertLimits;
}

/** Quiet windows counted into the baseline at most, between two views. */
const MAX_QUIET_WINDOWS = 1_440;

/** The page behaviour. */
export function pageBehaviour(params: PageParams): Behaviour<PageState, PageMessage> {
  return {
    type: PAGE,
    initial: () => INITIAL,
    receive: (state, message, ctx) => receive(state, message, ctx, params),
    view,
  };
}

function receive(s: PageState, m: PageMessage, ctx: ActorContext, p: PageParams): Step<PageState> {
  const size = p.page.window_ms;
  if (m.kind === "event") {
    const start = Math.floor(m.event.ts / size) * size;
    // A view for a window already closed (later than the allowed lateness) is counted in
    // the total only; the intake dead-letters what is older than the watermark anyway.
    if (s.closed.length > 0 && start <= s.closed[s.closed.length - 1]![0]) {
      return { state: { ...s, views: s.views + 1 }, effects: NO_EFFECTS };
    }
    const i = s.open.findIndex(([w]) => w === start);
    if (i >= 0) {
      const open = s.open.map((w, j): Window => j === i ? [w[0], w[1] + 1] : w);
      return { state: { ...s, views: s.views + 1, open }, effects: NO_EFFECTS };
    }
    const open = [...s.open, [start, 1] as Window].sort((a, b) => a[0] - b[0]);
    const timer: Effect = {
      kind: "timer",
      name: `close:${start}`,
      at_ms: start + size,
      message: { kind: "close", start_ms: start },
    };
    return { state: { ...s, views: s.views + 1, open }, effects: [timer] };
  }
  return close(s, m.start_ms, ctx.self.key, p);
}

/** Closes a window: quiet windows since the last closed one count as zeros. */
function close(s: PageState, start: number, key: string, p: PageParams): Step<PageState> {
  const w = s.open.find(([x]) => x === start);
  if (!w) return { state: s, effects: NO_EFFECTS };
  const r = p.page;
  let { n, mean, variance } = s;
  const day = s.day ? [...s.day] : new Array<number>(48).fill(0);
  const week = s.week ? [...s.week] : new Array<number>(336).fill(0);
  const closed = [...s.closed];
  const last = closed.length > 0 ? closed[closed.length - 1]![0] : null;
  if (last !== null) {
    const quiet = Math.min(MAX_QUIET_WINDOWS, Math.max(0, (start - last) / r.window_ms - 1));
    for (let k = 1; k <= quiet; k++) {
      [n, mean, variance] = add(n, mean, variance, 0, r);
      addSlot(day, hourOfDay(last + k * r.window_ms), 0, r);
      addSlot(week, hourOfWeek(last + k * r.window_ms), 0, r);
      if (k > quiet - r.history_windows) closed.push([last + k * r.window_ms, 0]);
    }
  }
  const views = w[1];
  const effects: Effect[] = [];
  // Counts vary at least as a Poisson count does (σ = √mean): a baseline from a few quiet
  // windows must not make an ordinary busy minute look like a spike.
  const std = Math.max(Math.sqrt(variance), Math.sqrt(mean));
  const expected = expectedViews(day, week, start, mean, n, r);
  const limit = Math.max(mean + r.spike_z * std, r.spike_ratio * expected.views);
  const p_value = poissonTail(views, Math.max(expected.views, MIN_RATE));
  // Within the cool-down only a window at least twice the last alerted one alerts again:
  // a small spike does not hide the big one after it.
  const cooled = cooledDown(s.spike_alert_ms, start, p.alerts.cooldown_ms) ||
    views >= 2 * s.spike_alert_views;
  let spike_alert_ms = s.spike_alert_ms;
  let spike_alert_views = s.spike_alert_views;
  const spike = n >= r.spike_min_windows && views >= r.spike_min_views && views > limit &&
    p_value <= r.spike_p_value;
  if (spike && cooled) {
    spike_alert_ms = start;
    spike_alert_views = views;
    effects.push({
      kind: "alert",
      alert: {
        decided: "watermark", // the window closes when the watermark passes its end
        rule: "click.traffic_spike",
        severity: "medium",
        entity: { type: PAGE, key },
        ts: start + r.window_ms - 1,
        evidence: {
          window_start: new Date(start).toISOString(),
          window_s: r.window_ms / 1000,
          views,
          expected: Math.round(expected.views * 100) / 100,
          expected_from: expected.from,
          ratio: Math.round(views / Math.max(expected.views, MIN_RATE) * 100) / 100,
          p_value: Number(p_value.toPrecision(3)),
          baseline_mean: Math.round(mean * 100) / 100,
          baseline_std: Math.round(std * 100) / 100,
          z: std > 0 ? Math.round((views - mean) / std * 100) / 100 : null,
          limit: Math.round(limit * 100) / 100,
          windows_of_history: n,
        },
        event_ids: [],
        dedup: String(start),
      },
    });
  }
  // A spike joins the baselines at the limit only, so one spike does not hide the next.
  const counted = spike ? limit : views;
  [n, mean, variance] = add(n, mean, variance, counted, r);
  addSlot(day, hourOfDay(start), counted, r);
  addSlot(week, hourOfWeek(start), counted, r);
  closed.push([start, views]);
  effects.push({ kind: "observe", name: "page_views", value: views });
  return {
    state: {
      ...s,
      open: s.open.filter(([x]) => x !== start),
      closed: closed.length > r.history_windows
        ? closed.slice(closed.length - r.history_windows)
        : closed,
      n,
      mean,
      variance,
      spike_alert_ms,
      spike_alert_views,
      day,
      week,
    },
    effects: effects.length > 0 ? effects : NO_EFFECTS,
  };
}

/** The least rate a count is tested against (a page quiet so far still has visitors). */
const MIN_RATE = 0.5;

/** The hour of the day (UTC) of a time, 0–23. */
function hourOfDay(ms: number): number {
  return Math.floor((((ms % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
}

/** The hour of the week of a time, 0–167 (from Thursday 00:00 UTC, as epoch day 0). */
function hourOfWeek(ms: number): number {
  return (((Math.floor(ms / DAY_MS) % 7) + 7) % 7) * 24 + hourOfDay(ms);
}

/** One more window of an hour's slot (`[n, mean]` pairs), as `add` moves the recent mean. */
function addSlot(slots: number[], hour: number, x: number, r: PageRules): void {
  const n = slots[2 * hour]! + 1;
  const w = Math.max(1 / n, 2 / (r.history_windows + 1));
  slots[2 * hour] = Math.min(n, 1_000_000);
  slots[2 * hour + 1] = slots[2 * hour + 1]! + w * (x - slots[2 * hour + 1]!);
}

/**
 * The views a window starting at `start` is expected to have: its hour of the week's mean
 * once that has `spike_min_windows` windows, else its hour of the day's, and never less than
 * the recent mean (a page growing through the day is not a spike).
 */
function expectedViews(
  day: readonly number[],
  week: readonly number[],
  start: number,
  recent: number,
  history: number,
  r: PageRules,
): { views: number; from: "hour_of_week" | "hour_of_day" | "recent" } {
  const w = hourOfWeek(start), d = hourOfDay(start);
  const windows = history * r.window_ms; // event time the baselines have seen
  // An hour's slot speaks for that hour once it holds a day (a week) of history before it.
  const seasonal = windows >= 7 * DAY_MS && week[2 * w]! >= r.spike_min_windows
    ? { views: week[2 * w + 1]!, from: "hour_of_week" as const }
    : windows >= DAY_MS && day[2 * d]! >= r.spike_min_windows
    ? { views: day[2 * d + 1]!, from: "hour_of_day" as const }
    : null;
  if (seasonal && seasonal.views >= recent) return seasonal;
  return { views: recent, from: "recent" };
}

/**
 * P(X ≥ k) for a Poisson count X of mean `lambda` > 0: the sum of its terms from k up
 * (in log space, so large counts neither overflow nor underflow), 1 for k ≤ 0.
 *
 * @example
 * ```ts
 * import { poissonTail } from "./page.ts";
 * poissonTail(12, 5); // ≈ 0.0055: 12 views in a minute of a page seen 5 times a minute
 * ```
 */
export function poissonTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (k <= lambda) {
    // The upper tail is most of the mass: 1 − P(X < k), summed from 0 up.
    let term = Math.exp(-lambda), sum = term;
    for (let i = 1; i < k; i++) sum += term *= lambda / i;
    return Math.max(0, 1 - sum);
  }
  let log = -lambda + k * Math.log(lambda) - logFactorial(k);
  let sum = 0;
  for (let i = k; i < k + 100_000; i++) {
    const term = Math.exp(log);
    sum += term;
    if (term < sum * 1e-12) break;
    log += Math.log(lambda / (i + 1));
  }
  return Math.min(1, sum);
}

/** ln(k!) (Stirling's series past 20; exact below). */
function logFactorial(k: number): number {
  if (k < 20) {
    let f = 0;
    for (let i = 2; i <= k; i++) f += Math.log(i);
    return f;
  }
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + 1 / (12 * k) -
    1 / (360 * k ** 3);
}

/** The baseline after one more window (exact at first, then over about `history_windows`). */
function add(n: number, mean: number, variance: number, x: number, r: PageRules) {
  const count = n + 1;
  const w = Math.max(1 / count, 2 / (r.history_windows + 1));
  const diff = x - mean;
  return [
    Math.min(count, 1_000_000),
    mean + w * diff,
    (1 - w) * (variance + w * diff * diff),
  ] as const;
}

/** A window as the API shows it. */
export interface WindowView {
  start: string;
  views: number;
}

/** A page actor's state as the API shows it. */
export interface PageView {
  views: number;
  open_windows: WindowView[];
  windows: WindowView[];
  baseline: { windows: number; mean: number; std: number };
}

function view(s: PageState): PageView {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    views: s.views,
    open_windows: s.open.map(([start, views]) => ({ start: iso(start), views })),
    windows: s.closed.map(([start, views]) => ({ start: iso(start), views })),
    baseline: {
      windows: s.n,
      mean: Math.round(s.mean * 100) / 100,
      std: Math.round(Math.sqrt(s.variance) * 100) / 100,
    },
  };
}
