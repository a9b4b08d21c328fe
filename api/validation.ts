/**
 * How a request refused by its schema is answered: 400 with one message a person can act
 * on (the first problem, naming the field), as every other error of the API, instead of
 * zod's list of issues; and the HTTP errors of the validators (a body that is not JSON, a
 * Content-Type the route does not take) as JSON too.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { z } from "@hono/zod-openapi";

/** The one message for a request's first problem (`target`: query, param, header or json). */
export function problemOf(issues: readonly z.core.$ZodIssue[], target: string): string {
  const issue = issues[0];
  if (!issue) return "Cannot use the request";
  if (issue.code === "unrecognized_keys") {
    return `Cannot use field(s) ${issue.keys.join(", ")}`;
  }
  const field = issue.path.map(String).join(".");
  if (field === "") {
    if (issue.message.startsWith("Cannot")) return issue.message;
    const got = /received (\w+)/.exec(issue.message)?.[1];
    return `Cannot use the body: it must be an object${got ? `, got ${got}` : ""}`;
  }
  // The schemas' own messages name their field.
  if (issue.message.includes(field)) return issue.message;
  const where = target === "query"
    ? `Query parameter "${field}"`
    : target === "param"
    ? `Path parameter "${field}"`
    : target === "header"
    ? `Header ${field}`
    : `Field "${field}"`;
  return `${where}: ${issue.message}`;
}

/** The zod-openapi hook of every route: a request its schema refuses gets 400. */
export function refuseInvalid(
  result:
    & { target: string }
    & (
      | { success: true }
      | { success: false; error: { issues: readonly z.core.$ZodIssue[] } }
    ),
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  return c.json({ error: problemOf(result.error.issues, result.target) }, 400);
}

/** A validator's HTTP error as the API's JSON error. */
export function httpError(c: Context, err: HTTPException): Response {
  const message = err.status === 400 && /Malformed JSON/i.test(err.message)
    ? "Cannot parse the body: it is not JSON"
    : err.status === 415
    ? "Send the body as JSON, with Content-Type: application/json"
    : err.message;
  return c.json({ error: message }, err.status);
}

/**
 * For a route whose body is optional: an empty body is no body, whatever its Content-Type
 * says (the JSON validator would refuse it as malformed).
 */
export const emptyIsNoBody: MiddlewareHandler = async (c, next) => {
  // The JSON validator parses the cached text (hono's HonoRequest.json).
  if ((await c.req.text()).trim() === "") {
    // Typed as the bodies, kept as their promises.
    (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve("{}");
  }
  await next();
};

/**
 * For a route that takes JSON: a body sent without a Content-Type, or as curl's default
 * form type or fetch's text/plain, is read as the JSON it is meant to be (as the API read
 * every body before its schemas), not refused with 415. Another type still is.
 */
export const jsonByDefault: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("content-type");
  if (type === undefined || /^(text\/plain|application\/x-www-form-urlencoded)\b/i.test(type)) {
    const headers = new Headers(c.req.raw.headers);
    headers.set("content-type", "application/json");
    c.req.raw = new Request(c.req.raw, { headers });
  }
  await next();
};

export { HTTPException };
