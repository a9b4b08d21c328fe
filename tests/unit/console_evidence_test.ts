import assert from "node:assert/strict";
import { describe } from "../../console/evidence.js";

Deno.test("describe() puts an impossible travel's places, distance and speed against their limits", () => {
  const d = describe({
    evidence: {
      from: { at: "2026-01-01T10:00:00Z", ip: "84.10.20.30", country: "NO", city: "Oslo" },
      to: { at: "2026-01-01T10:30:00Z", ip: "177.10.20.30", country: "BR", city: "São Paulo" },
      distance_km: 10_430,
      hours: 0.5,
      speed_kmh: 20_860,
      max_speed_kmh: 900,
      min_distance_km: 500,
    },
  });
  assert.deepEqual(d.places.map((p) => [p.label, p.city, p.country, p.ip]), [
    ["from", "Oslo", "NO", "84.10.20.30"],
    ["to", "São Paulo", "BR", "177.10.20.30"],
  ]);
  assert.deepEqual(d.measures, [
    { name: "speed_kmh", value: 20_860, limit: 900, op: ">", met: true },
    { name: "distance_km", value: 10_430, limit: 500, op: ">=", met: true },
  ]);
  assert.equal(d.score, null);
  assert.deepEqual(d.rest, [["hours", 0.5]]);
});

Deno.test("describe() gives a model's score with its heaviest features, and counts against thresholds", () => {
  const risky = describe({
    score: 0.97,
    model: "login_risk@2",
    evidence: {
      risk: 0.97,
      level: "high",
      ip: "177.10.20.30",
      country: "BR",
      features: { new_country: 1, new_device: 1, hour_offset: 0.2, km_from_last: 0.9, a: 0, b: 0 },
    },
  });
  assert.deepEqual(risky.score, {
    score: 0.97,
    model: "login_risk@2",
    level: "high",
    top: [
      { name: "new_country", value: 1 },
      { name: "new_device", value: 1 },
      { name: "km_from_last", value: 0.9 },
      { name: "hour_offset", value: 0.2 },
      { name: "a", value: 0 },
    ],
  });
  assert.deepEqual(risky.places.map((p) => [p.label, p.country, p.ip]), [[
    "login",
    "BR",
    "177.10.20.30",
  ]]);
  const brute = describe({ evidence: { failures_in_window: 5, threshold: 5, window_ms: 300_000 } });
  assert.deepEqual(brute.measures, [
    { name: "failures_in_window", value: 5, limit: 5, op: ">=", met: true },
  ]);
  assert.deepEqual(brute.rest, [["window_ms", 300_000]]);
  const flow = describe({
    score: 0.99,
    evidence: { probability: 0.99, threshold: 0.9, probabilities: { DoS: 0.99, Normal: 0.01 } },
  });
  assert.deepEqual(flow.score?.top, [{ name: "DoS", value: 0.99 }, {
    name: "Normal",
    value: 0.01,
  }]);
  assert.deepEqual(flow.measures.map((m) => m.name), ["probability"]);
});
