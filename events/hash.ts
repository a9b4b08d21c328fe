/**
 * A fast, stable 64-bit string hash (two FNV-1a lanes) for deterministic ids.
 *
 * Used for derived `event_id`s and for `alert_id`s: the same input always gives the
 * same 16 hex digits, on every machine and in every mode.
 *
 * @module
 */

/**
 * 16 hex digits that depend only on `text`.
 *
 * @example
 * ```ts
 * import { hash64 } from "./hash.ts";
 * hash64("auth.brute_force|user|alice|e-1"); // always the same 16 hex digits
 * ```
 */
export function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 15);
  }
  // Final avalanche so that near-identical inputs differ in every digit.
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= b >>> 16;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 13;
  return hex8(a) + hex8(b);
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
