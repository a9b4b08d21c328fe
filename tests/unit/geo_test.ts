import assert from "node:assert/strict";
import { parseAddress, parseIpv4, parseIpv6 } from "../../geo/address.ts";
import { AsnCsvError, findAsn, readAsnRanges } from "../../geo/asn_ranges.ts";
import { needsPlace, withPlace } from "../../geo/enrich.ts";
import { geoSources } from "../../geo/database.ts";
import {
  compromiseAfterAttack,
  markAttack,
  NO_ATTACKS,
  targetedOf,
} from "../../actors/rules/user_rules.ts";
import { defaults } from "../../config/defaults.ts";
import { authEvent } from "./events.ts";

const csv = (text: string) => new TextEncoder().encode(text);

Deno.test("parseIpv4() reads dotted quads and refuses anything else", () => {
  assert.equal(parseIpv4("0.0.0.0"), 0);
  assert.equal(parseIpv4("8.8.8.8"), 0x08080808);
  assert.equal(parseIpv4("255.255.255.255"), 0xffffffff);
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1..2.3",
      "1.2.3.4 ",
      "a.b.c.d",
      "1.2.3.-4",
    ]
  ) {
    assert.equal(parseIpv4(bad), null, bad);
  }
});

Deno.test("parseIpv6() reads every RFC 4291 text form", () => {
  assert.deepEqual(parseIpv6("2001:db8::1"), [0x20010db8, 0, 0, 1]);
  assert.deepEqual(parseIpv6("::"), [0, 0, 0, 0]);
  assert.deepEqual(parseIpv6("::1"), [0, 0, 0, 1]);
  assert.deepEqual(parseIpv6("fe80::1%eth0"), [0xfe800000, 0, 0, 1]);
  assert.deepEqual(
    parseIpv6("2001:0DB8:0000:0000:0000:ff00:0042:8329"),
    [0x20010db8, 0, 0xff00, 0x00428329],
  );
  assert.deepEqual(parseIpv6("::ffff:192.0.2.1"), [0, 0, 0xffff, 0xc0000201]);
  for (
    const bad of [
      "1::2::3",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      "g::1",
      ":1",
      "1:2:3:4:5:6:7::8:9",
    ]
  ) {
    assert.equal(parseIpv6(bad), null, bad);
  }
});

Deno.test("parseAddress() reads an IPv4-mapped IPv6 address as IPv4", () => {
  assert.deepEqual(parseAddress("::ffff:8.8.8.8"), { family: 4, v4: 0x08080808 });
  assert.deepEqual(parseAddress("8.8.4.4"), { family: 4, v4: 0x08080404 });
  assert.equal(parseAddress("2001:4860::8888")?.family, 6);
  assert.equal(parseAddress("not an address"), null);
  assert.equal(parseAddress("unknown"), null);
});

Deno.test("findAsn() finds an IPv4 address's range by binary search, and nothing in the gaps", () => {
  const r = readAsnRanges(
    csv([
      '16777216,16777471,13335,"Cloudflare, Inc."',
      "134744064,134744319,15169,Google LLC",
      '134744320,134744575,3356,"Level ""3"""',
      "3221225984,3221226239,64496,Documentation",
      "",
    ].join("\n")),
    4,
  );
  assert.equal(r.count, 4);
  const at = (ip: string) => findAsn(r, parseAddress(ip)!);
  assert.deepEqual(at("1.0.0.1"), { asn: 13335, org: "Cloudflare, Inc." });
  assert.deepEqual(at("8.8.8.8"), { asn: 15169, org: "Google LLC" });
  assert.deepEqual(at("8.8.8.0"), { asn: 15169, org: "Google LLC" }, "the first address");
  assert.deepEqual(at("8.8.8.255"), { asn: 15169, org: "Google LLC" }, "the last address");
  assert.deepEqual(at("8.8.9.0"), { asn: 3356, org: 'Level "3"' });
  assert.equal(at("0.255.255.255"), null, "before the first range");
  assert.equal(at("8.8.10.0"), null, "in a gap");
  assert.equal(at("255.255.255.255"), null, "after the last range");
  assert.equal(findAsn(r, parseAddress("2001:db8::1")!), null, "another family");
});

Deno.test("findAsn() finds an IPv6 address's range over all 128 bits", () => {
  const r = readAsnRanges(
    csv([
      "2001::,2001::ffff:ffff:ffff:ffff:ffff:ffff,6939,Hurricane Electric LLC",
      "2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC",
      "2001:4860:ffff:ffff:ffff:ffff:ffff:fff0,2001:4861::ff,64500,Edge\r",
    ].join("\n")),
    6,
  );
  // The third range starts inside the second: the second is cut just before it.
  assert.equal(r.overlaps, 1);
  const at = (ip: string) => findAsn(r, parseAddress(ip)!)?.asn ?? null;
  assert.equal(at("2001::1"), 6939);
  assert.equal(at("2001:4860:4860::8888"), 15169);
  assert.equal(at("2001:4860:ffff:ffff:ffff:ffff:ffff:ffef"), 15169);
  assert.equal(at("2001:4860:ffff:ffff:ffff:ffff:ffff:fff0"), 64500);
  assert.equal(at("2001:4861::ff"), 64500);
  assert.equal(at("2001:4861::100"), null);
  assert.equal(at("2001:1::"), null, "between ranges");
  assert.equal(findAsn(r, parseAddress("2001:4860:ffff::")!)?.org, "Google LLC");
  assert.equal(
    findAsn(r, parseAddress("2001:4861::1")!)?.org,
    "Edge",
    "a CR before the newline dropped",
  );
});

