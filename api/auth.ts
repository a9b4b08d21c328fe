/**
 * Who is asking (issue 15, roles). A principal has a name and a role; it is known by a
 * token: `ADMIN_TOKEN`, `ANALYST_TOKEN` and `VIEWER_TOKEN` each give one principal of that
 * role (named after it), and a users file gives named principals whose tokens it keeps
 * only as scrypt hashes (`node:crypto`). A user's token is `<name>.<secret>`, so a request
 * costs at most one scrypt, and a verified token is remembered (bounded) so the next costs
 * none. A person signed in at the console has a session instead: an HttpOnly, SameSite=
 * Strict cookie and a CSRF token every change must carry.
 *
 * @module
 */

import { scrypt, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { matchedRoutes } from "hono/route";
import { allows, type Role, roleFor, ROLES } from "./roles.ts";
import type { UserEntry } from "../engine/roles.ts";

/** Someone the API knows. */
export interface Principal {
  name: string;
  role: Role;
}

/** A principal as a request carries it, and how it was known. */
export interface Caller extends Principal {
  via: "token" | "session";
}

/** One user of a users file: the token only as its scrypt hash. */
export type { UserEntry } from "../engine/roles.ts";

/** A users file or a token that cannot be used. */
export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthConfigError";
  }
}

/** What a user's name may be: it is the first part of its token, up to the `.`. */
export const USER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** scrypt's cost for new hashes: N = 2^14, r = 8, p = 1 (16 MiB, tens of ms). */
const COST = { N: 16_384, r: 8, p: 1 };
const KEY_BYTES = 32;

function scryptKey(
  secret: string,
  salt: Uint8Array,
  o: { N: number; r: number; p: number },
): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_BYTES, { ...o, maxmem: 256 * o.N * o.r }, (err, key) => {
      if (err) reject(err);
      else resolve(new Uint8Array(key));
    })
  );
}

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));

