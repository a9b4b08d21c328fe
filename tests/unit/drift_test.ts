import assert from "node:assert/strict";
import { DriftTracker, psi } from "../../models/drift.ts";

Deno.test("psi() is 0 for the same shares, grows with the shift, and stays finite for empty bins", () => {
  assert.equal(psi([0.5, 0.5], [0.5, 0.5]), 0);
  const small = psi([0.25, 0.25, 0.25, 0.25], [0.3, 0.2, 0.25, 0.25]);
  const large = psi([0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]);
  assert.ok(small > 0 && small < 0.1, `${small}`);
  assert.ok(large > 0.25, `${large}`);
  assert.ok(Number.isFinite(psi([0.5, 0.5, 0], [0, 0, 1])));
  // (0.3-0.25)ln(0.3/0.25) + (0.2-0.25)ln(0.2/0.25)
  assert.ok(Math.abs(small - (0.05 * Math.log(1.2) + -0.05 * Math.log(0.8))) < 1e-12);
});

Deno.test("DriftTracker bins like the training side: first edge >= value; NaN as 0; Infinity clipped", () => {
  // One feature, edges [1, 10]: bins (-inf,1], (1,10], (10,inf).
  const t = new DriftTracker({ edges: [[1, 10]], shares: [[0.5, 0.25, 0.25]] }, ["f"]);
  t.observe(Float32Array.from([1, 5, 10, 11, NaN, Infinity, -Infinity, 0]), 8, 1);
  assert.equal(t.rows, 8);
  // Bins: 1→0, 5→1, 10→1, 11→2, NaN(0)→0, +Inf→2, -Inf→0, 0→0: shares 4/8, 2/8, 2/8.
  assert.deepEqual(t.psi(), [{ feature: "f", psi: 0 }]);
  t.observe(Float32Array.from(Array(8).fill(100)), 8, 1);
  assert.ok(t.psi()[0]!.psi > 0.25, "a shift to the top bin shows");
  assert.throws(
    () => new DriftTracker({ edges: [[1]], shares: [[1]] }, ["f"]),
    /bin count that does not fit/,
  );
});

Deno.test("DriftTracker counts one in `every` rows, evenly across batches", () => {
  const t = new DriftTracker({ edges: [[1]], shares: [[0.5, 0.5]] }, ["f"], 3);
  for (let b = 0; b < 5; b++) t.observe(Float32Array.from([0, 5, 0, 5]), 4, 1);
  // 20 rows observed, rows 0, 3, 6, … counted: 7 of them, alternating bins as the rows do.
  assert.equal(t.rows, 7);
  assert.ok(t.psi()[0]!.psi < 0.05);
});
