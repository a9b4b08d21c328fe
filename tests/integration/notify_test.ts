/**
 * Notifications against a real local HTTP receiver (Deno.serve on loopback): payloads,
 * routing by severity, the webhook's signature, retries against a receiver that fails and
 * recovers, giving up, the queue's bound, and the whole system sending what it stores.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Config, defaults, type NotifySettings } from "../../config/defaults.ts";
import { loadConfig } from "../../config/load.ts";
import { VigilSystem } from "../../engine/system.ts";
import type { Alert } from "../../events/types.ts";
import { MemoryStore } from "../../io/memory_store.ts";
import { hmac, Notifier } from "../../io/notify.ts";

interface Received {
  path: string;
  headers: Headers;
  body: string;
}

/** A receiver answering `status(n)` to its n-th request (from 1). */
function receiver(status: (n: number) => number = () => 200) {
  const got: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({ path: new URL(req.url).pathname, headers: req.headers, body: await req.text() });
    return new Response("ok", { status: status(got.length) });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return { got, url, close: () => server.shutdown() };
}

function settings(over: Partial<NotifySettings>): NotifySettings {
  return { ...defaults.notify, backoff_min_ms: 20, backoff_max_ms: 100, ...over };
}

function alert(id: string, severity: Alert["severity"], mode: Alert["mode"] = "enforce"): Alert {
  return {
    alert_id: id,
    rule: "auth.brute_force",
    severity,
    entity: { type: "user", key: "alice" },
    timestamp: "2026-01-05T08:00:00.000Z",
    detected_at: "2026-01-05T08:00:01.000Z",
    evidence: { failures_in_window: 5 },
    event_ids: ["e1"],
    mode,
  };
}

function counter() {
  const counts: Record<string, number> = {};
  return {
    counts,
    notified(target: string, result: string, n: number) {
      counts[`${target}/${result}`] = (counts[`${target}/${result}`] ?? 0) + n;
    },
  };
}

Deno.test("Notifier: Slack, signed webhook and Alertmanager payloads, routed by severity; shadow alerts stay home", async () => {
  const r = receiver();
  try {
    const t = counter();
    const n = new Notifier(
      settings({
        slack_url: `${r.url}/slack`,
        slack_min_severity: "high",
        webhook_url: `${r.url}/hook`,
        webhook_secret: "s3cret",
        webhook_min_severity: "low",
        alertmanager_url: r.url,
        alertmanager_min_severity: "medium",
      }),
      t,
    );
    n.offer([
      alert("a-low", "low"),
      alert("a-high", "high"),
      alert("a-shadow", "critical", "shadow"),
    ]);
    await n.idle();
    const by = (path: string) => r.got.filter((g) => g.path === path);
    const slack = JSON.parse(by("/slack")[0]!.body);
    assert.match(slack.text, /^\[HIGH\] auth\.brute_force on user alice/);
    assert.equal(slack.text.split("\n").length, 1, "only the high alert");
    const hook = by("/hook")[0]!;
    assert.deepEqual(JSON.parse(hook.body).alerts.map((a: Alert) => a.alert_id), [
      "a-low",
      "a-high",
    ]);
    const ts = hook.headers.get("x-vigil-timestamp")!;
    assert.equal(
      hook.headers.get("x-vigil-signature"),
      `sha256=${await hmac("s3cret", `${ts}.${hook.body}`)}`,
    );
    const am = JSON.parse(by("/api/v2/alerts")[0]!.body);
    assert.deepEqual(am.map((a: { labels: { alert_id: string } }) => a.labels.alert_id), [
      "a-high",
    ]);
    assert.equal(am[0].labels.alertname, "auth.brute_force");
    assert.equal(am[0].startsAt, "2026-01-05T08:00:00.000Z");
    assert.deepEqual(t.counts, { "slack/sent": 1, "webhook/sent": 2, "alertmanager/sent": 1 });
    await n.stop();
  } finally {
    await r.close();
  }
});

Deno.test("Notifier: a receiver that fails twice then recovers gets the alert, after retries", async () => {
  const r = receiver((i) => i <= 2 ? 503 : 200);
  try {
    const t = counter();
    const n = new Notifier(settings({ webhook_url: `${r.url}/hook` }), t);
    n.offer([alert("a1", "medium")]);
    await n.idle();
    assert.equal(r.got.length, 3);
    assert.deepEqual(t.counts, { "webhook/retried": 2, "webhook/sent": 1 });
    await n.stop();
  } finally {
    await r.close();
  }
});

