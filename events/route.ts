/**
 * Which actor an event goes to, and which message key it carries on its topic.
 *
 * @module
 */

import type { Address } from "../actors/types.ts";
import { USER } from "../actors/user.ts";
import { SOURCE } from "../actors/source.ts";
import { SERVICE } from "../actors/service.ts";
import { PAGE } from "../actors/page.ts";
import type { EventKind, VigilEvent } from "./types.ts";

/** The actor that handles an event, or null for kinds no actor handles yet. */
export function routeOf(e: VigilEvent): Address | null {
  switch (e.kind) {
    case "auth":
    case "transaction":
      return { type: USER, key: e.user_id };
    case "flow":
      return { type: SOURCE, key: String(e.raw.src_ip) };
    case "log":
    case "metric":
      return { type: SERVICE, key: String(e.raw.service) };
    case "click":
      return { type: PAGE, key: String(e.raw.page) };
    default:
      return null;
  }
}

/** The actor type that handles each kind (as `routeOf` routes it). */
export const TYPE_OF_KIND: Readonly<Record<EventKind, string>> = Object.freeze({
  auth: USER,
  transaction: USER,
  flow: SOURCE,
  click: PAGE,
  log: SERVICE,
  metric: SERVICE,
});

/** The message-key field of each kind (docs/events-and-alerts.md). */
export const KEY_FIELD: Readonly<Record<EventKind, string>> = Object.freeze({
  auth: "user_id",
  transaction: "user_id",
  flow: "src_ip",
  click: "page",
  log: "service",
  metric: "service",
});

/** The message key of an event on its topic. */
export function messageKey(e: VigilEvent): string {
  const v = e.raw[KEY_FIELD[e.kind]];
  return typeof v === "string" ? v : String(v);
}
