/**
 * `GET /api/v1/events` through a real system on the in-memory store: events posted to
 * the API come back by kind, user, address, account, service, page and time range,
 * newest first, a page at a time through `next`; a bad cursor, time or kind is a 400
 * with a message, and the route needs a principal.
 *
 * @module
 */

import assert from "node:assert/strict";
import { post, request, waitFor, withSystem } from "./system.ts";
import { rollupRange } from "../../engine/rollup_job.ts";
import { appOf } from "../../api/system_app.ts";

const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("GET /api/v1/events: filters, time range and paging over the archive", async () => {
  await withSystem(async (system) => {
    const now = Date.now();
    const t = (minutes_ago: number) => iso(now - minutes_ago * 60_000);
    const events = [
      {
        kind: "auth",
        type: "login_failure",
        event_id: "q1",
        user_id: "qa",
        ip: "203.0.113.5",
        timestamp: t(50),
      },
      {
        kind: "auth",
        type: "login_success",
        event_id: "q2",
        user_id: "qa",
        ip: "203.0.113.5",
        timestamp: t(40),
      },
      {
        kind: "transaction",
        event_id: "q3",
        user_id: "qa",
        account_id: "acc-qa",
        type: "payment",
        amount: 12,
        currency: "EUR",
        timestamp: t(30),
      },
      {
        kind: "transaction",
        event_id: "q4",
        user_id: "qb",
        account_id: "acc-qb",
        type: "transfer",
        amount: 900,
        currency: "EUR",
        timestamp: t(20),
      },
      {
        kind: "auth",
        type: "login_success",
        event_id: "q5",
        user_id: "qb",
        ip: "198.51.100.9",
        timestamp: t(10),
      },
      {
        kind: "log",
        event_id: "q6",
        service: "ledger",
        level: "ERROR",
        message: "timeout",
        timestamp: t(5),
      },
      { kind: "click", event_id: "q7", session_id: "c1", page: "/transfer", timestamp: t(4) },
    ];
    const r = await post(system, "/api/v1/events", JSON.stringify(events));
    assert.equal(r.status, 202, r.text);
    const ids = async (query: string) => {
      const res = await request(system, `/api/v1/events?${query}`);
      assert.equal(res.status, 200, res.text);
      const body = JSON.parse(res.text);
      assert.equal(body.count, body.events.length);
      return { ids: body.events.map((e: { event_id: string }) => e.event_id), next: body.next };
    };
    await waitFor(
      "every event archived",
      async () => (await ids("limit=100")).ids.length === 7 || undefined,
    );
    assert.deepEqual((await ids("limit=100")).ids, ["q7", "q6", "q5", "q4", "q3", "q2", "q1"]);
    assert.deepEqual((await ids("user_id=qa")).ids, ["q3", "q2", "q1"]);
    assert.deepEqual((await ids("user_id=qa&kind=auth")).ids, ["q2", "q1"]);
    assert.deepEqual((await ids("ip=203.0.113.5")).ids, ["q2", "q1"]);
    assert.deepEqual((await ids("account_id=acc-qb")).ids, ["q4"]);
    assert.deepEqual((await ids("service=ledger")).ids, ["q6"]);
    assert.deepEqual((await ids("page=%2Ftransfer")).ids, ["q7"]);
    // One user over an hour: from is inclusive, to exclusive.
    const from = encodeURIComponent(t(45)), to = encodeURIComponent(t(30));
    assert.deepEqual((await ids(`user_id=qa&from=${from}&to=${to}`)).ids, ["q2"]);
    assert.deepEqual((await ids(`user_id=qa&from=${now - 60 * 60_000}`)).ids, ["q3", "q2", "q1"]);
    // Pages of two, through next.
    const seen: string[] = [];
    let next: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: { ids: string[]; next: string | null } = await ids(
        `limit=2${next ? `&after=${next}` : ""}`,
      );
      seen.push(...page.ids);
      next = page.next;
      if (next === null) break;
    }
    assert.deepEqual(seen, ["q7", "q6", "q5", "q4", "q3", "q2", "q1"]);
    // Bad requests are told why.
    for (
      const [query, why] of [
        ["after=not-a-cursor!", /after/],
        ["after=bm9wZQ", /is not the next of a page/],
        ["from=yesterday", /"from" must be ISO-8601 or epoch milliseconds/],
        ["kind=trade", /kind/],
        ["limit=0", /limit/],
      ] as const
    ) {
      const res = await request(system, `/api/v1/events?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.match(JSON.parse(res.text).error, why, query);
    }
    const anon = await appOf(system).request("/api/v1/events");
    await anon.text();
    assert.equal(anon.status, 401);
  }, (config) => {
    config.io.archive_raw_events = true;
  });
});

Deno.test("GET /api/v1/pages/{page}/counts: a page's views per minute in a range, closed and open", async () => {
  await withSystem(async (system) => {
    const minute = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000;
    const click = (page: string, ts: number) => ({
      kind: "click",
      session_id: "s1",
      page,
      timestamp: iso(ts),
    });
    const clicks = [
      click("/cards", minute + 1_000),
      click("/cards", minute + 2_000),
      click("/cards", minute + 60_000 + 5_000),
      click("/cards", minute + 3 * 60_000 + 1_000),
      // Another page's view moves the watermark past the first windows.
      click("/help", minute + 6 * 60_000),
    ];
    const r = await post(system, "/api/v1/events", JSON.stringify(clicks));
    assert.equal(r.status, 202, r.text);
    await system.whenIdle();
    const counts = async (query = "") => {
      const res = await request(system, `/api/v1/pages/%2Fcards/counts${query}`);
      assert.equal(res.status, 200, res.text);
      return JSON.parse(res.text);
    };
    const body = await waitFor("the first windows closed", async () => {
      const b = await counts();
      return b.counts.filter((w: { closed: boolean }) => w.closed).length >= 2 ? b : undefined;
    });
    assert.equal(body.page, "/cards");
    assert.equal(body.window_ms, 60_000);
    const views = (b: { counts: { start_ms: number; views: number }[] }) =>
      b.counts.map((w) => [(w.start_ms - minute) / 60_000, w.views]);
    assert.deepEqual(views(body), [[0, 2], [1, 1], [3, 1]]);
    assert.equal(body.counts[0].start, iso(minute));
    assert.deepEqual(views(await counts(`?from=${minute + 60_000}&to=${minute + 3 * 60_000}`)), [
      [1, 1],
    ]);
    const none = await request(system, "/api/v1/pages/%2Fnever/counts");
    assert.equal(none.status, 404, none.text);
    assert.match(JSON.parse(none.text).error, /No views of page "\/never"/);
    const bad = await request(system, "/api/v1/pages/%2Fcards/counts?from=soon");
    assert.equal(bad.status, 400, bad.text);
  });
});

Deno.test("GET /api/v1/stats: the roll-ups of a range, with the last run; a bad range is a 400", async () => {
  await withSystem(async (system) => {
    const before = await request(system, "/api/v1/stats");
    assert.equal(before.status, 200, before.text);
    assert.equal(JSON.parse(before.text).last_run, null, "no run yet");
    const now = Date.now();
    const events = [1, 2, 3].map((i) => ({
      kind: "transaction",
      event_id: `s${i}`,
      user_id: "su",
      account_id: "acc",
      type: "payment",
      amount: 10 * i,
      currency: "EUR",
      status: i === 3 ? "declined" : "success",
      timestamp: iso(now - i * 60_000),
    }));
    assert.equal((await post(system, "/api/v1/events", JSON.stringify(events))).status, 202);
    await waitFor(
      "the payments archived",
      async () => (await system.store.findEvents({ limit: 10 })).length === 3 || undefined,
    );
    await rollupRange(system.store, now - 3_600_000, now, "test");
    const res = await request(system, `/api/v1/stats?period=day&kind=transaction`);
    assert.equal(res.status, 200, res.text);
    const stats = JSON.parse(res.text);
    assert.equal(stats.last_run.outcome, "ok");
    assert.deepEqual(stats.totals.events, { transaction: 3 });
    assert.deepEqual(
      stats.totals.amounts.map((
        a: { status: string; count: number; sum: number },
      ) => [a.status, a.count, a.sum]),
      [["success", 2, 30], ["declined", 1, 30]],
    );
    for (const query of ["from=2026-12-02&to=2026-12-01", "period=week", "kind=trade"]) {
      const bad = await request(system, `/api/v1/stats?${query}`);
      assert.equal(bad.status, 400, `${query}: ${bad.text}`);
    }
  }, (config) => {
    config.io.archive_raw_events = true;
    config.aggregate.enabled = false;
  });
});
