/**
 * A seeded pseudo-random source (mulberry32), so that every simulation, every jitter
 * and every generated data set can be replayed from its seed.
 *
 * @module
 */

/**
 * A function returning numbers in [0, 1), the same sequence for the same seed.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./random.ts";
 * const r = seededRandom(42);
 * r(); // the same first number on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
