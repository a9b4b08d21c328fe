import assert from "node:assert/strict";
import { StreamHub } from "../../engine/stream.ts";

const LIMITS = {
  stream_max_clients: 2,
  stream_client_buffer_messages: 3,
  stream_heartbeat_ms: 20,
};

/** Reads a response's stream until `until` is in what was read. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: string) {
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes(until)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  return text;
}

Deno.test("StreamHub.open() refuses a client past stream_max_clients, and after close()", async () => {
  const hub = new StreamHub(LIMITS);
  const a = hub.open(), b = hub.open();
  assert.ok(a && b);
  assert.equal(hub.open(), null);
  assert.equal(hub.clients, 2);
  assert.equal(a.headers.get("content-type"), "text/event-stream; charset=utf-8");
  await a.body!.cancel();
  assert.equal(hub.clients, 1, "a client gone frees its place");
  hub.close();
  assert.equal(hub.clients, 0);
  assert.equal(hub.open(), null, "a closed hub takes no one");
  // The closed stream ends after its greeting.
  assert.match(await new Response(b.body).text(), /^retry: 3000\nevent: hello\n/);
});

Deno.test("StreamHub: messages as server-sent events, a heartbeat when quiet, the oldest dropped and counted", async () => {
  const hub = new StreamHub(LIMITS);
  const reader = hub.open()!.body!.getReader();
  assert.match(await readUntil(reader, "event: hello"), /data: \{"heartbeat_ms":20\}/);
  assert.match(await readUntil(reader, ": heartbeat"), /^: heartbeat\n\n$/);
  hub.publish([{ event: "alert", data: { alert_id: "a1" } }]);
  assert.equal(
    await readUntil(reader, "a1"),
    'event: alert\nid: 1\ndata: {"alert_id":"a1"}\n\n',
  );
  // Five while the client reads nothing: the buffer of 3 keeps the newest and says 2 were lost.
  hub.publish([1, 2, 3, 4, 5].map((n) => ({ event: "incident", data: { n } })));
  const text = await readUntil(reader, '"n":5');
  assert.match(text, /^event: dropped\ndata: \{"dropped":2\}\n\n/);
  assert.deepEqual([...text.matchAll(/"n":(\d)/g)].map((m) => m[1]), ["3", "4", "5"]);
  hub.close();
  assert.deepEqual(await reader.read(), { value: undefined, done: true });
});
