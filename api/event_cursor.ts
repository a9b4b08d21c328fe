/**
 * The paging cursor of `GET /api/v1/events`: where a page ended (the last event's time and
 * id), as one opaque URL-safe token.
 *
 * @module
 */

import type { EventCursor } from "../io/store.ts";

/** The cursor after this event. */
export function cursorOf(e: EventCursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify([e.ts, e.event_id]));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The event a cursor names; null when the text is not a cursor. */
export function parseCursor(text: string): EventCursor | null {
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(text)) return null;
  try {
    const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const v: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    if (
      Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && Number.isFinite(v[0]) &&
      typeof v[1] === "string"
    ) return { ts: v[0], event_id: v[1] };
  } catch {
    // Not base64, UTF-8 or JSON: not a cursor.
  }
  return null;
}
