/**
 * `POST /api/v1/events` says each item's verdict before it answers (issue 14, item 6):
 * accepted, invalid, oversized, late or future, judged by the intake's own rule; late
 * and future ones are dead-lettered with the answer's reason; an accepted event holds
 * its lanes' watermarks until the intake takes it, so it is not found late after all;
 * with the hold table full the answer is 503 with `Retry-After` and nothing is taken in.
 *
 * @module
 */

import assert from "node:assert/strict";
import { VirtualClock } from "../../actors/clock.ts";
import { USER } from "../../actors/user.ts";
import type { Config } from "../../config/defaults.ts";
import { loadConfig } from "../../config/load.ts";
import { INGEST_VERDICTS } from "../../engine/ingest_verdicts.ts";
import { VigilSystem } from "../../engine/system.ts";
import { post, TOKEN, waitFor, withSystem } from "./system.ts";
import { appOf } from "../../api/system_app.ts";

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const login = (user: string, ts: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: "auth",
    type: "login_failure",
    user_id: user,
    ip: "198.51.100.4",
    timestamp: iso(ts),
    ...extra,
  });

Deno.test("POST /api/v1/events gives each item its verdict: accepted, late, future, invalid, oversized in one request", async () => {
  await withSystem(async (system) => {
    const now = Date.now();
    // A login and a payment (the user lane's two topics) move user w's lane to now − the
    // allowed lateness once consumed.
    const payment = {
      kind: "transaction",
      user_id: "w",
      account_id: "acc-w",
      type: "payment",
      amount: 5,
      currency: "EUR",
      timestamp: iso(now),
    };
    const first = await post(
      system,
      "/api/v1/events",
      `[${login("w", now, { event_id: "w-now" })},${JSON.stringify(payment)}]`,
    );
    assert.equal(first.status, 202, first.text);
    await waitFor(
      "w's first event to be taken",
      () => Promise.resolve(system.runtime.holding ? undefined : true),
    );
    const p = system.runtime.partitionFor("w");
    assert.equal(system.runtime.watermark(p, USER), now - MINUTE);

    const body = [
      login("w", now, { event_id: "ok-1" }),
      login("w", now - 10 * MINUTE, { event_id: "late-1" }),
      login("w", now + 60 * MINUTE, { event_id: "future-1" }),
      JSON.stringify({ kind: "auth", type: "login_failure", timestamp: iso(now) }),
      login("w", now, { event_id: "big-1", user_agent: "x".repeat(600) }),
    ].join("\n");
    const r = await post(system, "/api/v1/events", body, "application/x-ndjson");
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.accepted, 1);
    assert.equal(r.json.rejected, 4);
    assert.equal(r.json.forwarded, 0);
    const items = r.json.items as {
      index: number;
      verdict: string;
      event_id?: string;
      reason?: string;
    }[];
    assert.deepEqual(items.map((i) => [i.index, i.verdict, i.event_id]), [
      [0, "accepted", "ok-1"],
      [1, "late", "late-1"],
      [2, "future", "future-1"],
      [3, "invalid", undefined],
      [4, "oversized", "big-1"],
    ]);
    assert.equal(items[0]!.reason, undefined);
    assert.equal(
      items[1]!.reason,
      `Cannot accept event late-1: it is ${9 * MINUTE} ms older than the user watermark ` +
        `of partition ${p} (past the allowed lateness)`,
    );
    assert.match(
      items[2]!.reason!,
      /^Cannot accept event future-1: its time is \d+ ms ahead of the clock/,
    );
    assert.match(items[3]!.reason!, /user_id/);
    assert.match(items[4]!.reason!, /exceeds the limit of 500/);
    // The errors list says the same of the rejected, as before.
    assert.deepEqual(
      r.json.errors.map((e: { index: number }) => e.index),
      [1, 2, 3, 4],
    );
    assert.equal(r.json.errors[0].reason, items[1]!.reason);

    // Dead-lettered at once, each with its category and the answer's reason.
    const letters = await system.store.findDeadLetters(20);
    const byCategory = (c: string) => letters.filter((d) => d.category === c);
    assert.equal(byCategory("late").length, 1);
    assert.equal(byCategory("late")[0]!.reason, items[1]!.reason);
    assert.equal(byCategory("late")[0]!.source, "http[1]");
    assert.equal(byCategory("future").length, 1);
    assert.equal(byCategory("future")[0]!.reason, items[2]!.reason);
    assert.equal(byCategory("invalid").length, 1);
    assert.equal(byCategory("oversized").length, 1);

    // The accepted one reaches its actor and nothing more is dead-lettered.
    await waitFor(
      "ok-1 to be taken",
      () => Promise.resolve(system.runtime.holding ? undefined : true),
    );
    const state = await system.runtime.stateOf(USER, "w") as { recent_failures: number };
    assert.equal(state.recent_failures, 2);
    assert.equal((await system.store.findDeadLetters(20)).length, 4);
  }, (c) => {
    c.max_event_bytes = 500;
  });
});