Deno.test("Notifier: a receiver answering 307 does not get the signed body re-sent to where it points", async () => {
  const elsewhere = receiver();
  let tries = 0;
  const redirecting = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    tries++;
    await req.body?.cancel();
    return new Response(null, { status: 307, headers: { location: `${elsewhere.url}/x` } });
  });
  try {
    const t = counter();
    const logs: string[] = [];
    const n = new Notifier(
      settings({
        webhook_url: `http://127.0.0.1:${redirecting.addr.port}/hook`,
        webhook_secret: "s",
        max_attempts: 2,
      }),
      t,
      { log: (_level, msg) => logs.push(msg) },
    );
    n.offer([alert("r1", "high")]);
    await n.idle();
    assert.equal(tries, 2, "two tries at the configured URL");
    assert.equal(elsewhere.got.length, 0, "nothing went where the redirect pointed");
    assert.deepEqual(t.counts, { "webhook/retried": 1, "webhook/given_up": 1 });
    assert.equal(logs.length, 1);
    await n.stop();
  } finally {
    await redirecting.shutdown();
    await elsewhere.close();
  }
});

Deno.test("Notifier: gives up after max_attempts, and drops past max_queued (counted)", async () => {
  const r = receiver(() => 500);
  try {
    const t = counter();
    const n = new Notifier(
      settings({ webhook_url: `${r.url}/hook`, max_attempts: 3, max_queued: 3 }),
      t,
    );
    n.offer([1, 2, 3, 4, 5].map((i) => alert(`a${i}`, "high")));
    await n.idle();
    assert.equal(r.got.length, 3, "three tries of one batch of three");
    assert.deepEqual(t.counts, {
      "webhook/dropped": 2,
      "webhook/retried": 6,
      "webhook/given_up": 3,
    });
    await n.stop();
  } finally {
    await r.close();
  }
});

Deno.test("The system sends what it stores: a brute-force alert reaches the webhook", async () => {
  const r = receiver();
  const config: Config = loadConfig({ VIGIL_NOTIFY_WEBHOOK_URL: `${r.url}/hook` });
  const system = new VigilSystem({ config, token: "t" });
  await system.start({ simulate: false });
  try {
    const t0 = Date.now() - 60_000;
    const failures = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({
        kind: "auth",
        type: "login_failure",
        user_id: "mallory-target",
        ip: "203.0.113.50",
        timestamp: new Date(t0 + i * 1_000).toISOString(),
      }));
    assert.equal((await system.ingest(failures)).accepted, 5);
    const deadline = Date.now() + 10_000;
    while (r.got.length === 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
    }
    const alerts = JSON.parse(r.got[0]!.body).alerts as Alert[];
    assert.equal(alerts[0]!.rule, "auth.brute_force");
    assert.equal(alerts[0]!.entity.key, "mallory-target");
  } finally {
    await system.stop();
    await r.close();
  }
});

Deno.test("Notifier with a store: what waits survives a stop, and the next run sends it once its lease runs out", async () => {
  const down = receiver(() => 503);
  const up = receiver();
  const store = new MemoryStore({ max_alerts: 10, max_dead_letters: 10 });
  try {
    // 5 tries of (200 ms + 50 ms) at most: a lease of 1.25 s.
    const s = settings({ max_attempts: 5, backoff_max_ms: 50, timeout_ms: 200 });
    const first = new Notifier({ ...s, webhook_url: `${down.url}/hook` }, counter(), { store });
    first.offer([alert("w1", "high"), alert("w2", "high")]);
    await new Promise((r) => setTimeout(r, 60));
    await first.stop(0); // mid-retry: left in the store
    assert.ok(down.got.length >= 1);
    const t = counter();
    await new Promise((r) => setTimeout(r, 1_300));
    const second = new Notifier({ ...s, webhook_url: `${up.url}/hook` }, t, { store });
    await second.idle();
    assert.deepEqual(
      up.got.flatMap((g) => JSON.parse(g.body).alerts.map((a: Alert) => a.alert_id)),
      ["w1", "w2"],
    );
    assert.deepEqual(t.counts, { "webhook/sent": 2 });
    assert.deepEqual(await store.claimNotifications("webhook", Date.now() + 10_000, 1, 10), []);
    await second.stop();
  } finally {
    await down.close();
    await up.close();
  }
});
