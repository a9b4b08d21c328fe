import assert from "node:assert/strict";
import { flowCsvReader } from "../../io/flow_csv.ts";
import { parseEvent } from "../../events/validate.ts";

/** The shared data sets: `VIGIL_DATA_DIR`, else `../shared/data` beside the project. */
const DATA = Deno.env.get("VIGIL_DATA_DIR") ??
  new URL("../../../shared/data", import.meta.url).pathname;
const RAW = `${DATA}/cicids2017/raw-sample/cicids2017_sample_raw.csv`;
const present = await Deno.stat(RAW).then(() => true, () => false);
if (!present) console.error(`${RAW} is not here: the raw-sample import test is skipped`);

Deno.test({
  name:
    "The raw MachineLearningCVE sample imports whole: 12,001 valid flow events, Infinity and NaN kept",
  ignore: !present,
}, async () => {
  const [header, ...lines] = (await Deno.readTextFile(RAW)).split("\n").filter((l) =>
    l.trim() !== ""
  );
  const read = flowCsvReader(header!, {
    source: "raw",
    timestamp_ms: Date.UTC(2017, 6, 3),
    src_ip: "198.51.100.1",
    dst_ip: "198.51.100.2",
  });
  let valid = 0, nonFinite = 0;
  const labels = new Map<string, number>();
  lines.forEach((line, i) => {
    const r = read(line, i + 2);
    assert.equal(r.ok, true, r.ok ? "" : r.reason);
    if (!r.ok) return;
    const parsed = parseEvent(JSON.stringify(r.event));
    assert.equal(parsed.ok, true, parsed.ok ? "" : parsed.reason);
    valid++;
    const f = r.event.features as Record<string, unknown>;
    nonFinite += Object.values(f).filter((v) => typeof v === "string").length;
    const label = String(r.event.label);
    labels.set(label, (labels.get(label) ?? 0) + 1);
  });
  assert.equal(valid, 12_001);
  assert.equal(nonFinite, 28, "the 28 Infinity/NaN cells of SOURCE.md");
  assert.equal(labels.get("BENIGN"), 9_637);
  assert.equal(labels.get("DDoS"), 518);
});
