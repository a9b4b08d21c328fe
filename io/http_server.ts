/**
 * The HTTP front: the API served with header, body and idle read timeouts.
 *
 * Deno.serve reads requests with no time limit: a client that sends its headers a byte a
 * minute, or declares a 1 MB body and sends 5 bytes, holds its connection (and what the
 * handler buffered) until it leaves. So the front owns the listening socket. It reads
 * each request's head itself, against `header_timeout_ms`, and hands it to Deno.serve on
 * a loopback port of its own; the body passes through as it comes, against
 * `body_timeout_ms`, and the answer passes back untouched. A request too slow gets 408
 * and its connection is closed, which also ends the handler's wait for the body; a head
 * that cannot be framed gets 400 (431 past `max_header_bytes`). A kept-alive connection
 * with no request for `idle_timeout_ms` is closed.
 *
 * @module
 */

import { ChunkedScanner, framingOf, headEnd } from "./http_framing.ts";

/** How long each part of a request may take to arrive. */
export interface ReadTimeouts {
  /** A request's head: from the connection's opening or the request's first byte. */
  header_timeout_ms: number;
  /** Its body: from the end of its head. */
  body_timeout_ms: number;
  /** A kept-alive connection between requests. */
  idle_timeout_ms: number;
}

/** Where and how to serve. */
export interface FrontOptions extends ReadTimeouts {
  hostname: string;
  port: number;
  /** Largest request head (request line and headers); default 64 KiB. */
  max_header_bytes?: number;
  onListen?: (addr: Deno.NetAddr) => void;
}

/** A running front. */
export interface HttpFront {
  readonly addr: Deno.NetAddr;
  /** Stops accepting, lets the requests being handled finish, closes every connection. */
  shutdown(): Promise<void>;
}

type Handler = (req: Request) => Response | Promise<Response>;

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
};

/**
 * Serves `handler` on `hostname:port` behind the read timeouts. Listening fails at once
 * (e.g. `Deno.errors.AddrInUse`), before anything is served.
 *
 * @example
 * ```ts ignore
 * import { serveWithTimeouts } from "./http_server.ts";
 * const front = serveWithTimeouts({
 *   hostname: "127.0.0.1",
 *   port: 8080,
 *   header_timeout_ms: 10_000,
 *   body_timeout_ms: 30_000,
 *   idle_timeout_ms: 60_000,
 * }, () => new Response("ok"));
 * await front.shutdown();
 * ```
 */
export function serveWithTimeouts(options: FrontOptions, handler: Handler): HttpFront {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const conns = new Map<number, FrontConn>();
  let inner: Deno.HttpServer<Deno.NetAddr>;
  try {
    inner = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen() {},
      // A body cut off by the front (its timeout) is expected; anything else is shown.
      onError(err) {
        if (!(err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted)) {
          console.error(err);
        }
        return new Response(null, { status: 500 });
      },
    }, async (req, info) => {
      const conn = conns.get(info.remoteAddr.port);
      try {
        return await handler(req);
      } finally {
        conn?.answered();
      }
    });
  } catch (err) {
    listener.close();
    throw err;
  }
  const settings = { ...options, max_header_bytes: options.max_header_bytes ?? 65_536 };
  const open = new Set<FrontConn>();
  const accepting = (async () => {
    for await (const client of listener) {
      const conn = new FrontConn(client, settings);
      open.add(conn);
      conn.run(inner.addr.port, (port) => conns.set(port, conn)).finally(() => {
        open.delete(conn);
        if (conn.innerPort !== null) conns.delete(conn.innerPort);
      });
    }
  })().catch(() => {}); // the listener closed
  const addr = listener.addr as Deno.NetAddr;
  options.onListen?.(addr);
  return {
    addr,
    async shutdown() {
      listener.close();
      await accepting;
      await inner.shutdown();
      for (const c of [...open]) c.close();
      await Promise.all([...open].map((c) => c.done));
    },
  };
}

const encoder = new TextEncoder();

/** One client connection and its own connection to the inner server. */
class FrontConn {
  #client: Deno.TcpConn;
  #inner: Deno.TcpConn | null = null;
  #o: Required<Omit<FrontOptions, "onListen">>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** What is being read: a head, a body, nothing (between requests), or raw bytes. */
  #phase: "head" | "body" | "between" | "raw" = "head";
  #head: Uint8Array[] = [];
  #headBytes = 0;
  #bodyLeft = 0;
  #chunked: ChunkedScanner | null = null;
  /** Heads handed on, and answers the handler returned. */
  #forwarded = 0;
  #answered = 0;
  #closed = false;
  #done = Promise.withResolvers<void>();
  #pump: Promise<void> = Promise.resolve();
  innerPort: number | null = null;

  constructor(client: Deno.TcpConn, o: Required<Omit<FrontOptions, "onListen">>) {
    this.#client = client;
    this.#o = o;
  }

  get done(): Promise<void> {
    return this.#done.promise;
  }

