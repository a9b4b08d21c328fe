import assert from "node:assert/strict";
import { pageBehaviour, type PageMessage, type PageState } from "../../actors/page.ts";
import type { ActorContext, AlertDraft, Effect } from "../../actors/types.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { linesOf, replay } from "../../engine/replay.ts";
import type { OtherEvent } from "../../events/types.ts";

const SEC = 1_000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2024, 0, 1, 12);
const CTX = { self: { type: "page", key: "/pay" }, watermark_ms: 0 } as ActorContext;

const view = (id: string, ts: number): PageMessage => ({
  kind: "event",
  event: { kind: "click", event_id: id, ts, raw: { page: "/pay", session_id: "s" } } as OtherEvent,
});
const close = (start_ms: number): PageMessage => ({ kind: "close", start_ms });

function feed(messages: PageMessage[], c = structuredClone(defaults) as Config) {
  const b = pageBehaviour(c);
  let s: PageState = b.initial("/pay");
  const alerts: AlertDraft[] = [];
  const timers: number[] = [];
  for (const m of messages) {
    const step = b.receive(s, m, CTX);
    s = step.state;
    for (const e of step.effects as Effect[]) {
      if (e.kind === "alert") alerts.push(e.alert);
      if (e.kind === "timer" && "at_ms" in e) timers.push(e.at_ms);
    }
  }
  return { state: s, alerts, timers };
}

/** Views of `n` per minute for `minutes` minutes from `start`, each window closed after. */
function traffic(perMinute: number[], start = T0): PageMessage[] {
  const out: PageMessage[] = [];
  perMinute.forEach((n, m) => {
    for (let i = 0; i < n; i++) out.push(view(`v${m}-${i}`, start + m * MIN + i * (MIN / (n + 1))));
    if (n > 0) out.push(close(start + m * MIN));
  });
  return out;
}

Deno.test("page views are counted in 1-minute tumbling windows, closed by an event-time timer", () => {
  const { state, timers } = feed([
    view("a", T0 + 5 * SEC),
    view("b", T0 + 59 * SEC),
    view("c", T0 + MIN),
  ]);
  assert.deepEqual(state.open, [[T0, 2], [T0 + MIN, 1]]);
  assert.deepEqual(timers, [T0 + MIN, T0 + 2 * MIN], "one timer per window, at its end");
  const closed = feed([
    view("a", T0 + 5 * SEC),
    view("c", T0 + MIN),
    close(T0),
    view("late", T0 + 58 * SEC),
  ]);
  assert.deepEqual(closed.state.closed, [[T0, 1]]);
  assert.equal(closed.state.views, 3, "a view for a closed window counts in the total only");
});

Deno.test("quiet minutes between windows count as zeros in the baseline and the history", () => {
  const { state } = feed([view("a", T0), close(T0), view("b", T0 + 4 * MIN), close(T0 + 4 * MIN)]);
  assert.deepEqual(state.closed.map(([, n]) => n), [1, 0, 0, 0, 1]);
  assert.equal(state.n, 5);
});

Deno.test("click.traffic_spike fires for a window far above the page's baseline, after 30 windows", () => {
  const steady = Array.from({ length: 40 }, (_, i) => 20 + (i % 5));
  const { alerts } = feed(traffic([...steady, 80]));
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, "click.traffic_spike");
  assert.deepEqual(a.entity, { type: "page", key: "/pay" });
  assert.equal(a.evidence.views, 80);
  assert.equal(a.evidence.window_start, new Date(T0 + 40 * MIN).toISOString());
  assert.deepEqual(feed(traffic([...steady, 26])).alerts, [], "within the page's own range");
  assert.deepEqual(
    feed(traffic([...steady.slice(0, 20), 80])).alerts,
    [],
    "20 windows: no baseline",
  );
  const quietPage = Array.from({ length: 40 }, () => 1);
  assert.deepEqual(feed(traffic([...quietPage, 9])).alerts, [], "fewer than 10 views is no spike");
});

