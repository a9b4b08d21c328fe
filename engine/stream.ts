/**
 * The console's live stream: new alerts, changed incidents and triage changes as
 * server-sent events (`GET /api/v1/stream`). Bounded everywhere: a number of clients at
 * once (one more is refused), a buffer per client that drops its oldest messages when the
 * client reads too slowly (and then tells it how many, so it reloads what it shows), and a
 * heartbeat comment on a quiet stream. A client reads at its own pace: the next message is
 * formed only when its connection takes more (the stream's `pull`).
 *
 * @module
 */

import type { ConsoleLimits } from "../config/defaults.ts";

/** What the stream carries: an event name and its JSON data. */
export interface StreamMessage {
  event: "alert" | "incident" | "triage";
  data: unknown;
}

/** The limits of a hub. */
export type StreamLimits = Pick<
  ConsoleLimits,
  "stream_max_clients" | "stream_client_buffer_messages" | "stream_heartbeat_ms"
>;

const encoder = new TextEncoder();

/** One connected client: its bounded buffer of frames. */
class StreamClient {
  #frames: string[] = [];
  #dropped = 0;
  #wake: (() => void) | null = null;
  #closed = false;
  constructor(readonly limits: StreamLimits, readonly onClose: (c: StreamClient) => void) {}

  /** Queues a frame; a full buffer loses its oldest. */
  push(frame: string): void {
    if (this.#closed) return;
    if (this.#frames.length >= this.limits.stream_client_buffer_messages) {
      this.#frames.shift();
      this.#dropped++;
    }
    this.#frames.push(frame);
    this.#wake?.();
  }

  /** The next text to send: waits for a frame, a heartbeat after a quiet spell; null once closed. */
  async next(): Promise<string | null> {
    if (this.#frames.length === 0 && !this.#closed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, this.limits.stream_heartbeat_ms);
      });
      clearTimeout(timer);
      this.#wake = null;
    }
    if (this.#closed) return null;
    if (this.#frames.length === 0) return ": heartbeat\n\n";
    let text = "";
    if (this.#dropped > 0) {
      text += frame("dropped", { dropped: this.#dropped });
      this.#dropped = 0;
    }
    // Everything waiting goes out in one write.
    text += this.#frames.join("");
    this.#frames = [];
    return text;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#frames = [];
    this.#wake?.();
    this.onClose(this);
  }
}

/** One server-sent event. */
function frame(event: string, data: unknown, id?: number): string {
  return `event: ${event}\n${id === undefined ? "" : `id: ${id}\n`}data: ${
    JSON.stringify(data)
  }\n\n`;
}

/** Fans messages out to the stream's clients. */
export class StreamHub {
  #clients = new Set<StreamClient>();
  #seq = 0;
  #closed = false;
  constructor(readonly limits: StreamLimits) {}

  /** Clients connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Sends messages to every client. */
  publish(messages: readonly StreamMessage[]): void {
    if (this.#clients.size === 0) return;
    for (const m of messages) {
      const text = frame(m.event, m.data, ++this.#seq);
      for (const c of this.#clients) c.push(text);
    }
  }

  /**
   * A response streaming to a new client, or null when `stream_max_clients` are
   * connected or the hub is closed. The stream ends when the client goes away or the hub closes.
   */
  open(): Response | null {
    if (this.#closed || this.#clients.size >= this.limits.stream_max_clients) return null;
    const client = new StreamClient(this.limits, (c) => this.#clients.delete(c));
    this.#clients.add(client);
    let first: string | null = `retry: 3000\n` +
      frame("hello", { heartbeat_ms: this.limits.stream_heartbeat_ms });
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const text = first ?? await client.next();
        first = null;
        if (text === null) controller.close();
        else controller.enqueue(encoder.encode(text));
      },
      cancel() {
        client.close();
      },
    }, { highWaterMark: 0 });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Ends every stream and takes no more (before the server shuts down, which waits for them). */
  close(): void {
    this.#closed = true;
    for (const c of [...this.#clients]) c.close();
  }
}
