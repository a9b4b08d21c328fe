/**
 * The shipped IP database (`@ip-location-db/*` through `geo/database.ts`): known public
 * addresses resolve, and a replay of logins that carry only their addresses raises the
 * location rules, with the database named in the evidence and the manifest.
 */

import assert from "node:assert/strict";
import { type Config, defaults } from "../../config/defaults.ts";
import { linesOf, replay, replayManifest } from "../../engine/replay.ts";
import { geoLoadFigures, GeoLocator, geoSources } from "../../geo/database.ts";

const T0 = Date.UTC(2026, 0, 5, 9);
const MIN = 60_000;

Deno.test("GeoLocator locates known public addresses with the shipped database (IPv4, IPv6, IPv4-mapped)", async () => {
  const geo = new GeoLocator({ cache_entries: 2 });
  assert.equal(geo.locate("8.8.8.8"), null, "not before its family is loaded");
  await geo.prepare("8.8.8.8");
  assert.equal(geo.prepare("8.8.8.8"), null, "loaded once: nothing more to wait for");
  const google = geo.locate("8.8.8.8");
  assert.equal(google?.country, "US");
  assert.equal(google?.asn, 15169);
  assert.match(google?.as_org ?? "", /Google/);
  assert.ok(google?.lat !== null && google?.lon !== null, "coordinates");
  const cloudflare = geo.locate("1.1.1.1");
  assert.equal(cloudflare?.asn, 13335);
  assert.equal(geo.locate("::ffff:8.8.8.8")?.asn, 15169, "an IPv4-mapped address as IPv4");
  assert.equal(geo.cached, 2, "the cache holds no more than cache_entries");
  assert.equal(geo.locate("10.0.0.1")?.country ?? null, null, "a private address has no country");
  assert.equal(geo.locate("not an ip"), null);
  await geo.prepare("2001:4860:4860::8888");
  assert.equal(geo.locate("2001:4860:4860::8888")?.asn, 15169);
  const loads = geoLoadFigures();
  assert.ok(loads.some((f) => f.family === 4 && f.ms > 0 && f.rss_after_bytes > 0));
});

function config(): Config {
  return structuredClone(defaults) as Config;
}

const line = (o: Record<string, unknown>) => JSON.stringify({ kind: "auth", user_id: "ana", ...o });

Deno.test("replay: logins with an address and no location are located, and raise auth.impossible_travel naming the database", async () => {
  const text = [
    // Mountain View, then London an hour later: no flight is that fast.
    line({ type: "login_success", ip: "8.8.8.8", device_id: "d1", timestamp: T0 }),
    line({ type: "login_success", ip: "81.2.69.142", device_id: "d1", timestamp: T0 + 60 * MIN }),
  ].join("\n");
  const r = await replay(linesOf(text), config());
  const travel = r.alerts.filter((a) => a.rule === "auth.impossible_travel");
  assert.equal(travel.length, 1);
  const ev = travel[0]!.evidence as {
    from: { country: string; located_by: string };
    to: { country: string; city: string; located_by: string };
    distance_km: number;
  };
  const s = geoSources();
  assert.equal(ev.from.country, "US");
  assert.equal(ev.to.country, "GB");
  assert.equal(ev.to.located_by, `${s.city} ${s.asn}`);
  assert.ok(ev.distance_km > 8_000, `${ev.distance_km} km`);
  // The same file again gives the same alerts (the same database, the same places).
  const again = await replay(linesOf(text), config());
  assert.deepEqual(again.alerts.map((a) => a.alert_id), r.alerts.map((a) => a.alert_id));
  // Switched off, the addresses stay unplaced: nothing to compare.
  const off = config();
  off.geo.enabled = false;
  const unplaced = await replay(linesOf(text), off);
  assert.equal(unplaced.alerts.filter((a) => a.rule === "auth.impossible_travel").length, 0);
  assert.deepEqual(replayManifest(off, null).geo, null);
  assert.deepEqual(replayManifest(config(), null).geo, s);
});

Deno.test("replay: a login after a brute force, from another network of the attack's AS, is user.compromise_after_attack (attack_asn)", async () => {
  const fails = Array.from(
    { length: 5 },
    (_, i) => line({ type: "login_failure", ip: "8.8.4.4", timestamp: T0 + i * 1_000 }),
  );
  const text = [
    ...fails,
    line({ type: "login_success", ip: "8.8.8.8", device_id: "d1", timestamp: T0 + 10 * MIN }),
  ].join("\n");
  const r = await replay(linesOf(text), config());
  const c = r.alerts.filter((a) => a.rule === "user.compromise_after_attack");
  assert.equal(c.length, 1);
  assert.equal(c[0]!.severity, "high");
  assert.deepEqual(c[0]!.evidence.why, ["attack_asn"]);
  assert.equal((c[0]!.evidence.login as { asn: number }).asn, 15169);
});

Deno.test("replay: a password spray's AS reaches the users it tried: a login of one from another network of that AS is attack_asn", async () => {
  const users = ["u0", "u1", "u2", "u3", "u4", "u5"];
  const spray = users.flatMap((user, u) =>
    [0, 1, 2].map((k) =>
      JSON.stringify({
        kind: "auth",
        type: "login_failure",
        user_id: user,
        ip: "8.8.4.4",
        timestamp: T0 + (u * 3 + k) * 20_000,
      })
    )
  );
  const text = [
    ...spray,
    JSON.stringify({
      kind: "auth",
      type: "login_success",
      user_id: "u0",
      ip: "8.8.8.8",
      device_id: "d1",
      timestamp: T0 + 30 * MIN,
    }),
  ].join("\n");
  const r = await replay(linesOf(text), config());
  assert.ok(r.alerts.some((a) => a.rule === "ip.password_spray"), "the spray is seen");
  const c = r.alerts.filter((a) => a.rule === "user.compromise_after_attack");
  assert.equal(c.length, 1);
  assert.deepEqual(c[0]!.evidence.why, ["attack_asn"]);
  const attacks = c[0]!.evidence.attacks as { rule: string; asn: number | null }[];
  assert.deepEqual(attacks.map((a) => [a.rule, a.asn]), [["ip.password_spray", 15169]]);
});
