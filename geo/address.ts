/**
 * IP addresses as numbers, for searching ranges: an IPv4 address as an unsigned 32-bit
 * integer, an IPv6 address as four of them (most significant first). An IPv4-mapped
 * IPv6 address (`::ffff:192.0.2.1`) is read as the IPv4 address it maps.
 *
 * @module
 */

/** An address read: its family and its value (`v4`: one word, `v6`: four). */
export type Address =
  | { readonly family: 4; readonly v4: number }
  | { readonly family: 6; readonly v6: readonly [number, number, number, number] };

/**
 * An IPv4 address in dotted-decimal form as an unsigned 32-bit integer, or null when it is
 * not one (four decimal parts of 0 to 255, no leading zeros, nothing else).
 *
 * @example
 * ```ts
 * import { parseIpv4 } from "./address.ts";
 * parseIpv4("8.8.8.8"); // 134744072
 * parseIpv4("8.8.8"); // null
 * ```
 */
export function parseIpv4(text: string, from = 0, to = text.length): number | null {
  let value = 0, part = 0, digits = 0, parts = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text.charCodeAt(i) : 46; // a virtual dot ends the last part
    if (c === 46) {
      if (digits === 0 || ++parts > 4) return null;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return null; // a leading zero (octal in some readers)
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else return null;
  }
  return parts === 4 ? value : null;
}

/**
 * An IPv6 address in any RFC 4291 text form (`::` shortening, an embedded IPv4 tail, a
 * `%zone` dropped) as four 32-bit words, or null when it is not one.
 *
 * @example
 * ```ts
 * import { parseIpv6 } from "./address.ts";
 * parseIpv6("2001:db8::1"); // [0x20010db8, 0, 0, 1]
 * ```
 */
export function parseIpv6(text: string): [number, number, number, number] | null {
  const zone = text.indexOf("%");
  const s = zone >= 0 ? text.slice(0, zone) : text;
  if (s.length < 2 || s.length > 45) return null;
  const gap = s.indexOf("::");
  if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) return null;
  const head = gap >= 0 ? s.slice(0, gap) : s;
  const tail = gap >= 0 ? s.slice(gap + 2) : "";
  const front = groupsOf(head, gap < 0);
  const back = gap >= 0 ? groupsOf(tail, true) : [];
  if (front === null || back === null) return null;
  const total = front.length + back.length;
  if (gap < 0 ? total !== 8 : total > 7) return null;
  const groups = [...front, ...new Array<number>(8 - total).fill(0), ...back];
  const words: [number, number, number, number] = [0, 0, 0, 0];
  for (let w = 0; w < 4; w++) words[w] = (groups[2 * w]! * 0x10000 + groups[2 * w + 1]!) >>> 0;
  return words;
}

/** The 16-bit groups of one side of `::` (an IPv4 tail allowed on the last side). */
function groupsOf(side: string, last: boolean): number[] | null {
  if (side === "") return [];
  const parts = side.split(":");
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (last && i === parts.length - 1 && p.includes(".")) {
      const v4 = parseIpv4(p);
      if (v4 === null) return null;
      out.push(Math.floor(v4 / 0x10000), v4 & 0xffff);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
  }
  return out;
}

/**
 * An address of either family, or null when the text is neither.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * parseAddress("::ffff:8.8.8.8"); // { family: 4, v4: 134744072 }
 * ```
 */
export function parseAddress(text: string): Address | null {
  if (!text.includes(":")) {
    const v4 = parseIpv4(text);
    return v4 === null ? null : { family: 4, v4 };
  }
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  if (v6[0] === 0 && v6[1] === 0 && v6[2] === 0xffff) return { family: 4, v4: v6[3] };
  return { family: 6, v6 };
}

/**
 * Compares two IPv6 addresses as four words each (the second at `offset` words of `b`):
 * negative, zero or positive.
 */
export function compareV6(
  a: readonly number[],
  b: ArrayLike<number>,
  offset = 0,
): number {
  for (let w = 0; w < 4; w++) {
    const d = a[w]! - b[offset + w]!;
    if (d !== 0) return d;
  }
  return 0;
}
