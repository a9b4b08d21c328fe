/**
 * A small, immutable event-time window of recent occurrences (time, event id, tag),
 * ordered by time (ties by id), bounded in span and in count. Out-of-order arrivals are inserted
 * in place, so windows give the same answer whatever the arrival order.
 *
 * @module
 */

/** Recent occurrences, oldest first. Never mutated: every change returns a new one. */
export interface Recent {
  readonly ts: readonly number[];
  readonly ids: readonly string[];
  readonly tags: readonly string[];
}

/** The empty window, shared. */
export const EMPTY_RECENT: Recent = Object.freeze({
  ts: Object.freeze([]),
  ids: Object.freeze([]),
  tags: Object.freeze([]),
});

/**
 * Adds an occurrence at `t`, then keeps only those within `span_ms` of the newest and
 * at most the `cap` newest.
 *
 * @example
 * ```ts
 * import { addRecent, EMPTY_RECENT } from "./window.ts";
 * const w = addRecent(addRecent(EMPTY_RECENT, 10, "a", "", 100, 5), 5, "b", "", 100, 5);
 * w.ts; // [5, 10]
 * ```
 */
export function addRecent(
  w: Recent,
  t: number,
  id: string,
  tag: string,
  span_ms: number,
  cap: number,
): Recent {
  const n = w.ts.length;
  // Where it goes: ties by id, so the window is the same whatever the order they arrived in.
  let at = n;
  while (at > 0 && (w.ts[at - 1]! > t || (w.ts[at - 1] === t && w.ids[at - 1]! > id))) at--;
  // What is dropped from the front: too old for the newest, or past the cap.
  const newest = at === n ? t : w.ts[n - 1]!;
  const size = n + 1;
  const timeAt = (i: number) => i < at ? w.ts[i]! : i === at ? t : w.ts[i - 1]!;
  let drop = 0;
  while (drop < size && (timeAt(drop) <= newest - span_ms || size - drop > cap)) drop++;
  // Each array built once, at its final size.
  const kept = size - drop;
  const ts = new Array<number>(kept), ids = new Array<string>(kept), tags = new Array<string>(kept);
  for (let k = 0; k < kept; k++) {
    const i = k + drop;
    if (i < at) {
      ts[k] = w.ts[i]!;
      ids[k] = w.ids[i]!;
      tags[k] = w.tags[i]!;
    } else if (i === at) {
      ts[k] = t;
      ids[k] = id;
      tags[k] = tag;
    } else {
      ts[k] = w.ts[i - 1]!;
      ids[k] = w.ids[i - 1]!;
      tags[k] = w.tags[i - 1]!;
    }
  }
  return { ts, ids, tags };
}

/** Occurrences with `from_ms < t <= to_ms`. */
export function countIn(w: Recent, from_ms: number, to_ms: number): number {
  let n = 0;
  for (const t of w.ts) if (t > from_ms && t <= to_ms) n++;
  return n;
}

/** The occurrences with `from_ms < t <= to_ms`, as a new window. */
export function within(w: Recent, from_ms: number, to_ms: number): Recent {
  const keep: number[] = [];
  w.ts.forEach((t, i) => {
    if (t > from_ms && t <= to_ms) keep.push(i);
  });
  return {
    ts: keep.map((i) => w.ts[i]!),
    ids: keep.map((i) => w.ids[i]!),
    tags: keep.map((i) => w.tags[i]!),
  };
}

/** Distinct tags of a window, in first-seen order. */
export function distinctTags(w: Recent): string[] {
  return [...new Set(w.tags.filter((t) => t !== ""))];
}

/**
 * A bounded list of recent distinct values, newest last, after `value` (absent: the
 * same list): `value` moves to the end, and the oldest go past `max`.
 *
 * @example
 * ```ts
 * import { rememberDistinct } from "./window.ts";
 * rememberDistinct(["a", "b", "c"], "a", 3); // ["b", "c", "a"]
 * ```
 */
export function rememberDistinct<T extends string | number>(
  list: readonly T[],
  value: T | undefined,
  max: number,
): readonly T[] {
  if (value === undefined || list[list.length - 1] === value) return list;
  const rest = list.includes(value) ? list.filter((v) => v !== value) : list;
  // `concat` makes the list at its exact size (a push would leave room to grow in the state).
  return (rest.length >= max ? rest.slice(rest.length - max + 1) : rest).concat(value);
}

/**
 * Whether a rule may alert again at `now_ms`: never alerted (`last_ms` null or absent), or
 * its cool-down since the last alert has passed (one alert per rule, entity and episode).
 */
export function cooledDown(
  last_ms: number | null | undefined,
  now_ms: number,
  cooldown_ms: number,
): boolean {
  return last_ms === null || last_ms === undefined || now_ms - last_ms >= cooldown_ms;
}
