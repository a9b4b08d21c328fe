/**
 * Worker processes for the fault drills: `main.ts worker` on the real servers, each on
 * its own API port, with the stderr kept for the report.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitFor as poll } from "../wait.ts";

const ROOT = new URL("../../", import.meta.url);

/** A port nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Reads a whole stream into text (so the pipe is drained and closed), telling `onText` as it comes. */
export async function collect(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void = () => {},
): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const piece = decoder.decode(chunk, { stream: true });
    text += piece;
    onText(piece);
  }
  return text + decoder.decode();
}

/** A running worker. */
export interface Worker {
  port: number;
  child: Deno.ChildProcess;
  /** Its stderr, once it has exited. */
  log: Promise<string>;
  /** What it has written to stderr so far. */
  said(): string;
  /** SIGTERM, and its exit code. */
  stop(): Promise<number>;
  /** SIGKILL (a crash). */
  crash(): Promise<void>;
}

/** Starts `main.ts worker` with `env` on a free port. */
export function startWorker(env: Record<string, string>): Worker {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "worker"],
    cwd: ROOT,
    env: { ...env, PORT: String(port), ADMIN_TOKEN: "drill" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let said = "";
  const log = collect(child.stderr, (text) => said += text);
  let done = false;
  const status = child.status.then((s) => {
    done = true;
    return s;
  });
  return {
    port,
    child,
    log,
    said: () => said,
    async stop() {
      if (!done) child.kill("SIGTERM");
      const s = await status;
      await log;
      return s.code;
    },
    async crash() {
      if (!done) child.kill("SIGKILL");
      await status;
      await log;
    },
  };
}

/** Waits until `f` gives a value (polled every 250 ms, for 2 min unless told). */
export function until<T>(what: string, f: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  return poll(what, f, ms, 250);
}

/** Whether a worker answers /ready. */
export async function isReady(w: Worker): Promise<boolean> {
  const r = await fetch(`http://127.0.0.1:${w.port}/ready`).catch(() => null);
  await r?.body?.cancel();
  return r?.status === 200;
}

export /** One request, its body always read; `null` when the connection fails. */
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

/** A tool's path: the test runner's (in `variable`), else what its `scripts/` script prints. */
export async function toolPath(variable: string, script: string): Promise<string> {
  const given = Deno.env.get(variable);
  if (given) return given;
  const out = await new Deno.Command("bash", {
    args: [new URL(`scripts/${script}`, ROOT).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, `scripts/${script} failed`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` returns a value or the time runs out (then fails, saying what). */
export async function waitFor<T>(
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

/** A `deno task start` process on a free port, its output collected. */
export interface StartProcess {
  child: Deno.ChildProcess;
  base: string;
  status: Promise<Deno.CommandStatus>;
  stdoutDone: Promise<string>;
  stderrDone: Promise<void>;
  /** Its stderr so far. */
  stderr(): string;
  exited(): boolean;
}

/**
 * Starts `deno task start` on a free loopback port with `env` (on the embedded log and
 * store, whatever the outer environment says).
 */
export function startProcess(env: Record<string, string>): StartProcess {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start"],
    cwd: ROOT,
    env: {
      HOST: "127.0.0.1",
      PORT: String(port),
      KAFKA_BROKERS: "",
      MONGODB_URI: "",
      NO_COLOR: "1",
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  let exited = false;
  const stdoutDone = collect(child.stdout);
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const status = child.status.then((s) => (exited = true, s));
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    status,
    stdoutDone,
    stderrDone,
    stderr: () => stderr,
    exited: () => exited,
  };
}
