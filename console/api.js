/**
 * The console's client of the Vigil API: the session (sign-in with a token gives an
 * HttpOnly cookie and a CSRF token for changes), JSON reads and writes with a message a
 * person can read on failure, the roles' permissions, and the live stream.
 *
 * @module
 */

/** An API answer that was not a success. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message @param {unknown} body */
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/**
 * The signed-in principal, or null.
 * @type {{ principal: string, role: string, csrf_token: string, expires_at: string } | null}
 */
let current = null;

/** The signed-in principal (null before sign-in). */
export function session() {
  return current;
}

const RANK = { viewer: 0, analyst: 1, admin: 2 };

/**
 * Whether the signed-in role may do `what`: "triage" (the lifecycle and suppressions:
 * analyst, admin) or "admin" (rules, models, cluster, re-drive).
 * @param {"triage" | "admin"} what
 */
export function can(what) {
  const rank = RANK[current?.role ?? "viewer"] ?? 0;
  return what === "triage" ? rank >= 1 : rank >= 2;
}

/** The headers every request carries. @param {string} method */
function headers(method) {
  /** @type {Record<string, string>} */
  const h = { accept: "application/json" };
  if (method !== "GET" && current?.csrf_token) h["x-csrf-token"] = current.csrf_token;
  return h;
}

/** @param {Response} res */
async function bodyOf(res) {
  const text = await res.text();
  try {
    return text === "" ? null : JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Sends a request; the answer's JSON and ETag, or an ApiError saying what went wrong.
 * @param {string} method @param {string} path
 * @param {unknown} [body] @param {Record<string, string>} [extra]
 * @returns {Promise<{ data: any, etag: string | null, status: number }>}
 */
export async function request(method, path, body, extra = {}) {
  const h = { ...headers(method), ...extra };
  if (body !== undefined) h["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (err) {
    throw new ApiError(0, `Cannot reach Vigil: ${err instanceof Error ? err.message : err}`, null);
  }
  const data = await bodyOf(res);
  if (!res.ok) {
    const message = typeof data === "object" && data?.error
      ? data.error
      : `${method} ${path} answered ${res.status}`;
    if (res.status === 401 && current && !path.startsWith("/auth/")) signedOut?.();
    throw new ApiError(res.status, message, data);
  }
  return { data, etag: res.headers.get("etag"), status: res.status };
}

/** Reads JSON. @param {string} path */
export async function get(path) {
  return (await request("GET", path)).data;
}

/** @type {(() => void) | null} */
let signedOut = null;
/** Tells `fn` when the session ends (expired, or signed out elsewhere). @param {() => void} fn */
export function onSignedOut(fn) {
  signedOut = fn;
}

/**
 * Signs in with a token: the server answers with the principal, its role and a CSRF token,
 * and sets the HttpOnly session cookie that every later request carries.
 * @param {string} token
 */
export async function signIn(token) {
  const { data } = await request("POST", "/auth/session", { token });
  current = data;
  return current;
}

/** The session of this browser's cookie, if it has one. */
export async function restore() {
  try {
    const { data } = await request("GET", "/auth/session");
    current = data;
  } catch {
    current = null;
  }
  return current;
}

/** Ends the session. */
export async function signOut() {
  await request("DELETE", "/auth/session").catch(() => {});
  current = null;
}

/**
 * Reads the live stream (`GET /api/v1/stream`) until stopped, reconnecting with backoff;
 * tells `onMessage` each event and `onState` whether it is connected.
 * @param {(event: string, data: any) => void} onMessage
 * @param {(live: boolean) => void} onState
 * @returns {() => void} stops it
 */
export function stream(onMessage, onState) {
  const abort = new AbortController();
  let wait = 1000;
  const run = async () => {
    while (!abort.signal.aborted) {
      try {
        const res = await fetch("/api/v1/stream", {
          headers: headers("GET"),
          signal: abort.signal,
          credentials: "same-origin",
        });
        if (res.status === 401) {
          signedOut?.();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        onState(true);
        wait = 1000;
        await readEvents(res.body, onMessage);
      } catch {
        // Reconnect below.
      }
      onState(false);
      if (abort.signal.aborted) return;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 30_000);
    }
  };
  run();
  return () => abort.abort();
}

/**
 * Parses server-sent events from a body.
 * @param {ReadableStream<Uint8Array>} body @param {(event: string, data: any) => void} onMessage
 */
async function readEvents(body, onMessage) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data !== "") onMessage(event, JSON.parse(data));
    }
  }
}
