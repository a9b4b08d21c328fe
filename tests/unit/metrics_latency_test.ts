import assert from "node:assert/strict";
import { Metrics } from "../../io/metrics.ts";
import type { Alert } from "../../events/types.ts";

const sources = {
  stats: () => ({ resident: {}, mailbox_depth: 0, max_mailbox_depth: 0 }),
  lag: () => ({}),
};

function alertAt(ms: number): Alert {
  return {
    alert_id: String(ms),
    rule: "auth.brute_force",
    severity: "medium",
    entity: { type: "user", key: "u1" },
    timestamp: new Date(ms).toISOString(),
    detected_at: new Date(ms + 40).toISOString(),
    evidence: {},
    event_ids: [],
    mode: "enforce",
  };
}

Deno.test("Metrics.latencyFrom(): alerts on history played back are counted, their latency not observed", async () => {
  const m = new Metrics(sources as unknown as ConstructorParameters<typeof Metrics>[0]);
  const start = Date.UTC(2026, 0, 5, 9);
  m.latencyFrom(start);
  m.alertRaised(alertAt(start - 45 * 60_000), 45 * 60_000); // the backfill's
  m.alertRaised(alertAt(start + 1_000), 40); // live
  m.alertRaised(alertAt(start + 2_000), 61_000, "watermark"); // decided at a watermark
  const text = await m.text();
  assert.match(
    text,
    /^vigil_alerts_total\{rule="auth.brute_force",severity="medium",mode="enforce"\} 3$/m,
  );
  assert.match(text, /^vigil_alert_latency_seconds_count\{family="auth",decided="event"\} 1$/m);
  assert.match(
    text,
    /^vigil_alert_latency_seconds_bucket\{le="0.05",family="auth",decided="event"\} 1$/m,
  );
  // Counted apart: the SLA rules leave out what waited for a watermark by design.
  assert.match(text, /^vigil_alert_latency_seconds_count\{family="auth",decided="watermark"\} 1$/m);
  assert.match(
    text,
    /^vigil_alert_latency_seconds_bucket\{le="30",family="auth",decided="watermark"\} 0$/m,
  );
});
