import assert from "node:assert/strict";
import { defaults } from "../../config/defaults.ts";
import type { Alert } from "../../events/types.ts";
import { Notifier } from "../../io/notify.ts";

const alert: Alert = {
  alert_id: "a-1",
  rule: "auth.brute_force",
  severity: "high",
  entity: { type: "user", key: "alice" },
  timestamp: "2026-01-05T08:00:00.000Z",
  detected_at: "2026-01-05T08:00:01.000Z",
  evidence: {},
  event_ids: ["e1"],
  mode: "enforce",
};

/** A notifier for one webhook whose receiver answers `status` (with a Location for 3xx). */
function withReceiver(status: number) {
  const calls: { url: string; redirect: RequestRedirect | undefined }[] = [];
  const logs: string[] = [];
  const counts: Record<string, number> = {};
  const fetcher = ((url: string, init: RequestInit) => {
    calls.push({ url, redirect: init.redirect });
    const headers = status >= 300 && status < 400 ? { location: "https://elsewhere.example/" } : {};
    return Promise.resolve(new Response(null, { status, headers }));
  }) as typeof fetch;
  const notifier = new Notifier(
    {
      ...defaults.notify,
      webhook_url: "https://hooks.example/vigil",
      webhook_secret: "s",
      max_attempts: 3,
      backoff_min_ms: 1,
      backoff_max_ms: 2,
    },
    { notified: (t, r, n) => counts[`${t}/${r}`] = (counts[`${t}/${r}`] ?? 0) + n },
    { fetcher, log: (_level, msg) => logs.push(msg) },
  );
  return { notifier, calls, logs, counts };
}

Deno.test("Notifier: a webhook answering 307 is not followed; the delivery fails, retried then given up, with one clear log line", async () => {
  const r = withReceiver(307);
  r.notifier.offer([alert]);
  await r.notifier.idle();
  assert.deepEqual(r.calls.map((c) => c.url), Array(3).fill("https://hooks.example/vigil"));
  assert.ok(r.calls.every((c) => c.redirect === "manual"), "fetch is told not to follow");
  assert.deepEqual(r.counts, { "webhook/retried": 2, "webhook/given_up": 1 });
  assert.equal(r.logs.length, 1, r.logs.join("\n"));
  assert.match(
    r.logs[0]!,
    /webhook answered 307 \(a redirect\): not followed, counted as a failed/,
  );
  await r.notifier.stop();
});

Deno.test("Notifier: a 2xx is sent and says nothing; a 301 fails like a 307", async () => {
  const ok = withReceiver(204);
  ok.notifier.offer([alert]);
  await ok.notifier.idle();
  assert.deepEqual([ok.counts, ok.logs], [{ "webhook/sent": 1 }, []]);
  await ok.notifier.stop();
  const moved = withReceiver(301);
  moved.notifier.offer([alert]);
  await moved.notifier.idle();
  assert.equal(moved.counts["webhook/given_up"], 1);
  await moved.notifier.stop();
});