  async run(port: number, register: (innerPort: number) => void): Promise<void> {
    try {
      this.#arm(this.#o.header_timeout_ms, () => this.#fail(408, "The request head"));
      this.#client.setNoDelay(true);
      this.#inner = await Deno.connect({ hostname: "127.0.0.1", port });
      this.#inner.setNoDelay(true);
      this.innerPort = (this.#inner.localAddr as Deno.NetAddr).port;
      register(this.innerPort);
      this.#pump = this.#pumpAnswers(this.#inner);
      const buf = new Uint8Array(65_536);
      while (!this.#closed) {
        const n = await this.#client.read(buf);
        if (n === null) break;
        await this.#take(buf.subarray(0, n));
      }
      if (!this.#closed) await this.#inner.closeWrite().catch(() => {});
      await this.#pump;
    } catch {
      // the client or the inner server went away
    } finally {
      this.close();
      this.#done.resolve();
    }
  }

  /** The handler returned its answer. */
  answered(): void {
    this.#answered++;
    this.#idleIfDone();
  }

  /** Takes bytes from the client: heads are held until whole, the rest passes on. */
  async #take(bytes: Uint8Array): Promise<void> {
    while (bytes.length > 0 && !this.#closed) {
      if (this.#phase === "raw") return await this.#forward(bytes);
      if (this.#phase === "between") {
        let i = 0;
        while (i < bytes.length && (bytes[i] === 13 || bytes[i] === 10)) i++;
        bytes = bytes.subarray(i);
        if (bytes.length === 0) return;
        this.#phase = "head";
        this.#arm(this.#o.header_timeout_ms, () => this.#fail(408, "The request head"));
      }
      if (this.#phase === "head") bytes = await this.#takeHead(bytes);
      else bytes = await this.#takeBody(bytes);
    }
  }

  async #takeHead(bytes: Uint8Array): Promise<Uint8Array> {
    const before = this.#headBytes;
    this.#head.push(bytes.slice());
    this.#headBytes += bytes.length;
    const all = this.#head.length === 1 ? this.#head[0]! : concat(this.#head, this.#headBytes);
    const end = headEnd(all, before - 3);
    if (end < 0) {
      this.#head = [all];
      if (this.#headBytes > this.#o.max_header_bytes) {
        await this.#fail(431, `A request head is larger than ${this.#o.max_header_bytes} bytes`);
      }
      return new Uint8Array(0);
    }
    if (end > this.#o.max_header_bytes) {
      await this.#fail(431, `A request head is larger than ${this.#o.max_header_bytes} bytes`);
      return new Uint8Array(0);
    }
    const head = all.subarray(0, end);
    const framing = framingOf(head);
    if (framing.kind === "bad") {
      await this.#fail(framing.status, framing.reason);
      return new Uint8Array(0);
    }
    this.#head = [];
    this.#headBytes = 0;
    this.#disarm();
    this.#forwarded++;
    if (framing.kind === "raw") this.#phase = "raw";
    else if (framing.kind === "none") this.#phase = "between";
    else {
      this.#phase = "body";
      this.#bodyLeft = framing.kind === "length" ? framing.bytes : Infinity;
      this.#chunked = framing.kind === "chunked" ? new ChunkedScanner() : null;
      this.#arm(this.#o.body_timeout_ms, () => this.#fail(408, "The request body"));
    }
    await this.#forward(head);
    this.#idleIfDone();
    return all.subarray(end);
  }

  async #takeBody(bytes: Uint8Array): Promise<Uint8Array> {
    let take: number;
    if (this.#chunked) {
      const end = this.#chunked.feed(bytes);
      if (this.#chunked.error !== null) {
        await this.#fail(400, `Cannot read the chunked body: ${this.#chunked.error}`);
        return new Uint8Array(0);
      }
      take = end < 0 ? bytes.length : end;
      if (end >= 0) this.#bodyLeft = 0;
    } else {
      take = Math.min(this.#bodyLeft, bytes.length);
      this.#bodyLeft -= take;
    }
    await this.#forward(bytes.subarray(0, take));
    if (this.#bodyLeft === 0) {
      this.#disarm();
      this.#phase = "between";
      this.#chunked = null;
      this.#idleIfDone();
    }
    return bytes.subarray(take);
  }

  async #forward(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#inner!.write(bytes.subarray(off));
  }

  /** Passes the inner server's answers back to the client as they come. */
  async #pumpAnswers(inner: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(65_536);
    try {
      for (;;) {
        const n = await inner.read(buf);
        if (n === null) break;
        let off = 0;
        while (off < n) off += await this.#client.write(buf.subarray(off, n));
        this.#idleIfDone(); // an answer going out restarts the idle clock
      }
    } catch {
      // closed
    }
    if (!this.#failing) this.close();
  }

  /** Between requests with every answer out: the idle clock runs. */
  #idleIfDone(): void {
    if (this.#phase !== "between" || this.#answered < this.#forwarded || this.#closed) return;
    this.#arm(this.#o.idle_timeout_ms, () => this.close());
  }

  #failing = false;

  /**
   * Ends the connection for a request that cannot go on. The client is told why when
   * that request has no answer yet and some of it arrived; otherwise it is only closed.
   */
  async #fail(status: number, what: string): Promise<void> {
    if (this.#closed || this.#failing) return;
    this.#failing = true;
    this.#disarm();
    // Reading a head, the request before it must have its answer; reading a body, the
    // request itself must not have one yet.
    const unanswered = this.#phase === "head"
      ? this.#answered === this.#forwarded
      : this.#answered < this.#forwarded;
    const started = this.#phase !== "head" || this.#headBytes > 0;
    try {
      this.#inner?.close();
    } catch {
      // already closed
    }
    await this.#pump;
    if (unanswered && started) {
      const message = status === 408
        ? `${what} did not arrive within ${
          what.endsWith("head") ? this.#o.header_timeout_ms : this.#o.body_timeout_ms
        } ms`
        : what;
      const body = JSON.stringify({ error: message });
      const text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n` +
        `content-type: application/json\r\ncontent-length: ${encoder.encode(body).length}\r\n` +
        `connection: close\r\n\r\n${body}`;
      await this.#client.write(encoder.encode(text)).catch(() => 0);
    }
    this.close();
  }

  #arm(ms: number, then: () => unknown): void {
    this.#disarm();
    this.#timer = setTimeout(() => void then(), ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disarm();
    for (const c of [this.#client, this.#inner]) {
      try {
        c?.close();
      } catch {
        // already closed
      }
    }
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
