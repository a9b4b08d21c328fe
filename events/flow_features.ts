/**
 * A flow's features as the flow model reads them: the 52 CICFlowMeter features of
 * `FLOW_FEATURES`, in that order, as float32. Validation builds the row while it checks
 * the values (`checkedFlowFeatures`), once per flow; the flow's source actor scores it.
 *
 * @module
 */

/** The 52 features of the flow classifier, in its order (`../shared/data/README.md`). */
export const FLOW_FEATURES: readonly string[] = Object.freeze([
  "Destination Port",
  "Flow Duration",
  "Total Fwd Packets",
  "Total Length of Fwd Packets",
  "Fwd Packet Length Max",
  "Fwd Packet Length Min",
  "Fwd Packet Length Mean",
  "Fwd Packet Length Std",
  "Bwd Packet Length Max",
  "Bwd Packet Length Min",
  "Bwd Packet Length Mean",
  "Bwd Packet Length Std",
  "Flow Bytes/s",
  "Flow Packets/s",
  "Flow IAT Mean",
  "Flow IAT Std",
  "Flow IAT Max",
  "Flow IAT Min",
  "Fwd IAT Total",
  "Fwd IAT Mean",
  "Fwd IAT Std",
  "Fwd IAT Max",
  "Fwd IAT Min",
  "Bwd IAT Total",
  "Bwd IAT Mean",
  "Bwd IAT Std",
  "Bwd IAT Max",
  "Bwd IAT Min",
  "Fwd Header Length",
  "Bwd Header Length",
  "Fwd Packets/s",
  "Bwd Packets/s",
  "Min Packet Length",
  "Max Packet Length",
  "Packet Length Mean",
  "Packet Length Std",
  "Packet Length Variance",
  "FIN Flag Count",
  "PSH Flag Count",
  "ACK Flag Count",
  "Average Packet Size",
  "Subflow Fwd Bytes",
  "Init_Win_bytes_forward",
  "Init_Win_bytes_backward",
  "act_data_pkt_fwd",
  "min_seg_size_forward",
  "Active Mean",
  "Active Max",
  "Active Min",
  "Idle Mean",
  "Idle Max",
  "Idle Min",
]); // deno-fmt-ignore

/** A flow's features in the model's order, and how many were absent. */
export interface FlowRow {
  readonly row: Float32Array;
  readonly missing: number;
}

/** Rows cut from one buffer: one backing store per `SLAB_ROWS` flows instead of one each. */
const SLAB_ROWS = 1_024;
let slab = new Float32Array(0);
let slabUsed = 0;

function newRow(width: number): Float32Array {
  if (slabUsed + width > slab.length) {
    slab = new Float32Array(width * SLAB_ROWS);
    slabUsed = 0;
  }
  const row = slab.subarray(slabUsed, slabUsed + width);
  slabUsed += width;
  return row;
}

/** Sensors (and the simulator) write the features in the model's order, and only them. */
function inModelOrder(keys: string[]): boolean {
  if (keys.length !== FLOW_FEATURES.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== FLOW_FEATURES[i]) return false;
  return true;
}

/**
 * JSON has no Infinity or NaN; CICFlowMeter writes them, so their names are taken (a
 * number too large for a double, which JSON.parse reads as Infinity, is not).
 */
function isFeatureValue(v: unknown): boolean {
  return typeof v === "number"
    ? Number.isFinite(v)
    : v === "Infinity" || v === "-Infinity" || v === "NaN";
}

/**
 * The row of `values` (the model's features in its order). A value that is not a feature
 * value is absent (NaN, counted), or, when `strict`, its name (of `names`) is returned
 * (also for a number that is not finite).
 */
function fill(values: unknown[], names: readonly string[], strict: boolean): FlowRow | string {
  const row = newRow(FLOW_FEATURES.length);
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "number" && (!strict || Number.isFinite(v))) row[i] = v;
    else if (v === "Infinity") row[i] = Infinity;
    else if (v === "-Infinity") row[i] = -Infinity;
    else if (v === "NaN") row[i] = NaN;
    else if (strict) return names[i]!;
    else {
      row[i] = NaN;
      missing++;
    }
  }
  return { row, missing };
}

/** The 52 features of a flow in the model's order; absent ones are NaN (the model zeroes them). */
export function flowFeatures(features: unknown): FlowRow {
  const f = (typeof features === "object" && features !== null ? features : {}) as Record<
    string,
    unknown
  >;
  const keys = Object.keys(f);
  // In the model's order, the values are read in one pass, not looked up by name.
  const values = inModelOrder(keys) ? Object.values(f) : FLOW_FEATURES.map((name) => f[name]);
  return fill(values, FLOW_FEATURES, false) as FlowRow;
}

/**
 * For validation: the row of a flow's features, or the name of a feature (the model's or
 * any other) whose value is neither a number nor one of `"Infinity"`, `"-Infinity"`, `"NaN"`.
 */
export function checkedFlowFeatures(f: Record<string, unknown>): FlowRow | string {
  const keys = Object.keys(f);
  if (inModelOrder(keys)) return fill(Object.values(f), keys, true);
  for (const name of keys) if (!isFeatureValue(f[name])) return name;
  return fill(FLOW_FEATURES.map((name) => f[name]), FLOW_FEATURES, false);
}
