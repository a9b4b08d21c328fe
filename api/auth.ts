/**
 * Bearer-token middleware for everything under `/api/v1`: without the right token,
 * 401 and nothing done. The comparison takes the same time wherever the tokens differ.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";

/** A middleware that admits requests carrying `Authorization: Bearer <token>`. */
export function requireToken(token: string): MiddlewareHandler {
  const expected = new TextEncoder().encode(token);
  return async function bearerToken(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !sameBytes(new TextEncoder().encode(match[1]!.trim()), expected)) {
      c.header("WWW-Authenticate", 'Bearer realm="vigil"');
      return c.json({
        error: "Missing or wrong bearer token (set Authorization: Bearer <ADMIN_TOKEN>)",
      }, 401);
    }
    await next();
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i]!;
  return diff === 0;
}
