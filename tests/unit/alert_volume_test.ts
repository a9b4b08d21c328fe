import assert from "node:assert/strict";
import { AlertVolume } from "../../engine/alert_volume.ts";
import type { Alert } from "../../events/types.ts";

const at = (rule: string, iso: string) => ({ rule, timestamp: iso }) as Alert;

Deno.test("AlertVolume: counts per rule and bar of event time, the newest bars kept", () => {
  const v = new AlertVolume({ volume_bucket_s: 60, volume_buckets: 3, volume_max_rules: 2 });
  assert.deepEqual(v.series(3), { bucket_s: 60, from: null, buckets: 3, series: [] });
  v.add([
    at("a", "2026-01-01T10:00:10Z"),
    at("a", "2026-01-01T10:00:50Z"),
    at("b", "2026-01-01T10:01:00Z"),
    at("c", "2026-01-01T10:01:00Z"), // a third rule: past volume_max_rules, not counted
    at("a", "not a time"),
  ]);
  assert.deepEqual(v.series(3), {
    bucket_s: 60,
    from: "2026-01-01T09:59:00.000Z",
    buckets: 3,
    series: [
      { rule: "a", counts: [0, 2, 0], total: 2 },
      { rule: "b", counts: [0, 0, 1], total: 1 },
    ],
  });
  // Three minutes on: the 10:00 bar falls out, and a late alert for it is not counted.
  v.add([at("b", "2026-01-01T10:03:30Z"), at("a", "2026-01-01T10:00:20Z")]);
  assert.deepEqual(v.series(10, "a").series, [{ rule: "a", counts: [0, 0, 0], total: 0 }]);
  assert.deepEqual(v.series(2, "b"), {
    bucket_s: 60,
    from: "2026-01-01T10:02:00.000Z",
    buckets: 2,
    series: [{ rule: "b", counts: [0, 1], total: 1 }],
  });
});
