/**
 * The HTTP front's read timeouts over raw TCP sockets on loopback: slow headers and a
 * body that never comes are answered 408 and closed after their timeout, an idle
 * kept-alive connection is closed, and well-behaved requests (kept alive, chunked,
 * large) are served as before. Last, `main.ts start` with the timeouts set from the
 * environment.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type HttpFront, serveWithTimeouts } from "../../io/http_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const encoder = new TextEncoder();

/** An app that reads whole bodies, as the ingest route does; counts the bodies it read. */
function app() {
  const seen = { bodies: 0, failed: 0 };
  const hono = new Hono();
  hono.post("/echo", bodyLimit({ maxSize: 2_000_000 }), async (c) => {
    try {
      const text = await c.req.text();
      seen.bodies++;
      return c.json({ bytes: text.length });
    } catch {
      seen.failed++;
      return c.json({ error: "The body was cut off" }, 500);
    }
  });
  hono.get("/", (c) => c.text("ok"));
  return { seen, fetch: hono.fetch };
}

function front(handler: (r: Request) => Response | Promise<Response>): HttpFront {
  return serveWithTimeouts({
    hostname: "127.0.0.1",
    port: 0,
    header_timeout_ms: 300,
    body_timeout_ms: 400,
    idle_timeout_ms: 500,
  }, handler);
}

/** Sends `text` on a new connection and reads until the server closes it (or 5 s pass). */
async function exchange(
  port: number,
  text: string,
): Promise<{ reply: string; closed: boolean; ms: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const t0 = Date.now();
  if (text !== "") await conn.write(encoder.encode(text));
  let reply = "";
  let closed = false;
  const buf = new Uint8Array(16_384);
  const timer = setTimeout(() => conn.close(), 5_000);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) {
        closed = true;
        break;
      }
      reply += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch {
    // closed by the timer: still open after 5 s
  } finally {
    clearTimeout(timer);
  }
  if (closed) conn.close();
  return { reply, closed, ms: Date.now() - t0 };
}

Deno.test("HTTP front: headers that never end get 408 and the connection closes after the header timeout", async () => {
  const server = front(app().fetch);
  try {
    const r = await exchange(server.addr.port, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n");
    assert.ok(r.closed, "closed by the server");
    assert.match(r.reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(r.reply, /connection: close/i);
    assert.match(r.reply, /"error":"The request head did not arrive within 300 ms"/);
    assert.ok(r.ms >= 280 && r.ms < 3_000, `after the timeout (${r.ms} ms)`);
    const silent = await exchange(server.addr.port, "");
    assert.ok(silent.closed && silent.reply === "", "a silent connection is closed, unanswered");
  } finally {
    await server.shutdown();
  }
});

Deno.test("HTTP front: a body declared as 1 MB that sends 5 bytes gets 408 after the body timeout, and the handler's read ends", async () => {
  const a = app();
  const server = front(a.fetch);
  try {
    const r = await exchange(
      server.addr.port,
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\nhello",
    );
    assert.ok(r.closed);
    assert.match(r.reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(r.reply, /The request body did not arrive within 400 ms/);
    assert.ok(r.ms >= 380 && r.ms < 3_000, `after the timeout (${r.ms} ms)`);
    for (let i = 0; i < 50 && a.seen.failed === 0; i++) await new Promise((x) => setTimeout(x, 10));
    assert.deepEqual(a.seen, { bodies: 0, failed: 1 }, "the handler stopped waiting for it");
  } finally {
    await server.shutdown();
  }
});

Deno.test("HTTP front: kept-alive, pipelined and chunked requests are served, then the idle connection is closed", async () => {
  const server = front(app().fetch);
  try {
    const r = await exchange(
      server.addr.port,
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n" +
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n",
    );
    const statuses = [...r.reply.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ["200", "200", "200"], r.reply);
    assert.match(r.reply, /\{"bytes":5\}[\s\S]*ok[\s\S]*\{"bytes":7\}/);
    assert.ok(r.closed && r.ms >= 450, `closed once idle (${r.ms} ms)`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("HTTP front: a large body through fetch, and a head framed two ways, a bad length or too large", async () => {
  const server = front(app().fetch);
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/echo`, {
      method: "POST",
      body: "x".repeat(1_500_000),
    });
    assert.deepEqual([res.status, await res.json()], [200, { bytes: 1_500_000 }]);
    const both = await exchange(
      server.addr.port,
      "POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    assert.match(both.reply, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*both Content-Length and/);
    const bad = await exchange(
      server.addr.port,
      "POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    );
    assert.match(bad.reply, /^HTTP\/1\.1 400 /);
    const big = await exchange(server.addr.port, `GET / HTTP/1.1\r\nX: ${"a".repeat(70_000)}\r\n`);
    assert.match(big.reply, /^HTTP\/1\.1 431 /);
  } finally {
    await server.shutdown();
  }
});

Deno.test("main.ts start: VIGIL_API_HEADER_TIMEOUT_MS and VIGIL_API_BODY_TIMEOUT_MS reach the API's socket", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", "main.ts", "start"],
    cwd: ROOT,
    env: {
      PORT: "0",
      ADMIN_TOKEN: "timeouts-token",
      VIGIL_SIMULATOR_ENABLED: "false",
      VIGIL_API_HEADER_TIMEOUT_MS: "300",
      VIGIL_API_BODY_TIMEOUT_MS: "300",
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.getReader();
  try {
    let text = "";
    while (!/"msg":"Vigil is running"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`start exited:\n${text}`);
      text += new TextDecoder().decode(value);
    }
    const port = Number(/"api":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(text)![1]);
    const head = await exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\n");
    assert.match(head.reply, /^HTTP\/1\.1 408 /);
    const body = await exchange(
      port,
      "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer timeouts-token\r\n" +
        'Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"kind"',
    );
    assert.match(body.reply, /^HTTP\/1\.1 408 /);
    assert.ok(body.closed && body.ms < 3_000);
    const ok = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(ok.status, 200, "a request in time is served");
    await ok.body?.cancel();
  } finally {
    child.kill("SIGTERM");
    while (!(await reader.read()).done); // its last lines, to the end
    assert.equal((await child.status).code, 0, "it still stops cleanly");
  }
});
