/**
 * Test helper: a real `VigilSystem` in memory, and requests to its app without a socket.
 *
 * @module
 */

import type { Config } from "../../config/defaults.ts";
import { loadConfig } from "../../config/load.ts";
import { VigilSystem } from "../../engine/system.ts";

import assert from "node:assert/strict";
import { appOf } from "../../api/system_app.ts";

export { waitFor } from "../wait.ts";

/** The admin token of the systems built here. */
export const TOKEN = "test-token";

/** Builds a real system (optionally with changed limits), starts it, and always stops it. */
export async function withSystem(
  fn: (system: VigilSystem) => Promise<void>,
  tune?: (config: Config) => void,
): Promise<void> {
  const config = loadConfig({});
  tune?.(config);
  const system = new VigilSystem({ config, token: TOKEN });
  await system.start({ simulate: false });
  try {
    await fn(system);
  } finally {
    await system.stop();
  }
}

/** Posts a body as is (a string) with a content type. */
export async function post(
  system: VigilSystem,
  path: string,
  body: string,
  type = "application/json",
  method = "POST",
) {
  const res = await appOf(system).request(path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": type },
    body,
  });
  const text = await res.text();
  // What an ingest took in is handled before the test looks (the embedded log's readers
  // start on it in the next turn of the event loop: io/turns.ts).
  if (method === "POST" && path.startsWith("/api/v1/events") && res.ok) await system.whenIdle();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // deno-lint-ignore no-explicit-any
  return { status: res.status, text, json: json as any };
}

/** Any request, with the token: a body and its content type only when given. */
export async function request(
  system: VigilSystem,
  path: string,
  init: { method?: string; body?: string; type?: string } = {},
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  if (init.type !== undefined) headers["content-type"] = init.type;
  const res = await appOf(system).request(path, {
    method: init.method ?? "GET",
    headers,
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  return { status: res.status, text: await res.text() };
}

/** A request with the token, a JSON body and an If-Match when given: status, ETag and JSON. */
export async function sendJson(
  system: VigilSystem,
  path: string,
  o: { method?: string; body?: unknown; match?: string } = {},
) {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  if (o.match !== undefined) headers["if-match"] = o.match;
  if (o.body !== undefined) headers["content-type"] = "application/json";
  const res = await appOf(system).request(path, {
    method: o.method ?? "GET",
    headers,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  // deno-lint-ignore no-explicit-any
  return { status: res.status, etag: res.headers.get("etag"), json: await res.json() as any };
}

/** The sum of every sample of a metric in Prometheus text, optionally with one label value. */
export function metricSum(text: string, name: string, label?: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (label !== undefined && !(m[2] ?? "").includes(label)) continue;
    sum += Number(m[3]);
  }
  return sum;
}

/** Checks an ingest answer took in all of `n` events: the counts, and each item accepted. */
// deno-lint-ignore no-explicit-any
export function assertAllAccepted(answer: any, n: number): void {
  const { items, ...counts } = answer ?? {};
  assert.deepEqual(counts, { accepted: n, rejected: 0, errors: [], forwarded: 0 });
  assert.deepEqual(
    // deno-lint-ignore no-explicit-any
    (items as any[]).map((i) => [i.index, i.verdict, i.reason]),
    Array.from({ length: n }, (_, i) => [i, "accepted", undefined]),
  );
}

/** The counts of an ingest answer as they were before its per-item verdicts. */
// deno-lint-ignore no-explicit-any
export function countsOf(answer: any): { accepted: number; rejected: number; errors: unknown[] } {
  return { accepted: answer.accepted, rejected: answer.rejected, errors: answer.errors };
}