Deno.test("readAsnRanges() names the line it cannot read", () => {
  const fails = (text: string, family: 4 | 6, line: number, words: RegExp) =>
    assert.throws(() => readAsnRanges(csv(text), family), (err: unknown) => {
      assert.ok(err instanceof AsnCsvError);
      assert.equal(err.line, line);
      assert.match(err.message, words);
      return true;
    });
  fails("1,2,3,a\n4,5\n", 4, 2, /line 2 has fewer than 4 fields/);
  fails("1,2,x,a\n", 4, 1, /no AS number/);
  fails("5,2,3,a\n", 4, 1, /no IPv4 range/);
  fails("1,2,3,a\n1,9,3,b\n", 4, 2, /starts before the range above it/);
  fails("2001::,zz::,1,a\n", 6, 1, /no IPv6 range/);
  fails("1.0.0.0,1.0.0.255,13335,dotted ends are read too\n0,1,2,x\n", 4, 2, /starts before/);
});

Deno.test("needsPlace() and withPlace(): a login attempt with an address and no coordinates is filled in, never overwritten", () => {
  const bare = authEvent("login_success", "e1", 0, { ip: "8.8.8.8" });
  const located = authEvent("login_success", "e2", 0, { ip: "8.8.8.8", lat: 1, lon: 2 });
  assert.equal(needsPlace(bare), true);
  assert.equal(needsPlace(located), false);
  assert.equal(needsPlace(authEvent("logout", "e3", 0, { ip: "8.8.8.8" })), false);
  assert.equal(needsPlace(authEvent("login_failure", "e4", 0, { ip: "8.8.8.8" })), true);
  const place = {
    country: "US",
    city: "Mountain View",
    lat: 37.422000885,
    lon: -122.084999,
    asn: 15169,
  };
  const e = withPlace(bare, place, "db@1");
  assert.deepEqual(
    [e.country, e.city, e.lat, e.lon, e.asn, e.located_by],
    ["US", "Mountain View", 37.422, -122.085, 15169, "db@1"],
  );
  assert.equal(bare.lat, undefined, "the event given is not written to");
  const own = withPlace({ ...bare, country: "NO", asn: 1 }, place, "db@1");
  assert.deepEqual(
    [own.country, own.asn, own.lat],
    ["NO", 1, 37.422],
    "the event's own fields kept",
  );
  assert.equal(withPlace(bare, null, "db@1"), bare, "nothing known: the same event");
  const asnOnly = withPlace(
    bare,
    { country: null, city: "x", lat: null, lon: null, asn: 7 },
    "db@1",
  );
  assert.deepEqual([asnOnly.asn, asnOnly.city, asnOnly.lat, asnOnly.located_by], [
    7,
    undefined,
    undefined,
    "db@1",
  ]);
});

Deno.test("geoSources() names the pinned packages without loading them", () => {
  const s = geoSources();
  assert.match(s.city, /^@ip-location-db\/dbip-city-mmdb@\d+\.\d+\.\d+$/);
  assert.match(s.asn, /^@ip-location-db\/asn@\d+\.\d+\.\d+$/);
});

Deno.test("user.compromise_after_attack: a login from another network of the attack's AS is high, with the AS in the evidence", () => {
  const T0 = Date.UTC(2024, 0, 1, 9);
  const marks = markAttack(
    NO_ATTACKS,
    { rule: "ip.password_spray", ip: "8.8.4.4", asn: 15169, episode: "0", ts: T0 },
    8,
  );
  const login = (ip: string, asn: number | null, known_network = false) => ({
    event_id: "in",
    ts: T0 + 10 * 60_000,
    ip,
    asn,
    country: "US",
    city: null,
    lat: null,
    lon: null,
    device_id: "d1",
    known_network,
    located_by: "db@1",
  });
  const judge = (l: ReturnType<typeof login>) =>
    compromiseAfterAttack(marks, l, "u1", defaults.user, defaults.auth.risky_login_medium);
  const a = judge(login("8.8.8.8", 15169));
  assert.equal(a?.severity, "high");
  assert.deepEqual(a?.evidence.why, ["attack_asn"]);
  assert.deepEqual((a?.evidence.login as { asn: number; located_by: string }).asn, 15169);
  assert.deepEqual((a?.evidence.attacks as { asn: number }[])[0]!.asn, 15169);
  assert.equal(judge(login("8.8.8.8", 3356)), null, "another AS");
  assert.equal(judge(login("8.8.8.8", null)), null, "no AS known");
  assert.equal(judge(login("8.8.8.8", 15169, true)), null, "the user's own network");
  assert.deepEqual(
    judge(login("8.8.4.9", 15169))?.evidence.why,
    ["attack_network"],
    "the /24 first",
  );
});

Deno.test("targetedOf() takes an AS number from the signal, and refuses a wrong one", () => {
  const m = { kind: "targeted", rule: "ip.password_spray", ip: "8.8.4.4", episode: "0", ts: 0 };
  const told = targetedOf({ ...m, asn: 15169 }, defaults.input);
  assert.ok("message" in told);
  assert.equal(told.message.asn, 15169);
  const none = targetedOf(m, defaults.input);
  assert.ok("message" in none && none.message.asn === undefined);
  const bad = targetedOf({ ...m, asn: -1 }, defaults.input);
  assert.ok("reason" in bad);
  assert.match(bad.reason, /asn must be null or a whole number/);
});
