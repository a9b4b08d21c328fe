import assert from "node:assert/strict";
import { IngestBucket } from "../../api/app.ts";
import { loadConfig } from "../../config/load.ts";

Deno.test("IngestBucket: a burst, then the rate; a request takes all its events or none; 0 turns it off", () => {
  let now = 0;
  const b = new IngestBucket(100, 500, () => now);
  assert.equal(b.take(500), 0, "the whole burst at once");
  assert.equal(b.take(1), 0.01, "then one waits 10 ms");
  now += 1_000;
  assert.equal(b.take(100), 0, "100 came back in a second");
  assert.equal(b.take(50), 0.5, "none left: 50 wait half a second");
  now += 250;
  assert.equal(b.take(50), 0.25, "a refused request took nothing: 25 in, 25 to wait for");
  now += 10_000;
  assert.equal(b.take(500), 0, "never more than the burst");
  assert.ok(b.take(1) > 0);
  const off = new IngestBucket(0, 0, () => now);
  assert.equal(off.take(1_000_000), 0);
});

Deno.test("the ingest limit's settings are checked: a burst smaller than a full request is refused", () => {
  assert.throws(
    () =>
      loadConfig({ VIGIL_API_INGEST_BURST_EVENTS: "10", VIGIL_API_MAX_EVENTS_PER_REQUEST: "100" }),
    /VIGIL_API_INGEST_BURST_EVENTS=10: it must be at least VIGIL_API_MAX_EVENTS_PER_REQUEST \(100\)/,
  );
  assert.throws(() => loadConfig({ VIGIL_API_INGEST_EVENTS_PER_S: "-1" }), /it must be 0/);
  assert.equal(loadConfig({ VIGIL_API_INGEST_EVENTS_PER_S: "0" }).api.ingest_events_per_s, 0);
});
