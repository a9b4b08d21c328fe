/**
 * `deno task start` end to end (CONTRACT.md §3, §4): the real process on a free port,
 * with its built-in simulator injecting attacks every 10 s; the API answers, the
 * simulator's brute-force attacks come out as alerts, and SIGTERM stops it cleanly
 * with exit code 0. Needs --allow-all.
 *
 * @module
 */

import assert from "node:assert/strict";
import { collect, freePort } from "./workers.ts";

const ROOT = new URL("../../", import.meta.url);
const TOKEN = "e2e-token-0123456789";

/** One request, its body always read; `null` when the connection fails. */
async function get(
  url: string,
  token?: string,
): Promise<{ status: number; text: string; headers: Headers } | null> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5_000);
  try {
    const res = await fetch(url, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or null when it takes longer than `ms` (the timer is always cleared). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<null>((r) => timer = setTimeout(() => r(null), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `probe` returns a value or the time runs out (then fails, saying what). */
async function waitFor<T>(
  what: string,
  timeout_ms: number,
  probe: () => Promise<T | undefined>,
  exited: () => boolean,
  stderr: () => string,
): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (exited()) assert.fail(`The process exited while waiting for ${what}:\n${stderr()}`);
    if (Date.now() > deadline) {
      assert.fail(`Timed out after ${timeout_ms} ms waiting for ${what}:\n${stderr()}`);
    }
    await sleep(250);
  }
}

Deno.test({
  name: "deno task start: serves the API, alerts on simulated brute force, stops on SIGTERM",
  sanitizeOps: true,
  sanitizeResources: true,
}, async () => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start"],
    cwd: ROOT,
    env: {
      HOST: "127.0.0.1",
      PORT: String(port),
      ADMIN_TOKEN: TOKEN,
      VIGIL_SIMULATOR_ATTACK_INTERVAL_S: "10",
      // Whatever the outer environment says, run on the embedded log and store.
      KAFKA_BROKERS: "",
      MONGODB_URI: "",
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stderrText = "";
  let exitedStatus: Deno.CommandStatus | null = null;
  const stdoutDone = collect(child.stdout);
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderrText += decoder.decode(chunk, { stream: true });
  })();
  const status = child.status.then((s) => exitedStatus = s);
  const exited = () => exitedStatus !== null;
  const tail = () => stderrText.slice(-4_000);

  try {
    await waitFor(
      "GET /health",
      20_000,
      async () => {
        const r = await get(`${base}/health`);
        return r?.status === 200 ? r : undefined;
      },
      exited,
      tail,
    ).then((r) => assert.deepEqual(JSON.parse(r.text), { status: "ok" }));

    const ready = await waitFor(
      "GET /ready",
      10_000,
      async () => {
        const r = await get(`${base}/ready`);
        return r?.status === 200 ? r : undefined;
      },
      exited,
      tail,
    );
    assert.equal(JSON.parse(ready.text).ready, true);

    // Everything under /api/v1 needs the token.
    const denied = await get(`${base}/api/v1/alerts?rule=auth.brute_force`);
    assert.ok(denied, "the API answers");
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal(typeof JSON.parse(denied.text).error, "string");
    const wrong = await get(`${base}/api/v1/alerts?rule=auth.brute_force`, "not-the-token");
    assert.equal(wrong?.status, 401);

    // The metrics are served without a token.
    const metrics = await get(`${base}/metrics`);
    assert.equal(metrics?.status, 200);
    assert.match(metrics!.text, /vigil_events_ingested_total/);

    // The simulator's first attack starts 5 s in; its failures are 1–8 s apart.
    const alerts = await waitFor(
      "a simulated auth.brute_force alert",
      60_000,
      async () => {
        const r = await get(`${base}/api/v1/alerts?rule=auth.brute_force`, TOKEN);
        if (r?.status !== 200) return undefined;
        const body = JSON.parse(r.text);
        return body.count > 0 ? body.alerts as Record<string, unknown>[] : undefined;
      },
      exited,
      tail,
    );
    for (const a of alerts) {
      assert.equal(a.rule, "auth.brute_force");
      assert.equal((a.entity as { type: string }).type, "user");
      assert.match((a.entity as { key: string }).key, /^u\d+$/, "a simulated user");
      assert.equal(typeof a.alert_id, "string");
      assert.ok(Array.isArray(a.event_ids) && a.event_ids.length >= 5);
      assert.equal(a.mode, "enforce");
    }

    // The simulator's traffic is being consumed.
    const later = await get(`${base}/metrics`);
    assert.ok(
      /vigil_events_ingested_total\{kind="auth"\} [1-9]/.test(later!.text),
      "auth events were ingested",
    );

    // A graceful stop: exit code 0 within 15 s, "Stopped cleanly" on stderr.
    child.kill("SIGTERM");
    const result = await within(status, 15_000);
    assert.ok(result !== null, `the process did not exit within 15 s of SIGTERM:\n${tail()}`);
    assert.equal(result.code, 0, `exit code ${result.code} (signal ${result.signal}):\n${tail()}`);
    await stderrDone;
    assert.match(stderrText, /Stopped cleanly/);
    // And nothing listens on the port any more.
    assert.equal(await get(`${base}/health`), null, "the server is closed");
  } finally {
    if (!exited()) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await status;
    await stdoutDone;
    await stderrDone;
  }
});
