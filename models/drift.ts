/**
 * Input drift: the live distribution of each feature against the training distribution,
 * as a population stability index (PSI) over the training deciles the manifest carries.
 * PSI below 0.1 is usually read as stable, 0.1–0.25 as a moderate shift, above 0.25 as a
 * large one.
 *
 * @module
 */

/** Per feature: bin edges and the share of training rows in each bin (`edges.length + 1`). */
export interface DriftBaseline {
  edges: number[][];
  shares: number[][];
}

/** Values as the model's preprocessing sees them before scaling: NaN is 0, clipped to ±1e12. */
const CLIP = 1e12;

/** A bin share of zero would make PSI infinite; it counts as this much. */
const FLOOR = 1e-4;

/** PSI of `actual` shares against `expected` ones (same bins). */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] ?? 0, FLOOR);
    const a = Math.max(actual[i] ?? 0, FLOOR);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** Counts live rows per feature bin, and tells the PSI of each feature. */
export class DriftTracker {
  readonly features: readonly string[];
  #baseline: DriftBaseline;
  /** The edges as float32, the precision of the rows the model is given. */
  #edges: Float32Array[];
  #counts: Float64Array[];
  /** Rows counted (one in `every` of the rows observed). */
  rows = 0;
  #every: number;
  /** Rows still to skip before the next one counted. */
  #skip = 0;

  constructor(baseline: DriftBaseline, features: readonly string[], every = 1) {
    this.#every = Math.max(1, Math.floor(every));
    if (baseline.edges.length !== features.length || baseline.shares.length !== features.length) {
      throw new Error(
        `Cannot track drift: the baseline has ${baseline.edges.length} features, the model ${features.length}`,
      );
    }
    baseline.edges.forEach((e, j) => {
      if (baseline.shares[j]!.length !== e.length + 1) {
        throw new Error(
          `Cannot track drift: feature ${features[j]} has a bin count that does not fit`,
        );
      }
    });
    this.#baseline = baseline;
    this.#edges = baseline.edges.map((e) => Float32Array.from(e));
    this.features = features;
    this.#counts = baseline.shares.map((s) => new Float64Array(s.length));
  }

  /** Counts one in `every` of `n` rows laid out one after another (`width` values each). */
  observe(rows: Float32Array, n: number, width: number): void {
    const edges = this.#edges;
    let r = this.#skip;
    for (; r < n; r += this.#every) {
      const base = r * width;
      for (let j = 0; j < edges.length; j++) {
        let v = rows[base + j]!;
        if (Number.isNaN(v)) v = 0;
        else if (v > CLIP) v = CLIP;
        else if (v < -CLIP) v = -CLIP;
        const e = edges[j]!;
        let lo = 0, hi = e.length; // the first edge >= v, or e.length
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (e[mid]! >= v) hi = mid;
          else lo = mid + 1;
        }
        this.#counts[j]![lo]!++;
      }
      this.rows++;
    }
    this.#skip = r - n;
  }

  /** Each feature's PSI over the rows counted so far (empty before any row). */
  psi(): { feature: string; psi: number }[] {
    if (this.rows === 0) return [];
    return this.features.map((feature, j) => ({
      feature,
      psi: psi(this.#baseline.shares[j]!, [...this.#counts[j]!].map((c) => c / this.rows)),
    }));
  }
}
