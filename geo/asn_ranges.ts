/**
 * Address ranges to autonomous systems, read from the CSV of `@ip-location-db/asn`
 * (`start,end,asn,organisation` a line, ranges ascending and disjoint) into typed arrays
 * and searched by binary search. An organisation's name is not decoded until asked for:
 * a range keeps where its name starts in the file's bytes (which the caller holds).
 *
 * @module
 */

import { compareV6, parseIpv4, parseIpv6 } from "./address.ts";

/** Ranges of one family, ascending: a range is `starts[i]..ends[i]` (4 words each for IPv6). */
export interface AsnRanges {
  readonly family: 4 | 6;
  readonly count: number;
  /**
   * Ranges that began inside the one before them (the file has a few): the earlier one
   * is cut to end where the later begins.
   */
  readonly overlaps: number;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly asns: Uint32Array;
  /** Where each range's organisation starts in `bytes`. */
  readonly names: Uint32Array;
  readonly bytes: Uint8Array;
}

/** An autonomous system found for an address. */
export interface AsnHit {
  readonly asn: number;
  readonly org: string;
}

/** A line of the CSV that cannot be read (with its number, from 1). */
export class AsnCsvError extends Error {
  constructor(readonly line: number, reason: string) {
    super(`Cannot read the ASN ranges: line ${line} ${reason}`);
  }
}

const NL = 10, COMMA = 44, CR = 13;
const decoder = new TextDecoder();

/**
 * The ranges of a CSV: IPv4 lines hold the range's ends as decimal integers
 * (`asn-ipv4-num.csv`), IPv6 lines as addresses (`asn-ipv6.csv`). Throws an `AsnCsvError`
 * naming the line when one is not a range, or starts at or before the one above it; a
 * range starting inside the one above cuts that one short (`overlaps`).
 *
 * @example
 * ```ts
 * import { findAsn, readAsnRanges } from "./asn_ranges.ts";
 * const csv = new TextEncoder().encode('134744064,134744319,15169,Google LLC\n');
 * findAsn(readAsnRanges(csv, 4), { family: 4, v4: 134744072 }); // { asn: 15169, org: "Google LLC" }
 * ```
 */
export function readAsnRanges(bytes: Uint8Array, family: 4 | 6): AsnRanges {
  let lines = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === NL) lines++;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== NL) lines++;
  const width = family === 4 ? 1 : 4;
  const starts = new Uint32Array(lines * width);
  const ends = new Uint32Array(lines * width);
  const asns = new Uint32Array(lines);
  const names = new Uint32Array(lines);
  let n = 0, pos = 0, line = 0, overlaps = 0;
  while (pos < bytes.length) {
    line++;
    let eol = bytes.indexOf(NL, pos);
    if (eol < 0) eol = bytes.length;
    if (eol > pos && !(eol === pos + 1 && bytes[pos] === CR)) {
      const c1 = bytes.indexOf(COMMA, pos);
      const c2 = c1 < 0 ? -1 : bytes.indexOf(COMMA, c1 + 1);
      const c3 = c2 < 0 ? -1 : bytes.indexOf(COMMA, c2 + 1);
      if (c3 < 0 || c3 > eol) throw new AsnCsvError(line, "has fewer than 4 fields");
      const asn = decimal(bytes, c2 + 1, c3);
      if (asn === null || asn > 0xffffffff) throw new AsnCsvError(line, "has no AS number");
      if (!readEnds(bytes, pos, c1, c2, family, starts, ends, n)) {
        throw new AsnCsvError(line, `has no IPv${family} range`);
      }
      if (n > 0) {
        const order = against(starts, ends, n, width);
        if (order === "before") throw new AsnCsvError(line, "starts before the range above it");
        if (order === "overlap") {
          cutBefore(starts, ends, n, width);
          overlaps++;
        }
      }
      asns[n] = asn;
      names[n] = c3 + 1;
      n++;
    }
    pos = eol + 1;
  }
  return { family, count: n, overlaps, starts, ends, asns, names, bytes };
}

