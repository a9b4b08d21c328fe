/**
 * Records keyed by input (field names, metric names, entity keys): objects without a
 * prototype, so a key named `constructor`, `toString` or `__proto__` is an ordinary entry,
 * never something every object inherits. They are plain JSON, so actor state holding them
 * survives a checkpoint as is; a record read back from JSON has a prototype again, which
 * is why entries are read with {@linkcode entryOf} (own entries only), never `r[key]`.
 *
 * @module
 */

/** A record keyed by input. Read it with `entryOf`; write a copy with `keyedCopy`. */
export type Keyed<T> = Readonly<Record<string, T>>;

/** The empty record. */
export const NO_ENTRIES: Keyed<never> = Object.freeze(Object.create(null));

/**
 * The entry of `key`, or undefined: own entries only, whether `r` has a prototype or not.
 *
 * @example
 * ```ts
 * import { entryOf, keyedCopy } from "./keyed.ts";
 * entryOf(keyedCopy({}), "constructor"); // undefined
 * ```
 */
export function entryOf<T>(r: Keyed<T>, key: string): T | undefined {
  return Object.hasOwn(r, key) ? r[key] : undefined;
}

/** A copy of `r` to write entries into, without a prototype (`copy[key] = v` is safe). */
export function keyedCopy<T>(r: Keyed<T>): Record<string, T> {
  const out: Record<string, T> = Object.create(null);
  for (const key of Object.keys(r)) out[key] = r[key]!;
  return out;
}

/** `r` with `key` set to `value` (a new record; `r` is left alone). */
export function withEntry<T>(r: Keyed<T>, key: string, value: T): Keyed<T> {
  const out = keyedCopy(r);
  out[key] = value;
  return out;
}