Deno.test("click events reach the page's actor in a replay, and windows close as event time passes", async () => {
  const lines: string[] = [];
  for (let m = 0; m < 45; m++) {
    const n = m === 40 ? 90 : 20 + (m % 3);
    for (let i = 0; i < n; i++) {
      lines.push(JSON.stringify({
        kind: "click",
        timestamp: new Date(T0 + m * MIN + Math.floor(i * MIN / n)).toISOString(),
        session_id: `s${i}`,
        page: "/checkout",
        latency_ms: 120,
      }));
    }
  }
  const r = await replay(linesOf(lines.join("\n")), structuredClone(defaults) as Config);
  assert.equal(r.invalid, 0);
  assert.deepEqual(r.alerts.map((a) => `${a.rule}/${a.entity.key}`), [
    "click.traffic_spike//checkout",
  ]);
  assert.equal(r.alerts[0]!.evidence.views, 90);
});

Deno.test("click.traffic_spike: a count must be three times what is expected and unlikely for a Poisson count; a spike joins the baseline at the limit; a spike twice the last re-alerts", () => {
  // A steady 100 a minute: 250 is far above 100 ± 3·√100, but less than three times it.
  const steady = Array.from({ length: 40 }, () => 100);
  assert.deepEqual(feed(traffic([...steady, 250])).alerts, [], "under three times the mean");
  const [alert] = feed(traffic([...steady, 301])).alerts;
  assert.ok(alert, "above three times the mean");
  assert.equal(alert.evidence.expected_from, "recent");
  assert.ok((alert.evidence.p_value as number) < 1e-30, `p ${alert.evidence.p_value}`);
  // A quiet page's busy minute: 12 views against 4 is three times, but not unlikely enough.
  const quiet = Array.from({ length: 40 }, (_, i) => 3 + (i % 3));
  assert.deepEqual(feed(traffic([...quiet, 12])).alerts, [], "12 against 4: a busy minute");
  assert.equal(feed(traffic([...quiet, 30])).alerts.length, 1, "30 against 4");
  // After a spike the baseline is not inflated: a second spike 20 min later is found.
  const twice = feed(traffic([...steady, 5_000, ...Array(20).fill(100), 5_000]));
  assert.equal(twice.alerts.length, 2);
  assert.ok((twice.state.mean as number) < 130, `mean ${twice.state.mean}`);
  // Within the cool-down a small spike then a big one: the big one alerts too.
  const small = feed(traffic([...steady, 400, 100, 100, 1_000]));
  assert.deepEqual(small.alerts.map((a) => a.evidence.views), [400, 1_000]);
  const similar = feed(traffic([...steady, 400, 100, 100, 600]));
  assert.deepEqual(similar.alerts.map((a) => a.evidence.views), [400], "not twice: cool-down");
});

Deno.test("click.traffic_spike: the daily rhythm raises nothing once a day is seen; a spike at the same hour the next day does", () => {
  // Views per minute through a day: 2 at night, rising to 60 at 10:00 in an hour, easing
  // off through the evening (a bank's site); two days, the second the same.
  const at = (minute: number) => {
    const h = (minute % 1_440) / 60;
    return h < 7 ? 2 : h < 8 ? Math.round(2 + 58 * (h - 7)) : h < 18 ? 60 : h < 22 ? 30 : 2;
  };
  const midnight = Date.UTC(2024, 0, 1);
  const days = Array.from({ length: 2 * 1_440 }, (_, m) => at(m));
  const rhythm = feed(traffic(days, midnight));
  assert.deepEqual(rhythm.alerts.map((a) => a.evidence.window_start), [], "two days of rhythm");
  // The steep morning rise alone, on the first morning, is within the recent baseline too;
  // a spike at 07:30 on the second day is judged against that hour's own count.
  const spiked = [...days];
  spiked[1_440 + 7 * 60 + 30] = 250;
  const [alert, ...more] = feed(traffic(spiked, midnight)).alerts;
  assert.deepEqual(more, []);
  assert.equal(alert?.evidence.expected_from, "hour_of_day");
  assert.equal(alert?.evidence.views, 250);
});
