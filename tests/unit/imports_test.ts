import assert from "node:assert/strict";
import { climbs, type ImportGraph, loops } from "../../tools/imports.ts";

const graph = (edges: Record<string, string[]>): ImportGraph =>
  new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

Deno.test("loops() finds every loop of the import graph, a module importing itself included, and nothing else", () => {
  const g = graph({
    "engine/a.ts": ["engine/b.ts", "config/c.ts"],
    "engine/b.ts": ["engine/a.ts"],
    "sim/x.ts": ["sim/y.ts"],
    "sim/y.ts": ["sim/z.ts"],
    "sim/z.ts": ["sim/x.ts", "config/c.ts"],
    "io/self.ts": ["io/self.ts"],
    "config/c.ts": [],
    "api/d.ts": ["engine/a.ts", "config/c.ts"],
  });
  assert.deepEqual(loops(g), [
    ["engine/a.ts", "engine/b.ts"],
    ["io/self.ts"],
    ["sim/x.ts", "sim/y.ts", "sim/z.ts"],
  ]);
  assert.deepEqual(loops(graph({ "a.ts": ["b.ts"], "b.ts": ["c.ts"], "c.ts": [] })), []);
});

Deno.test("loops() walks a chain of 20,000 modules without overflowing the stack", () => {
  const edges: Record<string, string[]> = {};
  for (let i = 0; i < 20_000; i++) edges[`m${i}.ts`] = [`m${i + 1}.ts`];
  edges["m20000.ts"] = ["m0.ts"];
  const found = loops(graph(edges));
  assert.equal(found.length, 1);
  assert.equal(found[0]!.length, 20_001);
});

Deno.test("climbs() names each import from the core, or from the engine into the API, into a folder it does not stand on", () => {
  const g = graph({
    "events/validate.ts": ["events/hash.ts", "config/defaults.ts", "actors/hash.ts"],
    "actors/user.ts": ["events/types.ts", "supervisors/root.ts", "config/defaults.ts"],
    "actors/runtime.ts": ["io/metrics.ts"],
    "supervisors/root.ts": ["actors/types.ts"],
    "config/load.ts": ["actors/placement.ts"],
    "engine/system.ts": ["api/app.ts", "io/log.ts"],
  });
  assert.deepEqual(climbs(g), [
    "actors/runtime.ts → io/metrics.ts",
    "config/load.ts → actors/placement.ts",
    "engine/system.ts → api/app.ts",
    "events/validate.ts → actors/hash.ts",
    "supervisors/root.ts → actors/types.ts",
  ]);
});