/** A system with its topics but no consumer yet: what is posted waits in the log. */
async function unstarted(tune: (c: Config) => void = () => {}) {
  const config = loadConfig({});
  tune(config);
  const clock = new VirtualClock(Date.now());
  const system = new VigilSystem({ config, token: TOKEN, clock });
  await system.log.ensureTopics(system.topics.all, config.runtime.partitions);
  return { system, clock };
}

Deno.test("an accepted event holds its lane until the intake takes it: the watermark moving on meanwhile does not make it late", async () => {
  const { system, clock } = await unstarted();
  const t = clock.now();
  const r = await post(system, "/api/v1/events", login("held", t, { event_id: "held-1" }));
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.items[0].verdict, "accepted");
  const p = system.runtime.partitionFor("held");
  // Before it is consumed, the lane hears of events ten minutes on (another topic of
  // the same lane, consumed first): held at the event's time, not moved past it.
  system.runtime.advanceWatermark(p, t + 10 * MINUTE, USER);
  assert.equal(system.runtime.watermark(p, USER), t);
  await system.start({ simulate: false });
  try {
    await waitFor("held-1 to be taken", async () => {
      const s = await system.runtime.stateOf(USER, "held") as
        | { recent_failures?: number }
        | undefined;
      return s?.recent_failures === 1 ? s : undefined;
    });
    await waitFor(
      "every hold to be released",
      () => Promise.resolve(system.runtime.holding ? undefined : true),
    );
    assert.deepEqual(await system.store.findDeadLetters(10), [], "not dead-lettered as late");
    assert.equal(
      system.runtime.watermark(p, USER),
      t + 9 * MINUTE,
      "released: on where it was going",
    );
  } finally {
    await system.stop();
  }
});

Deno.test("POST /api/v1/events is a 503 with Retry-After when the hold table is full, and takes nothing in", async () => {
  const { system, clock } = await unstarted((c) => {
    c.api.max_events_per_request = 2;
    c.api.max_watermark_holds = 4;
    c.api.max_hold_ms = 30_000;
  });
  try {
    const t = clock.now();
    // Two login attempts: each holds its user's lane and its IP's (4 holds).
    const two = [login("a", t), login("b", t)].join("\n");
    const r = await post(system, "/api/v1/events", two, "application/x-ndjson");
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.json.items.map((i: { verdict: string }) => i.verdict), [
      "accepted",
      "accepted",
    ]);
    clock.advance(10_000);
    const full = await appOf(system).request("/api/v1/events", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: login("c", t),
    });
    assert.equal(full.status, 503);
    assert.equal(full.headers.get("retry-after"), "20", "when the oldest hold runs out");
    const error = (await full.json()).error as string;
    assert.match(error, /^Cannot take in 1 events now: 4 accepted events are still waiting/);
    assert.match(error, /VIGIL_API_MAX_WATERMARK_HOLDS/);
    assert.deepEqual(await system.store.findDeadLetters(10), [], "nothing dead-lettered");
    // Once the holds have run out there is room again.
    clock.advance(20_000);
    system.runtime.expireHolds();
    const later = await post(system, "/api/v1/events", login("c", t));
    assert.equal(later.status, 202, later.text);
    assert.equal(later.json.items[0].verdict, "accepted");
  } finally {
    await system.stop();
  }
});

Deno.test("GET /openapi.json describes the ingest answer's items, their verdicts and the 503", async () => {
  await withSystem(async (system) => {
    const doc = await (await appOf(system).request("/openapi.json")).json();
    const responses = doc.paths["/api/v1/events"].post.responses;
    const ref = responses["202"].content["application/json"].schema.$ref as string;
    const schema = doc.components.schemas[ref.replace("#/components/schemas/", "")];
    for (const field of ["accepted", "rejected", "errors", "forwarded", "items"]) {
      assert.ok(schema.required.includes(field), field);
    }
    const item = schema.properties.items.items;
    assert.deepEqual(item.required, ["index", "verdict"]);
    const verdicts = item.properties.verdict.enum as string[];
    for (const v of ["accepted", "invalid", "oversized", "late", "future", "forwarded"]) {
      assert.ok(verdicts.includes(v), v);
    }
    assert.deepEqual(verdicts, [...INGEST_VERDICTS]);
    assert.ok(item.properties.reason && item.properties.event_id);
    assert.match(responses["503"].description, /VIGIL_API_MAX_WATERMARK_HOLDS/);
  });
});
