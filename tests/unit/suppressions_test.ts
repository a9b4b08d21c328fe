import assert from "node:assert/strict";
import {
  type Suppression,
  SuppressionError,
  suppressionOf,
  Suppressions,
} from "../../engine/suppressions.ts";

const T0 = Date.parse("2026-03-02T10:00:00Z");
const HOUR = 3_600_000;
const LIMITS = { max_suppressions: 3, max_suppression_ms: 24 * HOUR, max_reason_chars: 50 };
const GIVEN = { id: "s1", author: "ana", now_ms: T0 };

const make = (body: Record<string, unknown>, id = "s1", now_ms = T0): Suppression =>
  suppressionOf(
    { reason: "known scanner", duration_s: 3600, ...body },
    { ...GIVEN, id, now_ms },
    LIMITS,
  );

Deno.test("suppressionOf() reads a body, or says what is wrong", () => {
  const bad = (body: unknown, why: RegExp) =>
    assert.throws(
      () => suppressionOf(body, GIVEN, LIMITS),
      (e) => e instanceof SuppressionError && why.test(e.message),
    );
  bad([], /an object/);
  bad({ reason: "x", duration_s: 60, who: "me" }, /Cannot use field\(s\) who/);
  bad({ reason: "x", duration_s: 60 }, /must name a rule, an entity or a network/);
  bad({ rule: "net.port_scan", duration_s: 60 }, /reason must say why/);
  bad({ rule: "net.port_scan", reason: "x".repeat(51), duration_s: 60 }, /longer than 50/);
  bad({ rule: "net.port_scan", reason: "x" }, /must end/);
  bad({ rule: "net.port_scan", reason: "x", duration_s: -1 }, /positive number/);
  bad({ rule: "net.port_scan", reason: "x", duration_s: 25 * 3600 }, /at most 24 h/);
  bad({ rule: "r", reason: "x", duration_s: 1, expires_at: T0 + 5 }, /not both/);
  bad({ rule: "r", reason: "x", expires_at: "soon" }, /expires_at must be a time/);
  bad({ rule: "r", reason: "x", expires_at: T0 - 1 }, /after starts_at/);
  bad({ entity_type: "user", reason: "x", duration_s: 1 }, /go together/);
  bad({ cidr: "10.0.0.0/33", reason: "x", duration_s: 1 }, /not a network/);
  bad({ cidr: "10.0.0.0", reason: "x", duration_s: 1 }, /not a network/);
  assert.deepEqual(make({ cidr: "198.18.0.0/15" }), {
    id: "s1",
    rule: null,
    entity_type: null,
    entity_key: null,
    cidr: "198.18.0.0/15",
    reason: "known scanner",
    author: "ana",
    starts_at: "2026-03-02T10:00:00.000Z",
    expires_at: "2026-03-02T11:00:00.000Z",
    created_at: "2026-03-02T10:00:00.000Z",
    incident_id: null,
  });
});

Deno.test("Suppressions.match(): by rule, entity and network, within its event-time window; the oldest first; bounded", () => {
  const at = (ts: number, rule = "net.port_scan", key = "198.18.3.4", type = "src") => ({
    rule,
    entity: { type, key },
    ts,
  });
  const list = new Suppressions(3, [
    make({ cidr: "198.18.0.0/15" }, "net"),
    make({ rule: "auth.brute_force", entity_type: "user", entity_key: "u1" }, "bf-u1"),
    make({ cidr: "2001:db8::/32", rule: "flow.ddos" }, "v6"),
  ]);
  assert.equal(list.match(at(T0)), "net");
  assert.equal(list.match(at(T0 + HOUR - 1)), "net");
  assert.equal(list.match(at(T0 + HOUR)), null, "expired at its event time");
  assert.equal(list.match(at(T0 - 1)), null, "not yet");
  assert.equal(list.match(at(T0, "net.port_scan", "198.20.0.1")), null, "outside the /15");
  assert.equal(list.match(at(T0, "net.port_scan", "not-an-address")), null);
  assert.equal(list.match(at(T0, "auth.brute_force", "u1", "user")), "bf-u1");
  assert.equal(list.match(at(T0, "auth.brute_force", "u2", "user")), null);
  assert.equal(list.match(at(T0, "auth.impossible_travel", "u1", "user")), null, "another rule");
  assert.equal(list.match(at(T0, "flow.ddos", "2001:db8:5::1")), "v6");
  assert.equal(list.match(at(T0, "flow.dos", "2001:db8:5::1")), null);
  assert.equal(list.match(at(T0, "flow.ddos", "2001:db9::1")), null);
  // Ended early (its expiry moved), and a fourth one: the oldest created goes.
  list.put({
    ...list.list.find((s) => s.id === "net")!,
    expires_at: new Date(T0 + 60_000).toISOString(),
  });
  assert.equal(list.match(at(T0 + 120_000)), null);
  list.put(make({ rule: "svc.high_cpu" }, "cpu", T0 + 1));
  // The oldest created (then the smallest id) dropped: bf-u1.
  assert.deepEqual(list.list.map((s) => s.id), ["net", "v6", "cpu"]);
  assert.equal(list.match(at(T0, "auth.brute_force", "u1", "user")), null);
});
