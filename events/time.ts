/**
 * Event time from its text: ISO-8601 (read as UTC without an offset), with a fast path for
 * the shape `Date#toISOString` writes.
 *
 * @module
 */

const DIGIT_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The shape `Date#toISOString` writes, `YYYY-MM-DDTHH:MM:SS.sssZ`, without a regex; NaN otherwise. */
function parseCanonical(t: string): number {
  for (const i of DIGIT_AT) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
  }
  if (
    t[4] !== "-" || t[7] !== "-" || t[10] !== "T" || t[13] !== ":" || t[16] !== ":" ||
    t[19] !== "."
  ) return NaN;
  const n = (i: number) => (t.charCodeAt(i) - 48) * 10 + t.charCodeAt(i + 1) - 48;
  const y = n(0) * 100 + n(2), mo = n(5), d = n(8), h = n(11), mi = n(14), s = n(17);
  const ms = (t.charCodeAt(20) - 48) * 100 + n(21);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return NaN;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && !leap ? 28 : DAYS[mo - 1]!)) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Epoch ms of an ISO-8601 date or date-time; NaN for anything else (including dates
 * that do not exist, such as February 30). Without an offset the time is read as UTC,
 * never as the machine's local time, so every machine reads it the same.
 */
export function parseIso(text: string): number {
  if (text.length === 24 && text.charCodeAt(23) === 90 /* Z */) {
    const fast = parseCanonical(text);
    if (fast === fast) return fast; // not NaN
  }
  const m = ISO.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h = "0", mi = "0", sec = "0", frac = "", zone = "Z"] = m;
  const ms = Number((frac + "000").slice(0, 3));
  const utc = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(sec),
    ms,
  );
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) || check.getUTCSeconds() !== Number(sec)
  ) return NaN;
  if (zone.toUpperCase() === "Z") return utc;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  return utc - sign * offset;
}
