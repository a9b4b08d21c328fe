/**
 * Where an HTTP/1.1 request ends: the end of its head, how its body is framed
 * (`Content-Length`, chunked, none), and the end of a chunked body. Pure functions over
 * bytes, for the HTTP front (`io/http_server.ts`), which times each part of a request
 * without reading the request itself.
 *
 * @module
 */

/** How a request's body is framed, or why the head cannot be served. */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; bytes: number }
  | { kind: "chunked" }
  /** An upgrade (e.g. WebSocket): what follows is no longer HTTP/1.1 requests. */
  | { kind: "raw" }
  | { kind: "bad"; status: 400 | 501; reason: string };

const CR = 13;
const LF = 10;

/** The index just past the first `\r\n\r\n` in `buf` at or after `from`, or -1. */
export function headEnd(buf: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from); i + 3 < buf.length; i++) {
    if (buf[i] === CR && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) {
      return i + 4;
    }
  }
  return -1;
}

const latin1 = new TextDecoder("latin1");

/**
 * The framing of a request's body, read from its head (request line and headers, with
 * the closing blank line). A head that frames its body two ways or in a way that cannot
 * be read is refused, as RFC 9112 §6.3 asks.
 *
 * @example
 * ```ts
 * import { framingOf } from "./http_framing.ts";
 * const head = new TextEncoder().encode("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
 * framingOf(head); // { kind: "length", bytes: 5 }
 * ```
 */
export function framingOf(head: Uint8Array): Framing {
  const lines = latin1.decode(head).split("\r\n");
  const request = lines[0]!.split(" ");
  if (request.length !== 3 || !/^HTTP\/1\.[01]$/.test(request[2]!)) {
    return { kind: "bad", status: 400, reason: "The request line is not HTTP/1.x" };
  }
  const lengths: string[] = [];
  const codings: string[] = [];
  let upgrade = false;
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) {
      return { kind: "bad", status: 400, reason: "A header line is not a name and a value" };
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") lengths.push(...value.split(",").map((v) => v.trim()));
    else if (name === "transfer-encoding") {
      codings.push(...value.split(",").map((v) => v.trim().toLowerCase()).filter((v) => v));
    } else if (name === "upgrade") upgrade = true;
  }
  if (codings.length > 0) {
    if (lengths.length > 0) {
      return {
        kind: "bad",
        status: 400,
        reason: "The request has both Content-Length and Transfer-Encoding",
      };
    }
    if (codings.at(-1) !== "chunked") {
      return {
        kind: "bad",
        status: 501,
        reason: `Transfer-Encoding "${codings.join(", ")}" is not served (chunked only)`,
      };
    }
    return { kind: "chunked" };
  }
  if (lengths.length > 0) {
    if (!lengths.every((l) => /^\d{1,15}$/.test(l)) || new Set(lengths).size > 1) {
      return { kind: "bad", status: 400, reason: "The Content-Length is not one whole number" };
    }
    const bytes = Number(lengths[0]);
    return bytes === 0 ? { kind: "none" } : { kind: "length", bytes };
  }
  return upgrade ? { kind: "raw" } : { kind: "none" };
}

/** Longest chunk-size line (size, extensions) or trailer line read, in bytes. */
const MAX_CHUNK_LINE = 4_096;

/**
 * Follows a chunked body as its bytes pass: `feed` says where in a piece the body ends.
 *
 * @example
 * ```ts
 * import { ChunkedScanner } from "./http_framing.ts";
 * const s = new ChunkedScanner();
 * s.feed(new TextEncoder().encode("5\r\nhello\r\n0\r\n\r\nGET")); // 15: "GET" is the next request
 * ```
 */
export class ChunkedScanner {
  #state: "size" | "data" | "data_end" | "trailer" = "size";
  #line = "";
  #left = 0;
  /** Why the body cannot be read, once it cannot. */
  error: string | null = null;

  /** The index in `piece` just past the body's end, or -1 when it goes on (or is bad). */
  feed(piece: Uint8Array): number {
    for (let i = 0; i < piece.length && this.error === null; i++) {
      const b = piece[i]!;
      switch (this.#state) {
        case "data": {
          const take = Math.min(this.#left, piece.length - i);
          this.#left -= take;
          i += take - 1;
          if (this.#left === 0) {
            this.#state = "data_end";
            this.#line = "";
          }
          break;
        }
        case "size":
        case "data_end":
        case "trailer": {
          if (b !== LF) {
            if (this.#line.length >= MAX_CHUNK_LINE) this.error = "A chunk line is too long";
            this.#line += String.fromCharCode(b);
            break;
          }
          const line = this.#line.endsWith("\r") ? this.#line.slice(0, -1) : this.#line;
          this.#line = "";
          if (this.#state === "data_end") {
            if (line !== "") this.error = "A chunk does not end with CRLF";
            this.#state = "size";
          } else if (this.#state === "trailer") {
            if (line === "") return i + 1;
          } else {
            const size = line.split(";")[0]!.trim();
            if (!/^[0-9a-fA-F]{1,12}$/.test(size)) {
              this.error = `A chunk size "${size.slice(0, 20)}" is not hexadecimal`;
              break;
            }
            this.#left = parseInt(size, 16);
            this.#state = this.#left === 0 ? "trailer" : "data";
          }
          break;
        }
      }
    }
    return -1;
  }
}
