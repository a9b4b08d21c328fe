import assert from "node:assert/strict";
import {
  addRecent,
  countIn,
  distinctTags,
  EMPTY_RECENT,
  type Recent,
  rememberDistinct,
  within,
} from "../../actors/window.ts";

const BIG = 1_000_000;

/** Adds `[t, id, tag]` occurrences in the order given. */
function build(items: [number, string, string][], span_ms = BIG, cap = BIG): Recent {
  return items.reduce((w, [t, id, tag]) => addRecent(w, t, id, tag, span_ms, cap), EMPTY_RECENT);
}

Deno.test("addRecent() keeps occurrences in time order whatever the arrival order", () => {
  const w = build([[30, "c", "z"], [10, "a", "x"], [40, "d", "x"], [20, "b", "y"]]);
  assert.deepEqual(w, {
    ts: [10, 20, 30, 40],
    ids: ["a", "b", "c", "d"],
    tags: ["x", "y", "z", "x"],
  });
});

Deno.test("addRecent() gives the same window for every arrival order", () => {
  const items: [number, string, string][] = [[1, "a", ""], [5, "b", ""], [3, "c", ""], [
    9,
    "d",
    "",
  ]];
  const expected = build(items, 6, 3);
  const orders = [[3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]];
  for (const order of orders) {
    assert.deepEqual(build(order.map((i) => items[i]!), 6, 3), expected, String(order));
  }
});

Deno.test("addRecent() puts an equal time after the ones already there", () => {
  const w = build([[10, "a", ""], [10, "b", ""], [5, "c", ""], [10, "d", ""]]);
  assert.deepEqual(w.ids, ["c", "a", "b", "d"]);
});

Deno.test("addRecent() drops occurrences at or before newest - span", () => {
  const w = build([[0, "a", ""], [1, "b", ""], [100, "c", ""]], 100);
  assert.deepEqual(w.ts, [1, 100], "t = newest - span is outside, newest - span + 1 inside");
  assert.deepEqual(w.ids, ["b", "c"]);
});

Deno.test("addRecent() drops a late arrival already older than the span", () => {
  const w = build([[200, "a", ""], [250, "b", ""], [100, "late", ""]], 100);
  assert.deepEqual(w.ids, ["a", "b"]);
});

Deno.test("addRecent() keeps at most the cap newest occurrences", () => {
  const w = build([[1, "a", ""], [2, "b", ""], [3, "c", ""], [4, "d", ""]], BIG, 3);
  assert.deepEqual(w.ids, ["b", "c", "d"]);
  const late = addRecent(w, 0, "late", "", BIG, 3);
  assert.deepEqual(late.ids, ["b", "c", "d"], "a late arrival is the oldest, so it goes");
});

Deno.test("addRecent() never mutates the window it was given", () => {
  const w = build([[1, "a", "x"], [2, "b", "y"]]);
  const frozen = Object.freeze({
    ts: Object.freeze([...w.ts]),
    ids: Object.freeze([...w.ids]),
    tags: Object.freeze([...w.tags]),
  });
  const inserted = addRecent(frozen, 0, "c", "z", BIG, BIG);
  const trimmed = addRecent(frozen, 3, "d", "z", 2, 2);
  assert.deepEqual(frozen, { ts: [1, 2], ids: ["a", "b"], tags: ["x", "y"] });
  assert.deepEqual(inserted.ids, ["c", "a", "b"]);
  assert.deepEqual(trimmed.ids, ["b", "d"]);
  assert.deepEqual(EMPTY_RECENT, { ts: [], ids: [], tags: [] });
});

Deno.test("countIn() counts from_ms < t <= to_ms", () => {
  const w = build([[10, "a", ""], [20, "b", ""], [30, "c", ""]]);
  const table: [number, number, number][] = [
    [10, 30, 2],
    [9, 30, 3],
    [10, 29, 1],
    [20, 20, 0],
    [19, 20, 1],
    [30, 100, 0],
    [0, 5, 0],
  ];
  for (const [from, to, n] of table) assert.equal(countIn(w, from, to), n, `(${from}, ${to}]`);
  assert.equal(countIn(EMPTY_RECENT, -Infinity, Infinity), 0);
});

Deno.test("within() keeps from_ms < t <= to_ms with ids and tags aligned", () => {
  const w = build([[10, "a", "x"], [20, "b", "y"], [30, "c", "z"]]);
  assert.deepEqual(within(w, 10, 30), { ts: [20, 30], ids: ["b", "c"], tags: ["y", "z"] });
  assert.deepEqual(within(w, 9, 10), { ts: [10], ids: ["a"], tags: ["x"] });
  assert.deepEqual(within(w, 30, 40), { ts: [], ids: [], tags: [] });
  for (const [from, to] of [[0, 100], [10, 20], [15, 25]] as const) {
    assert.equal(within(w, from, to).ts.length, countIn(w, from, to));
  }
});

Deno.test("distinctTags() lists non-empty tags once, in first-seen order", () => {
  const w = build([[1, "a", "y"], [2, "b", ""], [3, "c", "x"], [4, "d", "y"], [5, "e", "x"]]);
  assert.deepEqual(distinctTags(w), ["y", "x"]);
  assert.deepEqual(distinctTags(EMPTY_RECENT), []);
  assert.deepEqual(distinctTags(build([[1, "a", ""]])), []);
});

Deno.test("rememberDistinct() keeps the newest distinct values, newest last, up to max", () => {
  let list: readonly string[] = [];
  for (const v of ["a", "b", "a", "c", "d", "e"]) list = rememberDistinct(list, v, 3);
  assert.deepEqual(list, ["c", "d", "e"]);
  assert.deepEqual(rememberDistinct(["x", "y"], "x", 3), ["y", "x"], "a known value moves last");
  const same = ["x", "y"];
  assert.equal(rememberDistinct(same, "y", 3), same, "the newest again: the same list");
  assert.equal(rememberDistinct(same, undefined, 3), same);
});
