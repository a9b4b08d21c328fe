/**
 * Reading a file of lines in chunks, with a bound on each line: what the replay readers
 * (`linesOfFile`, and the threaded replay's dealer) share. A line longer than the bound
 * is never held whole: its first bytes are kept and the rest is counted, and it comes out
 * as a short stand-in line that names its size, which the replay dead-letters as
 * oversized, as the API and the Kafka intake do with an event over `VIGIL_MAX_EVENT_BYTES`.
 *
 * @module
 */

/**
 * Bytes a line may have beyond the bound and still be read whole (white space around an
 * event, a CR): such a line is judged on its trimmed text, as the other intakes judge it.
 */
export const LINE_SLACK_BYTES = 4_096;

/** Bytes of an over-long line kept for its dead letter (as many as a dead letter keeps). */
export const LINE_HEAD_BYTES = 65_536;

const NUL = 0;
const encoder = new TextEncoder();

/**
 * `buf`, or, when it holds fewer than `need` bytes, a buffer twice as big (or `need`) with
 * its first `used` bytes.
 */
export function roomFor(
  buf: Uint8Array<ArrayBuffer>,
  used: number,
  need: number,
): Uint8Array<ArrayBuffer> {
  if (need <= buf.length) return buf;
  const bigger = new Uint8Array(Math.max(buf.length * 2, need));
  bigger.set(buf.subarray(0, used));
  return bigger;
}

/** A line read too long to be held, as its stand-in says it. */
export interface TooLong {
  /** The line's length in bytes, and the bound it went past. */
  bytes: number;
  max_bytes: number;
  /** Its first bytes, decoded. */
  head: string;
}

/**
 * The stand-in of a line that was too long: `NUL bytes NUL max NUL head`, then a newline.
 * (A line of a file that opens with NUL is no JSON either way.)
 */
function standIn(head: Uint8Array, bytes: number, max_bytes: number): Uint8Array {
  const prefix = encoder.encode(`\u0000${bytes}\u0000${max_bytes}\u0000`);
  const out = new Uint8Array(prefix.length + head.length + 1);
  out.set(prefix);
  out.set(head, prefix.length);
  out[out.length - 1] = 10;
  return out;
}

/** `head` with as much of `more` as keeps it within `LINE_HEAD_BYTES`. */
function keepHead(head: Uint8Array, more: Uint8Array): Uint8Array {
  const take = Math.min(more.length, LINE_HEAD_BYTES - head.length);
  if (take <= 0) return head;
  const out = new Uint8Array(head.length + take);
  out.set(head);
  out.set(more.subarray(0, take), head.length);
  return out;
}

/** The line a stand-in stands for, or null when `line` is an ordinary line. */
export function tooLong(line: string): TooLong | null {
  if (line.charCodeAt(0) !== NUL) return null;
  const a = line.indexOf("\u0000", 1), b = a < 0 ? -1 : line.indexOf("\u0000", a + 1);
  if (b < 0) return null;
  const bytes = Number(line.slice(1, a)), max_bytes = Number(line.slice(a + 1, b));
  if (!Number.isSafeInteger(bytes) || !Number.isSafeInteger(max_bytes)) return null;
  return { bytes, max_bytes, head: line.slice(b + 1) };
}

/**
 * The bytes of a file in chunks of whole lines: each chunk ends just after a newline (the
 * last one perhaps not, at the end of the file). A line longer than `max_line_bytes` (and
 * `LINE_SLACK_BYTES`) comes as its own chunk: a stand-in (`tooLong` reads it back). A
 * chunk is valid until the next one is asked for (the buffer is read into again).
 */
export async function* wholeLines(
  path: string,
  chunk_bytes: number,
  max_line_bytes: number,
  /** Told of the bytes of each read (progress). */
  onRead?: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const longest = max_line_bytes + LINE_SLACK_BYTES;
  let buf = new Uint8Array(Math.max(1, chunk_bytes));
  let filled = 0; // bytes of a partial line at the front of buf
  /** An over-long line being skipped: its first bytes and its length so far. */
  let skipped: { head: Uint8Array; bytes: number } | null = null;
  for (;;) {
    buf = roomFor(buf, filled, filled + 1);
    const n = await file.read(buf.subarray(filled));
    if (n === null) break;
    onRead?.(n);
    const end = filled + n;
    let start = 0;
    if (skipped) {
      let nl = buf.indexOf(10);
      if (nl >= end) nl = -1;
      skipped.head = keepHead(skipped.head, buf.subarray(0, nl < 0 ? end : nl));
      if (nl < 0) {
        skipped.bytes += n;
        continue; // filled stays 0: nothing of it is held
      }
      yield standIn(skipped.head, skipped.bytes + nl, max_line_bytes);
      skipped = null;
      start = nl + 1;
    }
    const last = buf.lastIndexOf(10, end - 1);
    if (last >= start) {
      yield buf.subarray(start, last + 1);
      start = last + 1;
    }
    if (end - start > longest) {
      skipped = { head: buf.slice(start, start + LINE_HEAD_BYTES), bytes: end - start };
      filled = 0;
      continue;
    }
    buf.copyWithin(0, start, end);
    filled = end - start;
  }
  if (skipped) yield standIn(skipped.head, skipped.bytes, max_line_bytes);
  else if (filled > 0) yield buf.subarray(0, filled);
}
