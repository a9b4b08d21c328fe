/**
 * Test helper: validated auth events built field by field (every optional field absent
 * unless given), as the intake hands them to actors.
 *
 * @module
 */

import type { AuthEvent } from "../../events/types.ts";

/** An auth event of `type`; `fields` set user, IP and the rest. */
export function authEvent(
  type: AuthEvent["type"],
  event_id: string,
  ts: number,
  fields: Partial<Omit<AuthEvent, "kind" | "type" | "event_id" | "ts">> = {},
): AuthEvent {
  return {
    kind: "auth",
    event_id,
    ts,
    raw: {},
    type,
    user_id: "u1",
    ip: undefined,
    country: undefined,
    city: undefined,
    lat: undefined,
    lon: undefined,
    device_id: undefined,
    session_id: undefined,
    ...fields,
  };
}
