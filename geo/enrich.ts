/**
 * Which events the IP database fills in, and how: a login or failed login that carries an
 * address and no coordinates is given the database's country, city, coordinates and AS
 * number, where the event has none of its own (what an event says is never replaced).
 * Pure: the place comes from the caller (`GeoLocator.locate`).
 *
 * @module
 */

import type { AuthEvent, VigilEvent } from "../events/types.ts";

/** A place as the database gives it (`geo/database.ts`'s `Place`). */
export interface FoundPlace {
  readonly country: string | null;
  readonly city: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly asn: number | null;
}

/**
 * Whether the event is one to look up: a login attempt with an address and neither
 * coordinate.
 *
 * @example
 * ```ts
 * import { needsPlace } from "./enrich.ts";
 * import { parseEvent } from "../events/validate.ts";
 * const r = parseEvent('{"kind":"auth","type":"login_success","user_id":"u","ip":"8.8.8.8","timestamp":0}');
 * r.ok && needsPlace(r.event); // true
 * ```
 */
export function needsPlace(e: VigilEvent): e is AuthEvent & { ip: string } {
  return e.kind === "auth" && e.type !== "logout" && typeof e.ip === "string" && e.ip !== "" &&
    e.lat === undefined && e.lon === undefined;
}

/**
 * The event with what the database knows filled in and `located_by` naming it; the same
 * event when the database knows nothing it lacks. Coordinates are rounded to 4 decimals
 * (about 10 m; the database's are 32-bit floats).
 */
export function withPlace(e: AuthEvent, place: FoundPlace | null, by: string): AuthEvent {
  if (place === null) return e;
  const coords = place.lat !== null && place.lon !== null;
  const country = e.country ?? place.country ?? undefined;
  const city = e.city ?? (coords ? place.city ?? undefined : undefined);
  const asn = e.asn ?? place.asn ?? undefined;
  if (!coords && country === e.country && asn === e.asn) return e;
  const out: AuthEvent = {
    ...e,
    country,
    city,
    lat: coords ? round4(place.lat!) : undefined,
    lon: coords ? round4(place.lon!) : undefined,
    located_by: by,
  };
  if (asn !== undefined) out.asn = asn;
  return out;
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
