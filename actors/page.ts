/**
 * The per-page actor (key `page`: click events, the clickstream seed): page views counted
 * in tumbling windows of event time (1 min), the closed ones kept for the API, and
 * `click.traffic_spike` when a window is far above the page's own baseline (DETECTIONS.md).
 *
 * A window closes when the partition's watermark passes its end (an event-time timer),
 * so late views within the allowed lateness still count, and a replay closes it at the
 * same point. The baseline is an exponential average of the closed windows' counts,
 * quiet minutes included.
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
});

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
  const closed = [...s.closed];
  const last = closed.length > 0 ? closed[closed.length - 1]![0] : null;
  if (last !== null) {
    const quiet = Math.min(MAX_QUIET_WINDOWS, Math.max(0, (start - last) / r.window_ms - 1));
    for (let k = 1; k <= quiet; k++) {
      [n, mean, variance] = add(n, mean, variance, 0, r);
      if (k > quiet - r.history_windows) closed.push([last + k * r.window_ms, 0]);
    }
  }
  const views = w[1];
  const effects: Effect[] = [];
  // Counts vary at least as a Poisson count does (σ = √mean): a baseline from a few quiet
  // windows must not make an ordinary busy minute look like a spike.
  const std = Math.max(Math.sqrt(variance), Math.sqrt(mean));
  const limit = mean + r.spike_z * std;
  // Within the cool-down only a window at least twice the last alerted one alerts again:
  // a small spike does not hide the big one after it.
  const cooled = cooledDown(s.spike_alert_ms, start, p.alerts.cooldown_ms) ||
    views >= 2 * s.spike_alert_views;
  let spike_alert_ms = s.spike_alert_ms;
  let spike_alert_views = s.spike_alert_views;
  if (n >= r.spike_min_windows && views >= r.spike_min_views && views > limit && cooled) {
    spike_alert_ms = start;
    spike_alert_views = views;
    effects.push({
      kind: "alert",
      alert: {
        rule: "click.traffic_spike",
        severity: "medium",
        entity: { type: PAGE, key },
        ts: start + r.window_ms - 1,
        evidence: {
          window_start: new Date(start).toISOString(),
          window_s: r.window_ms / 1000,
          views,
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
  // A spike joins the baseline at the limit only, so one spike does not hide the next.
  const over = n >= r.spike_min_windows && views > limit;
  [n, mean, variance] = add(n, mean, variance, over ? limit : views, r);
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
    },
    effects: effects.length > 0 ? effects : NO_EFFECTS,
  };
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

function view(s: PageState): unknown {
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
