/**
 * The snapshot encoding (`actors/state_codec.ts`) and the embedded store built on it: a
 * decoded value is the encoded one exactly (fast-check over random values, fixed seed),
 * every behaviour's states survive it while a runtime passivates its actors all the time,
 * and the store's slabs are reclaimed.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { EncodedSnapshots } from "../../actors/encoded_snapshots.ts";
import { StateCodec, StateCodecError } from "../../actors/state_codec.ts";
import type { SnapshotStore } from "../../actors/ports.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { Run } from "../../engine/replay.ts";
import { flowsOf, Simulator } from "../../sim/simulator.ts";
import type { ModelManifest } from "../../models/service.ts";
import flowManifest from "../../models/flow_classifier/v2.manifest.json" with { type: "json" };

const SEED = { seed: 16, numRuns: 300 };

/**
 * Whether `b` is `a` in every respect a behaviour can see: Object.is for primitives, the
 * same prototype, the same own keys in the same order, Map and Set entries in order.
 */
function exactly(a: unknown, b: unknown, path = "$"): void {
  if (typeof a !== "object" || a === null) {
    if (!Object.is(a, b)) assert.fail(`${path}: ${shown(a)} came back as ${shown(b)}`);
    return;
  }
  if (typeof b !== "object" || b === null) {
    assert.fail(`${path}: an object came back as ${shown(b)}`);
  }
  assert.equal(Object.getPrototypeOf(b), Object.getPrototypeOf(a), `${path}: prototype`);
  if (a instanceof Map) {
    const x = [...a], y = [...(b as Map<unknown, unknown>)];
    assert.equal(y.length, x.length, `${path}: map size`);
    x.forEach(([k, v], i) => {
      exactly(k, y[i]![0], `${path}.key${i}`);
      exactly(v, y[i]![1], `${path}.get(${String(k)})`);
    });
    return;
  }
  if (a instanceof Set) {
    const x = [...a], y = [...(b as Set<unknown>)];
    assert.equal(y.length, x.length, `${path}: set size`);
    x.forEach((v, i) => exactly(v, y[i], `${path}.item${i}`));
    return;
  }
  assert.equal(Array.isArray(b), Array.isArray(a), `${path}: array or not`);
  const ka = Reflect.ownKeys(a), kb = Reflect.ownKeys(b);
  assert.deepEqual(kb, ka, `${path}: keys`);
  for (const k of ka) {
    exactly(
      (a as Record<PropertyKey, unknown>)[k],
      (b as Record<PropertyKey, unknown>)[k],
      `${path}.${String(k)}`,
    );
  }
}

function shown(v: unknown): string {
  return typeof v === "object" && v !== null ? "an object" : Object.is(v, -0) ? "-0" : String(v);
}

/** Keys as states have them, and the awkward ones. */
const key = fc.oneof(
  fc.constantFrom("ts", "ids", "tags", "n", "1", "0", "__proto__", "constructor", ""),
  fc.string({ maxLength: 12 }),
);

const number = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1767571200123, 175, 176),
  fc.double(),
  fc.maxSafeInteger(),
);

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }), // lone surrogates too
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("e-1-5", "85.0.0.5", "NO", "Oslo", "x".repeat(200)),
);

/** A record as built by assignment, or without a prototype (`keyed.ts`), own keys kept. */
function record(entries: [string, unknown][], bare: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = bare ? Object.create(null) : {};
  for (const [k, v] of entries) {
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return o;
}

const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    number,
    text,
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie("value"), { maxLength: 20 }),
    fc.tuple(fc.array(fc.tuple(key, tie("value")), { maxLength: 8 }), fc.boolean())
      .map(([e, bare]) => record(e, bare)),
    fc.array(fc.tuple(fc.oneof(text, number), tie("value")), { maxLength: 4 })
      .map((e) => new Map(e)),
    fc.array(fc.oneof(text, number), { maxLength: 4 }).map((e) => new Set(e)),
  ),
}));

Deno.test("StateCodec.decode() gives back exactly what encode() was given", () => {
  const codec = new StateCodec(64); // few shapes: objects past them carry their keys
  fc.assert(
    fc.property(value, (v) => {
      exactly(v, codec.decode(codec.encode(v)));
    }),
    SEED,
  );
});

Deno.test("StateCodec.encode() refuses what it cannot give back exactly", () => {
  const codec = new StateCodec();
  for (const v of [() => 1, new Date(0), new Float32Array(2), Symbol("s"), 1n]) {
    assert.throws(() => codec.encode({ v }), StateCodecError);
  }
  assert.throws(() => codec.decode(new Uint8Array([0x09, 0x05])), StateCodecError);
});

