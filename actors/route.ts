/**
 * The actor types and the events each takes: the one table that routing, the message
 * keys, the replay's threads, the metrics and the topics each type reads come from.
 *
 * @module
 */

import type { Address } from "./types.ts";
import { USER } from "./user.ts";
import { IP } from "./ip.ts";
import { SOURCE } from "./source.ts";
import { SERVICE } from "./service.ts";
import { PAGE } from "./page.ts";
import type { EventKind, VigilEvent } from "../events/types.ts";

/** Every actor type. An IP actor takes no event of its own: user actors send it theirs. */
export const ACTOR_TYPES: readonly string[] = Object.freeze([USER, IP, SOURCE, SERVICE, PAGE]);

/** Where a kind of event goes. */
export interface KindRoute {
  /** The actor type that takes it. */
  type: string;
  /** Its message-key field: the key of its actor and of its record on its topic. */
  key: string;
  /**
   * The group of actor types it belongs to (0 users and IPs, 1 network sources, 2
   * services and pages): groups share no actor and send each other nothing, so a replay
   * runs each on a thread of its own.
   */
  group: number;
}

/** Each kind of event's actor type, key and group (docs/events-and-alerts.md). */
export const ROUTES: Readonly<Record<EventKind, Readonly<KindRoute>>> = Object.freeze({
  auth: { type: USER, key: "user_id", group: 0 },
  transaction: { type: USER, key: "user_id", group: 0 },
  flow: { type: SOURCE, key: "src_ip", group: 1 },
  click: { type: PAGE, key: "page", group: 2 },
  log: { type: SERVICE, key: "service", group: 2 },
  metric: { type: SERVICE, key: "service", group: 2 },
});

const each = <T>(f: (r: KindRoute) => T): Readonly<Record<EventKind, T>> =>
  Object.freeze(
    Object.fromEntries(Object.entries(ROUTES).map(([k, r]) => [k, f(r)])) as Record<EventKind, T>,
  );

/** The actor type that handles each kind (as `routeOf` routes it). */
export const TYPE_OF_KIND: Readonly<Record<EventKind, string>> = each((r) => r.type);

/** The message-key field of each kind. */
export const KEY_FIELD: Readonly<Record<EventKind, string>> = each((r) => r.key);

/** The group of each kind (`KindRoute.group`). */
export const GROUP_OF_KIND: Readonly<Record<EventKind, number>> = each((r) => r.group);

/** The kinds of event an actor type takes from the topics (none for IP actors). */
export function kindsOf(type: string): EventKind[] {
  return (Object.keys(ROUTES) as EventKind[]).filter((k) => ROUTES[k].type === type);
}

/** The actor that handles an event, or null for kinds no actor handles. */
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

/** The message key of an event on its topic. */
export function messageKey(e: VigilEvent): string {
  const v = e.raw[KEY_FIELD[e.kind]];
  return typeof v === "string" ? v : String(v);
}