/** Reads a range's two ends into row `n`; false when they are not addresses in order. */
function readEnds(
  bytes: Uint8Array,
  from: number,
  c1: number,
  c2: number,
  family: 4 | 6,
  starts: Uint32Array,
  ends: Uint32Array,
  n: number,
): boolean {
  if (family === 4) {
    const a = decimal(bytes, from, c1) ?? dotted(bytes, from, c1);
    const b = decimal(bytes, c1 + 1, c2) ?? dotted(bytes, c1 + 1, c2);
    if (a === null || b === null || a > 0xffffffff || b > 0xffffffff || b < a) return false;
    starts[n] = a;
    ends[n] = b;
    return true;
  }
  const a = parseIpv6(decoder.decode(bytes.subarray(from, c1)));
  const b = parseIpv6(decoder.decode(bytes.subarray(c1 + 1, c2)));
  if (a === null || b === null || compareV6(b, a) < 0) return false;
  starts.set(a, n * 4);
  ends.set(b, n * 4);
  return true;
}

/**
 * Where row `n` starts against row `n - 1`: after its end, within it (an overlap), or at
 * or before its start (out of order).
 */
function against(
  starts: Uint32Array,
  ends: Uint32Array,
  n: number,
  width: number,
): "after" | "overlap" | "before" {
  const cmp = (a: Uint32Array, i: number, b: Uint32Array, j: number) => {
    for (let w = 0; w < width; w++) {
      const d = a[i * width + w]! - b[j * width + w]!;
      if (d !== 0) return d;
    }
    return 0;
  };
  if (cmp(starts, n, ends, n - 1) > 0) return "after";
  return cmp(starts, n, starts, n - 1) > 0 ? "overlap" : "before";
}

/** Ends row `n - 1` just before row `n` starts (the later range takes what they share). */
function cutBefore(starts: Uint32Array, ends: Uint32Array, n: number, width: number): void {
  let borrow = true;
  for (let w = width - 1; w >= 0; w--) {
    const v = starts[n * width + w]!;
    ends[(n - 1) * width + w] = borrow ? (v === 0 ? 0xffffffff : v - 1) : v;
    borrow = borrow && v === 0;
  }
}

function decimal(bytes: Uint8Array, from: number, to: number): number | null {
  if (to <= from || to - from > 10) return null;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = bytes[i]! - 48;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  return v;
}

function dotted(bytes: Uint8Array, from: number, to: number): number | null {
  return to - from > 15 ? null : parseIpv4(decoder.decode(bytes.subarray(from, to)));
}

/**
 * The autonomous system of an address (of the ranges' family), or null when no range
 * holds it.
 */
export function findAsn(
  r: AsnRanges,
  address: { family: 4; v4: number } | { family: 6; v6: readonly number[] },
): AsnHit | null {
  if (address.family !== r.family) return null;
  let lo = 0, hi = r.count - 1, found = -1;
  // The last range starting at or before the address.
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = address.family === 4
      ? address.v4 - r.starts[mid]!
      : compareV6(address.v6, r.starts, mid * 4);
    if (c >= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return null;
  const inside = address.family === 4
    ? address.v4 <= r.ends[found]!
    : compareV6(address.v6, r.ends, found * 4) <= 0;
  return inside ? { asn: r.asns[found]!, org: nameAt(r.bytes, r.names[found]!) } : null;
}

/** A CSV field from `from` to the end of its line (quotes and doubled quotes undone). */
function nameAt(bytes: Uint8Array, from: number): string {
  let eol = bytes.indexOf(NL, from);
  if (eol < 0) eol = bytes.length;
  if (eol > from && bytes[eol - 1] === CR) eol--;
  const text = decoder.decode(bytes.subarray(from, eol));
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    return text.slice(1, -1).replaceAll('""', '"');
  }
  return text;
}
