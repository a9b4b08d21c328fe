/**
 * Which incident an alert joins, decided when it is raised, from the alert alone: so
 * every process (and a replay) gives the same alert the same incident.
 *
 * A rule that knows better names the incident (`AlertDraft.incident`: an address's
 * campaign, which its throttle alerts and the compromises of the users it tried join; a
 * user's own brute force). Otherwise the incident is the alert's entity over a window of
 * event time aligned to UTC (`alerts.incident_window_ms`, an hour by default): a user's
 * chain of new login, new payee and transfers, a source's scans and floods, a service's
 * error burst and latency. A chain that crosses the window's edge makes two incidents.
 *
 * @module
 */

import type { AlertIncident } from "../events/types.ts";
import { hash64 } from "../events/hash.ts";
import type { AlertDraft } from "./types.ts";

/** The incident of an alert draft, with windows of `window_ms` for those with no hint. */
export function incidentOf(d: AlertDraft, window_ms: number): AlertIncident {
  const anchor = d.incident?.anchor ?? d.entity;
  const episode = d.incident?.episode ??
    `window:${new Date(Math.floor(d.ts / window_ms) * window_ms).toISOString()}`;
  return {
    id: hash64(`incident|${anchor.type}|${anchor.key}|${episode}`),
    anchor: { type: anchor.type, key: anchor.key },
    episode,
  };
}
