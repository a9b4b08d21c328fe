import assert from "node:assert/strict";
import fc from "fast-check";
import { type DueTimer, TimerQueue } from "../../actors/timers.ts";
import { Residents } from "../../actors/residents.ts";
import type { Cell } from "../../actors/cell.ts";

/** What a queue must do, kept the plain way: the live timer of each id, fired in (at, seq). */
class Model {
  live = new Map<string, { t: DueTimer; at: number; seq: number }>();
  seq = 0;
  set(type: string, key: string, name: string, at: number, message: unknown) {
    this.live.set(`${type}:${key}#${name}`, {
      t: { type, key, name, message },
      at,
      seq: ++this.seq,
    });
  }
  cancel(type: string, key: string, name: string) {
    this.live.delete(`${type}:${key}#${name}`);
  }
  popDue(t: number): DueTimer[] {
    const due = [...this.live.entries()].filter(([, v]) => v.at <= t)
      .sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq);
    for (const [id] of due) this.live.delete(id);
    return due.map(([, v]) => v.t);
  }
}

Deno.test("TimerQueue fires as the plain model does whatever is set, replaced and cancelled, its pending() rebuilds a queue that fires the same, and it holds at most 1,024 more entries than twice its live timers", () => {
  const op = fc.oneof(
    fc.record({
      op: fc.constant("set" as const),
      key: fc.integer({ min: 0, max: 40 }),
      name: fc.constantFrom("idle", "window"),
      at: fc.integer({ min: 0, max: 60 }), // many ties
    }),
    fc.record({
      op: fc.constant("cancel" as const),
      key: fc.integer({ min: 0, max: 40 }),
      name: fc.constantFrom("idle", "window"),
    }),
    fc.record({ op: fc.constant("pop" as const), t: fc.integer({ min: 0, max: 60 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 3_000 }), (ops) => {
      const q = new TimerQueue(), m = new Model();
      let n = 0;
      for (const o of ops) {
        if (o.op === "set") {
          q.set("user", `u${o.key}`, o.name, o.at, ++n, n % 3 === 0);
          m.set("user", `u${o.key}`, o.name, o.at, n);
        } else if (o.op === "cancel") {
          q.cancel("user", `u${o.key}`, o.name);
          m.cancel("user", `u${o.key}`, o.name);
        } else {
          assert.deepEqual(
            q.popDue(o.t).map((d) => d.message),
            m.popDue(o.t).map((d) => d.message),
          );
        }
        assert.equal(q.size, m.live.size);
        assert.ok(q.held <= 1_024 + 2 * q.size, `${q.held} held for ${q.size} live`);
      }
      // A queue set from `pending()` in its order fires identically, stamps and all.
      const copy = new TimerQueue();
      for (const p of q.pending()) copy.set(p.type, p.key, p.name, p.at, p.message, p.stamp);
      const fired = q.popDue(Infinity);
      assert.deepEqual(copy.popDue(Infinity), fired);
      assert.deepEqual(fired.map((d) => d.message), m.popDue(Infinity).map((d) => d.message));
      assert.ok(fired.every((d) => (d.stamp === true) === (Number(d.message) % 3 === 0)));
      assert.equal(q.size, 0);
    }),
    { numRuns: 60, seed: 16 },
  );
});

Deno.test("TimerQueue: a million replacements of 10,000 users' timers hold no more than the bound", () => {
  const q = new TimerQueue();
  for (let round = 0; round < 100; round++) {
    for (let u = 0; u < 10_000; u++) q.set("user", `u${u}`, "idle", 1_000 + round, round);
  }
  assert.equal(q.size, 10_000);
  assert.ok(q.held <= 1_024 + 20_000, `${q.held}`);
  const due = q.popDue(Infinity);
  assert.equal(due.length, 10_000);
  assert.ok(due.every((d) => d.message === 99), "only the last of each fires");
});

Deno.test("Residents.evictionOrder goes on from where it stopped, past changes, and round to the front once", () => {
  const r = new Residents();
  const cell = (key: string) => ({ type: "user", key }) as unknown as Cell;
  const cells = ["a", "b", "c", "d", "e"].map(cell);
  for (const c of cells) r.add(c);
  const take = (n: number) => {
    const out: string[] = [];
    for (const c of r.evictionOrder()) {
      out.push(c.key);
      if (out.length === n) break;
    }
    return out;
  };
  assert.deepEqual(take(2), ["a", "b"]);
  r.remove(cells[0]!);
  r.remove(cells[1]!);
  assert.deepEqual(take(1), ["c"], "from where it stopped, not the front");
  r.moveToBack(cells[2]!); // c had a second chance: it goes to the back
  r.add(cell("f"));
  assert.deepEqual(take(4), ["d", "e", "c", "f"], "on past the end, to its new entries");
  assert.deepEqual(take(2), ["d", "e"], "then a new lap from the front");
  assert.deepEqual(
    take(10),
    ["c", "f", "d", "e", "c", "f"],
    "to the end and one lap more, at most",
  );
  assert.deepEqual([...new Residents().evictionOrder()], []);
});

Deno.test("TimerQueue: timers due at the same time fire in the order they were set, popped one time at a time or all at once", () => {
  const q = new TimerQueue(), each = new TimerQueue();
  const set: { at: number; i: number }[] = [];
  for (let i = 0; i < 2_000; i++) {
    const at = (i * 7_919) % 13;
    q.set("user", `u${i}`, "idle", at, i);
    each.set("user", `u${i}`, "idle", at, i);
    set.push({ at, i });
  }
  const want = set.sort((a, b) => a.at - b.at || a.i - b.i).map((s) => s.i);
  assert.deepEqual(q.popDue(Infinity).map((d) => d.message), want);
  const oneByOne = Array.from({ length: 13 }, (_, t) => each.popDue(t).map((d) => d.message));
  assert.deepEqual(oneByOne.flat(), want);
});
