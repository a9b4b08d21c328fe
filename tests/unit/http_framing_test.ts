import assert from "node:assert/strict";
import { ChunkedScanner, framingOf, headEnd } from "../../io/http_framing.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("headEnd() finds the blank line that ends a head, from where the last search stopped", () => {
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\nHost: x\r\n")), -1);
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\n\r\nbody")), 18);
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\n\r\n"), 14), 18);
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\n\r\n"), 15), -1, "it starts where told");
});

Deno.test("framingOf() reads Content-Length and chunked bodies, and refuses heads framed two ways", () => {
  const head = (h: string) => framingOf(bytes(`POST /x HTTP/1.1\r\n${h}\r\n`));
  assert.deepEqual(head("Content-Length: 12\r\n"), { kind: "length", bytes: 12 });
  assert.deepEqual(head("content-length: 0\r\n"), { kind: "none" });
  assert.deepEqual(head("Content-Length: 7, 7\r\n"), { kind: "length", bytes: 7 });
  assert.deepEqual(head("Transfer-Encoding: gzip, chunked\r\n"), { kind: "chunked" });
  assert.deepEqual(head("Host: x\r\n"), { kind: "none" });
  assert.deepEqual(head("Upgrade: websocket\r\nConnection: upgrade\r\n"), { kind: "raw" });
  assert.equal(head("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n").kind, "bad");
  assert.equal(head("Content-Length: 3\r\nContent-Length: 4\r\n").kind, "bad");
  assert.equal(head("Content-Length: -1\r\n").kind, "bad");
  assert.equal(head("Content-Length: 1e3\r\n").kind, "bad");
  assert.deepEqual(head("Transfer-Encoding: gzip\r\n"), {
    kind: "bad",
    status: 501,
    reason: 'Transfer-Encoding "gzip" is not served (chunked only)',
  });
  assert.equal(head("Bad Header: x\r\n").kind, "bad");
  assert.equal(framingOf(bytes("PRI * HTTP/2.0\r\n\r\n")).kind, "bad");
});

Deno.test("ChunkedScanner.feed() finds the end of a chunked body across pieces, trailers included", () => {
  const body = "4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n";
  const whole = new ChunkedScanner();
  assert.equal(whole.feed(bytes(body + "GET")), body.length);
  const split = new ChunkedScanner();
  const at: number[] = [];
  for (const ch of body) at.push(split.feed(bytes(ch)));
  assert.deepEqual(at.slice(0, -1).filter((i) => i !== -1), [], "not before its last byte");
  assert.equal(at.at(-1), 1);
  assert.equal(split.error, null);
});

Deno.test("ChunkedScanner.feed() refuses a size that is not hexadecimal and a chunk without its CRLF", () => {
  const s = new ChunkedScanner();
  assert.equal(s.feed(bytes("zz\r\n")), -1);
  assert.match(s.error!, /not hexadecimal/);
  const t = new ChunkedScanner();
  t.feed(bytes("3\r\nabcX\r\n"));
  assert.match(t.error!, /does not end with CRLF/);
});