/** A snapshot store that checks, on every load, that the state is the one saved. */
class CheckedSnapshots implements SnapshotStore {
  readonly inner: EncodedSnapshots;
  readonly saved = new Map<string, unknown>();
  loads = 0;
  constructor(config: Config) {
    this.inner = new EncodedSnapshots(config.runtime);
  }
  load(id: string): unknown {
    return this.inner.load(id);
  }
  take(id: string): unknown {
    const state = this.inner.take(id);
    if (state !== undefined) {
      this.loads++;
      exactly(this.saved.get(id), state, id);
    }
    return state;
  }
  save(id: string, state: unknown): void {
    this.saved.set(id, state);
    this.inner.save(id, state);
  }
  delete(id: string): void {
    this.inner.delete(id);
  }
}

Deno.test("every behaviour's states come back exactly, and alerts are the same, when actors are passivated all the time", async () => {
  const config = structuredClone(defaults) as Config;
  const sim = new Simulator({
    seed: 5,
    users: 300,
    start_ms: Date.UTC(2026, 0, 5, 8),
    events_per_second: 40,
    attack_interval_s: 20,
    flows: flowsOf(flowManifest as unknown as ModelManifest, 10)!,
    ops: { clicks_per_second: 10 },
  });
  const lines = sim.take(6_000).map((e) => JSON.stringify(e));
  async function run(max_resident: number, snapshots?: SnapshotStore) {
    const c = structuredClone(config) as Config;
    c.runtime.max_resident_actors = max_resident;
    const r = new Run(c, null, [], snapshots);
    let n = 0;
    for (const line of lines) {
      const e = r.parse(line, ++n);
      if (e) await r.feed(e, n);
    }
    const alerts = (await r.finish(false, 0)).alerts;
    // The rest too (the few sources, services and pages are rarely the ones evicted).
    r.runtime.passivateAll();
    return alerts;
  }
  const all = await run(1_000_000);
  const checked = new CheckedSnapshots(config);
  const few = await run(25, checked);
  assert.ok(checked.loads > 1_000, `states came back ${checked.loads} times`);
  const types = new Set<string>();
  for (const id of checked.saved.keys()) {
    checked.take(id);
    types.add(id.slice(0, id.indexOf(":")));
  }
  assert.deepEqual([...types].sort(), ["ip", "page", "service", "src", "user"]);
  assert.ok(all.length > 5, `${all.length} alerts`);
  assert.deepEqual(few, all);
});

Deno.test("EncodedSnapshots reclaims the space of states taken back", () => {
  const config = structuredClone(defaults) as Config;
  config.runtime.snapshot_min_compact_bytes = 1 << 16;
  const store = new EncodedSnapshots(config.runtime);
  const state = (i: number) => ({ n: i, w: { ts: [i, i + 1], ids: [`e-${i}`], tags: ["x"] } });
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 2_000; i++) store.save(`user:u${i}`, state(i + round));
    for (let i = 0; i < 2_000; i += 2) store.take(`user:u${i}`);
  }
  assert.equal(store.size, 1_000);
  for (let i = 1; i < 2_000; i += 2) exactly(state(i + 49), store.load(`user:u${i}`));
  // 1,000 live states of ~30 bytes; without compaction 50 rounds would hold 100 × as many.
  assert.ok(store.slabBytes <= 4 << 20, `${store.slabBytes} bytes of slabs`);
  const big = { s: "y".repeat(300_000) };
  store.save("page:big", big);
  exactly(big, store.take("page:big"));
  assert.equal(store.size, 1_000);
});

Deno.test("EncodedSnapshots keeps every state exact through saves, takes and deletes across many slabs, its garbage bounded", () => {
  const config = structuredClone(defaults) as Config;
  config.runtime.snapshot_min_compact_bytes = 1 << 16;
  const store = new EncodedSnapshots(config.runtime);
  const model = new Map<string, unknown>();
  let seed = 16;
  const rand = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
  const state = (i: number, len: number) => ({ n: i, s: "z".repeat(len), w: [i, len] });
  for (let round = 0; round < 12; round++) {
    for (let op = 0; op < 6_000; op++) {
      const id = `user:u${rand(3_000)}`, what = rand(10);
      if (what < 6) {
        const s = state(op, 20 + rand(2_000)); // ~1 KB on average: ~3 MB live, several slabs
        store.save(id, s);
        model.set(id, s);
      } else if (what < 9) {
        const got = store.take(id);
        if (model.has(id)) exactly(model.get(id), got);
        else assert.equal(got, undefined);
        model.delete(id);
      } else {
        store.delete(id);
        model.delete(id);
      }
    }
    assert.equal(store.size, model.size);
    for (const [id, s] of model) exactly(s, store.load(id));
    // Live bytes, a quarter as much again of garbage, and unused tails and spares.
    assert.ok(
      store.slabBytes <= 1.25 * store.liveBytes + (8 << 20),
      `${store.slabBytes} bytes of slabs for ${store.liveBytes} live`,
    );
  }
});
