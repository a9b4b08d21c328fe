/**
 * An alert's evidence as a person reads it, pure data (no DOM, so it is tested in Deno):
 * the places it names (a login's city, country and address, and the distance and speed
 * between two), its counts against their thresholds, a model's score with the features
 * that weighed most, and whatever else it holds.
 *
 * @module
 */

/**
 * Counts and their limits: [value, limit, how the value must stand to alert].
 * @type {[string, string, ">=" | ">" | "<"][]}
 */
const PAIRS = [
  ["failures_in_window", "threshold", ">="],
  ["errors", "max", ">"],
  ["value", "limit", ">"],
  ["probability", "threshold", ">="],
  ["speed_kmh", "max_speed_kmh", ">"],
  ["distance_km", "min_distance_km", ">="],
  ["amount_eur", "cap", ">"],
  ["baseline_logins", "min_logins", ">="],
];

/** @param {unknown} v */
const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
/** @param {unknown} v */
const isPlace = (v) =>
  typeof v === "object" && v !== null && !Array.isArray(v) &&
  ("city" in v || "country" in v || "lat" in v);

/**
 * @typedef {{ label: string, at: string | null, ip: string | null, city: string | null, country: string | null, located_by: string | null }} Place
 * @typedef {{ name: string, value: number, limit: number, op: string, met: boolean }} Measure
 * @typedef {{ places: Place[], measures: Measure[], score: { score: number, model: string | null, level: string | null, top: { name: string, value: number }[] } | null, rest: [string, unknown][] }} Described
 */

/**
 * Describes an alert's evidence.
 * @param {{ evidence?: Record<string, unknown>, score?: number, model?: string }} alert
 * @returns {Described}
 */
export function describe(alert) {
  const ev = alert.evidence ?? {};
  const used = new Set();
  /** @type {Place[]} */
  const places = [];
  for (const [k, v] of Object.entries(ev)) {
    if (!isPlace(v)) continue;
    const p = /** @type {Record<string, any>} */ (v);
    places.push({
      label: k,
      at: p.at ?? null,
      ip: p.ip ?? null,
      city: p.city ?? null,
      country: p.country ?? null,
      located_by: p.located_by ?? null,
    });
    used.add(k);
  }
  if (places.length === 0 && ("country" in ev || "city" in ev) && "ip" in ev) {
    places.push({
      label: "login",
      at: null,
      ip: /** @type {any} */ (ev.ip) ?? null,
      city: /** @type {any} */ (ev.city) ?? null,
      country: /** @type {any} */ (ev.country) ?? null,
      located_by: /** @type {any} */ (ev.located_by) ?? null,
    });
    for (const k of ["ip", "city", "country", "located_by"]) used.add(k);
  }

  /** @type {Measure[]} */
  const measures = [];
  const measure = (
    /** @type {string} */ name,
    /** @type {string} */ limitKey,
    /** @type {string} */ op,
  ) => {
    const value = ev[name], limit = ev[limitKey];
    if (!isNumber(value) || !isNumber(limit) || used.has(name)) return;
    const v = /** @type {number} */ (value), l = /** @type {number} */ (limit);
    const met = op === ">=" ? v >= l : op === ">" ? v > l : v < l;
    measures.push({ name, value: v, limit: l, op, met });
    used.add(name);
    used.add(limitKey);
  };
  for (const [name, limit, op] of PAIRS) measure(name, limit, op);
  // Any other count with a sibling min_<name> or max_<name>.
  for (const name of Object.keys(ev)) {
    if (`min_${name}` in ev) measure(name, `min_${name}`, ">=");
    if (`max_${name}` in ev) measure(name, `max_${name}`, ">");
  }

  let score = null;
  const features = ev.features;
  const probabilities = ev.probabilities;
  if (isNumber(alert.score) || isNumber(ev.risk) || isNumber(ev.probability)) {
    const value = /** @type {number} */ (alert.score ?? ev.risk ?? ev.probability);
    /** @type {{ name: string, value: number }[]} */
    let top = [];
    if (typeof features === "object" && features !== null) {
      top = Object.entries(features).filter(([, v]) => isNumber(v))
        .map(([name, v]) => ({ name, value: /** @type {number} */ (v) }))
        .sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || a.name.localeCompare(b.name))
        .slice(0, 5);
      used.add("features");
    } else if (typeof probabilities === "object" && probabilities !== null) {
      top = Object.entries(probabilities).filter(([, v]) => isNumber(v))
        .map(([name, v]) => ({ name, value: /** @type {number} */ (v) }))
        .sort((a, b) => b.value - a.value)
        .slice(0, 3);
      used.add("probabilities");
    }
    const level = typeof ev.level === "string" ? ev.level : null;
    score = { score: value, model: alert.model ?? null, level, top };
    used.add("risk");
    used.add("level");
  }

  /** @type {[string, unknown][]} */
  const rest = Object.entries(ev).filter(([k]) => !used.has(k));
  return { places, measures, score, rest };
}
