/**
 * The IP database's locator as the engine runs it (`geo.enabled`), its loads and failures
 * logged: a live process and a replay say the same.
 *
 * @module
 */

import type { GeoSettings } from "../config/defaults.ts";
import { type GeoLocator, geoLocatorOf } from "../geo/database.ts";
import { log } from "./logger.ts";

/** A locator that logs each family's load, or why it failed; null when `geo.enabled` is off. */
export function loggedGeoLocator(settings: GeoSettings): GeoLocator | null {
  return geoLocatorOf(settings, {
    loaded: (f) =>
      log("info", "Loaded the IP database", {
        family: `IPv${f.family}`,
        ms: f.ms,
        rss_mb: Math.round(f.rss_after_bytes / 1e6),
        rss_added_mb: Math.round((f.rss_after_bytes - f.rss_before_bytes) / 1e6),
      }),
    failed: (err) =>
      log("error", "Cannot use the IP database: logins without a location stay so", {
        error: err.message,
      }),
  });
}