/** The hash a users file keeps for a token. */
export async function hashToken(token: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await scryptKey(token, salt, COST);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${b64(salt)}$${b64(key)}`;
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Uint8Array;
  key: Uint8Array;
}

function parseHash(text: string, who: string): ParsedHash {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text);
  const [N, r, p] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  // Bounded so a file cannot make each sign-in take a gigabyte or a minute.
  if (!m || N < 1_024 || N > 1_048_576 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p !== 1) {
    throw new AuthConfigError(
      `Cannot use the token_hash of ${who}: it must be scrypt$N$r$1$salt$key with N a power ` +
        `of two from 1024 to 1048576 and r from 1 to 32 (make one with main.ts users add)`,
    );
  }
  return { N, r, p, salt: unb64(m[4]!), key: unb64(m[5]!) };
}

/** A users file's entries, checked: `{"users": [{"name", "role", "token_hash"}]}`. */
export function parseUsers(text: string, file: string): UserEntry[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new AuthConfigError(`Cannot parse the users file ${file}: ${(err as Error).message}`);
  }
  const users = (body as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) {
    throw new AuthConfigError(`Cannot use the users file ${file}: it must be {"users": [...]}`);
  }
  const seen = new Set<string>();
  return users.map((u, i) => {
    const { name, role, token_hash } = (u ?? {}) as Record<string, unknown>;
    const who = `user ${i + 1} of ${file}`;
    if (typeof name !== "string" || !USER_NAME.test(name)) {
      throw new AuthConfigError(
        `Cannot use ${who}: "name" must be lowercase letters, digits, "_" or "-" (up to 64)`,
      );
    }
    if (seen.has(name)) throw new AuthConfigError(`Cannot use ${who}: ${name} is listed twice`);
    seen.add(name);
    if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
      throw new AuthConfigError(`Cannot use ${who}: "role" must be one of ${ROLES.join(", ")}`);
    }
    if (typeof token_hash !== "string") {
      throw new AuthConfigError(`Cannot use ${who}: "token_hash" is missing`);
    }
    parseHash(token_hash, who);
    return { name, role: role as Role, token_hash };
  });
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** What the authenticator knows. */
export interface AuthOptions {
  /** Tokens from the environment, each one principal named after its role (empty: none). */
  tokens: Partial<Record<Role, string>>;
  /** Users from the users file. */
  users?: readonly UserEntry[];
  /** Verified user tokens remembered, at most. */
  cache_entries: number;
}

/** Finds the principal of a token. */
export class Authenticator {
  #fixed: { digest: Promise<Uint8Array>; principal: Principal }[] = [];
  #users = new Map<string, { role: Role; hash: ParsedHash }>();
  /** SHA-256 of a verified user token → its principal (oldest dropped first). */
  #verified = new Map<string, Principal>();
  #max: number;

  constructor(o: AuthOptions) {
    const given = ROLES.flatMap((role) => {
      const token = o.tokens[role] ?? "";
      return token === "" ? [] : [{ role, token }];
    });
    for (const a of given) {
      const twin = given.find((b) => b !== a && b.token === a.token);
      if (twin) {
        throw new AuthConfigError(
          `${a.role.toUpperCase()}_TOKEN and ${twin.role.toUpperCase()}_TOKEN are the same: ` +
            `a token names one principal`,
        );
      }
      this.#fixed.push({ digest: digest(a.token), principal: { name: a.role, role: a.role } });
    }
    for (const u of o.users ?? []) {
      this.#users.set(u.name, { role: u.role, hash: parseHash(u.token_hash, u.name) });
    }
    this.#max = o.cache_entries;
  }

  /** The principals, for the record: names and roles, never tokens. */
  get principals(): Principal[] {
    return [
      ...this.#fixed.map((f) => f.principal),
      ...[...this.#users].map(([name, u]) => ({ name, role: u.role })),
    ];
  }

  /** The principal a token names, or null. */
  async authenticate(token: string): Promise<Principal | null> {
    if (token === "" || token.length > 1_024) return null;
    const d = await digest(token);
    for (const f of this.#fixed) {
      if (timingSafeEqual(d, await f.digest)) return f.principal;
    }
    const key = hex(d);
    const known = this.#verified.get(key);
    if (known) return known;
    const dot = token.indexOf(".");
    const user = dot > 0 ? this.#users.get(token.slice(0, dot)) : undefined;
    if (!user) return null;
    const got = await scryptKey(token, user.hash.salt, user.hash);
    if (got.length !== user.hash.key.length || !timingSafeEqual(got, user.hash.key)) return null;
    const principal = { name: token.slice(0, dot), role: user.role };
    if (this.#max > 0) {
      if (this.#verified.size >= this.#max) {
        this.#verified.delete(this.#verified.keys().next().value!);
      }
      this.#verified.set(key, principal);
    }
    return principal;
  }
}

/** A signed-in person's session. */
export interface Session {
  id: string;
  principal: Principal;
  csrf_token: string;
  expires_ms: number;
}

/** The sessions of this process: bounded (the oldest ends first), each ending at its time. */
export class Sessions {
  #byId = new Map<string, Session>();
  constructor(
    readonly limits: { ttl_ms: number; max: number },
    readonly now: () => number = Date.now,
  ) {}

  create(principal: Principal): Session {
    const s: Session = {
      id: randomHex(32),
      principal,
      csrf_token: randomHex(32),
      expires_ms: this.now() + this.limits.ttl_ms,
    };
    while (this.#byId.size >= this.limits.max) {
      this.#byId.delete(this.#byId.keys().next().value!);
    }
    this.#byId.set(s.id, s);
    return s;
  }

  get(id: string): Session | null {
    const s = this.#byId.get(id);
    if (!s) return null;
    if (this.now() >= s.expires_ms) {
      this.#byId.delete(id);
      return null;
    }
    return s;
  }

  end(id: string): boolean {
    return this.#byId.delete(id);
  }

  get size(): number {
    return this.#byId.size;
  }
}

/** A random token of `bytes` bytes, as hex. */
export function randomHex(bytes: number): string {
  return hex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The session cookie's name. */
export const SESSION_COOKIE = "vigil_session";

/** The header a change made with a session must carry. */
export const CSRF_HEADER = "x-csrf-token";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Variables the middleware gives the handlers. */
export type AuthVariables = { caller: Caller };

/** The bearer token of a request, if any. */
export function bearerOf(c: Context): string | null {
  const m = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "");
  return m ? m[1]!.trim() : null;
}

function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Everything under `/api/v1`: a bearer token or a session cookie (with the CSRF token on
 * a change) names the caller, else 401; the route's role (`ROUTE_ROLES`) must be the
 * caller's or below, else 403. A route with no declared role is refused to everyone.
 */
export function requireRole(
  auth: Authenticator,
  sessions: Sessions | null,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function authorize(c, next) {
    let caller: Caller | null = null;
    const bearer = bearerOf(c);
    if (bearer !== null) {
      const p = await auth.authenticate(bearer);
      if (p) caller = { ...p, via: "token" };
    } else if (sessions) {
      const id = getCookie(c, SESSION_COOKIE);
      const s = id ? sessions.get(id) : null;
      if (s) {
        if (!SAFE.has(c.req.method) && !sameText(c.req.header(CSRF_HEADER) ?? "", s.csrf_token)) {
          return c.json({
            error: `A change made with a session needs the header X-CSRF-Token (from ` +
              `GET /auth/session)`,
          }, 403);
        }
        caller = { ...s.principal, via: "session" };
      }
    }
    if (!caller) {
      c.header("WWW-Authenticate", 'Bearer realm="vigil"');
      return c.json({
        error: "Missing or wrong credentials: send Authorization: Bearer <token> " +
          "(ADMIN_TOKEN, ANALYST_TOKEN, VIEWER_TOKEN or a user's), or sign in at /",
      }, 401);
    }
    // The route the request matched (the last one, past this middleware's own).
    const route = matchedRoutes(c).findLast((r) => r.method !== "ALL");
    if (route) {
      const needed = roleFor(route.method, route.path);
      if (needed === null) {
        return c.json({ error: `No role is declared for ${route.method} ${route.path}` }, 403);
      }
      if (!allows(caller.role, needed)) {
        return c.json({
          error: `${route.method} ${route.path} needs the ${needed} role; ${caller.name} is ` +
            `${/^[aeiou]/.test(caller.role) ? "an" : "a"} ${caller.role}`,
        }, 403);
      }
    }
    c.set("caller", caller);
    await next();
  };
}
