/**
 * `auth.risky_login` (docs/detections.md): the features of a successful login, computed by
 * its user's actor from what it remembers of the user, which the login-risk ONNX model
 * scores; and the alert its risk gives, at the levels low / medium / high (0.5 / 0.8 /
 * 0.95 → allow / step-up / block, as Cognito's adaptive authentication).
 *
 * The training data (`models/train/login_data.ts`) is made by this same code, so the
 * model sees the features exactly as the actors compute them.
 *
 * @module
 */

import type { AuthRules } from "../../config/defaults.ts";
import type { AuthEvent } from "../../events/types.ts";
import type { AlertDraft } from "../types.ts";
import type { FailureState } from "./auth_failures.ts";
import { rememberDistinct } from "../window.ts";

/** The model the user actors ask for. */
export const LOGIN_MODEL = "login_risk";

/** The features of a login, in the model's input order. */
export const LOGIN_FEATURES = [
  /** Failed logins of the user in the brute-force window (5 min) before this one. */
  "failures_5m",
  /** Of them, the ones from this login's IP: the attempts seen from the IP. */
  "failures_5m_same_ip",
  /** Failures since the user's last success (capped at 100). */
  "failure_streak",
  /** 1: the device is not among the user's recent devices (0 without history). */
  "new_device",
  /** 1: the country is not among the user's recent countries (0 without history). */
  "new_country",
  /** Great-circle distance from the last login's place (km; 0 when unknown). */
  "distance_km",
  /** That distance over the time since the last login (km/h, at least 1 min; ≤ 20,000). */
  "speed_kmh",
  /** Hours between this login's hour of day and the user's usual one (0–12; 0 before 3 logins). */
  "hour_deviation",
  /** Successful logins seen before this one (capped at 50). */
  "baseline_logins",
  /** Hours since the last login (capped at 720, which is also the value without one). */
  "hours_since_last_login",
] as const;

/** What a user remembers of its logins, for the features (compact: kept by every user actor). */
export interface LoginHistory {
  readonly logins: number;
  /** The last login. */
  readonly last: {
    readonly ts: number;
    readonly lat: number | null;
    readonly lon: number | null;
    readonly device_id: string | null;
    readonly country: string | null;
  } | null;
  /** Devices and countries of earlier logins other than the last one's, newest last. */
  readonly devices: readonly string[];
  readonly countries: readonly string[];
  /** The average login hour as a unit vector on the 24-hour clock, packed (`NO_HOUR`: none). */
  readonly hour: number;
}

/** `LoginHistory.hour` before the first login. */
export const NO_HOUR = -1;

/** Devices (and countries) remembered per user: the last login's and 3 before it. */
export const MAX_KNOWN = 4;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const EARTH_KM = 6371.0088;

/** The 10 features of a successful login, from the user's history before it. */
export function loginFeatures(
  h: LoginHistory,
  auth: FailureState,
  e: AuthEvent,
  rules: Pick<AuthRules, "brute_force_window_ms">,
): Float32Array {
  const f = new Float32Array(LOGIN_FEATURES.length);
  const w = auth.failures;
  const from = e.ts - rules.brute_force_window_ms;
  const ip = e.ip ?? "";
  let n = 0, same = 0;
  for (let i = 0; i < w.ts.length; i++) {
    const t = w.ts[i]!;
    if (t <= from || t > e.ts) continue;
    n++;
    if (w.tags[i] === ip) same++;
  }
  f[0] = n;
  f[1] = same;
  f[2] = Math.min(auth.streak, 100);
  const last = h.last;
  if (h.logins > 0 && last) {
    const d = e.device_id, c = e.country;
    f[3] = d !== undefined && d !== last.device_id && !h.devices.includes(d) ? 1 : 0;
    f[4] = c !== undefined && c !== last.country && !h.countries.includes(c) ? 1 : 0;
  }
  if (
    last && last.lat !== null && last.lon !== null && e.lat !== undefined &&
    e.lon !== undefined
  ) {
    // Most logins come from where the last one did: no trigonometry for a distance of 0.
    const km = last.lat === e.lat && last.lon === e.lon
      ? 0
      : distanceKm(last.lat, last.lon, e.lat, e.lon);
    const hours = Math.max((e.ts - last.ts) / HOUR_MS, 1 / 60);
    f[5] = km;
    f[6] = Math.min(km / hours, 20_000);
  }
  f[7] = h.logins >= 3 ? hourDeviation(h, e.ts) : 0;
  f[8] = Math.min(h.logins, 50);
  f[9] = last ? Math.min(Math.max(0, (e.ts - last.ts) / HOUR_MS), 720) : 720;
  return f;
}

/** What a successful login changes in the history (the new last login is the login itself). */
export function rememberLogin(
  h: LoginHistory,
  e: AuthEvent,
): Pick<LoginHistory, "devices" | "countries" | "hour"> {
  // The first logins weigh fully; later the average moves 5 % per login.
  const a = Math.max(1 / (h.logins + 1), 0.05);
  const angle = hourAngle(e.ts);
  const x = h.hour === NO_HOUR ? 0 : hourX(h.hour), y = h.hour === NO_HOUR ? 0 : hourY(h.hour);
  return {
    devices: remember(h.devices, h.last?.device_id ?? null, e.device_id),
    countries: remember(h.countries, h.last?.country ?? null, e.country),
    hour: packHour(x + a * (Math.cos(angle) - x), y + a * (Math.sin(angle) - y)),
  };
}

/** The earlier values once `next` follows `last`: `last` joins them unless it is `next`. */
export function remember<T extends string | number>(
  earlier: readonly T[],
  last: T | null,
  next: T | undefined,
  max: number = MAX_KNOWN,
): readonly T[] {
  if (last === null || last === next) return earlier;
  const rest = next !== undefined && earlier.includes(next)
    ? earlier.filter((v) => v !== next)
    : earlier;
  return rememberDistinct(rest, last, max - 1);
}

/** Two coordinates in [-1, 1] to 1e-4, as one small integer (no heap number per user). */
function packHour(x: number, y: number): number {
  return (Math.round(x * 1e4) + 10_000) * 20_001 + Math.round(y * 1e4) + 10_000;
}

/** The two coordinates of a packed hour (`packHour`). */
function hourX(p: number): number {
  return (Math.floor(p / 20_001) - 10_000) / 1e4;
}

function hourY(p: number): number {
  return (p % 20_001 - 10_000) / 1e4;
}

function hourAngle(ts: number): number {
  return (((ts % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS * 2 * Math.PI;
}

/** The user's usual login hour of day (UTC), or null before any login. */
export function usualHour(h: Pick<LoginHistory, "hour">): number | null {
  if (h.hour === NO_HOUR) return null;
  const x = hourX(h.hour), y = hourY(h.hour);
  if (x === 0 && y === 0) return null;
  return ((Math.atan2(y, x) / (2 * Math.PI) * 24) + 24) % 24;
}

/** Hours between the login's hour of day and the user's usual one, on the 24-hour circle. */
function hourDeviation(h: LoginHistory, ts: number): number {
  const usual = usualHour(h);
  if (usual === null) return 0;
  const d = Math.abs(hourAngle(ts) / (2 * Math.PI) * 24 - usual) % 24;
  return d > 12 ? 24 - d : d;
}

/** Great-circle distance (haversine), km. */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const dLat = (lat2 - lat1) * r, dLon = (lon2 - lon1) * r;
  const s = Math.sin(dLat / 2) ** 2 +
    Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(s)));
}

/** The risk levels of docs/detections.md and what each tells the login service to do. */
export interface RiskLevels {
  risky_login_low: number;
  risky_login_medium: number;
  risky_login_high: number;
}

const ACTIONS = { low: "allow", medium: "step_up", high: "block" } as const;

/** What a scored login carries back to its user's actor. */
export interface ScoredLogin {
  kind: "login_risk";
  event_id: string;
  ts: number;
  ip: string | null;
  country: string | null;
  device_id: string | null;
  features: Float32Array;
  risk: number;
}

const SEVERITY_OF_LEVEL = { high: "medium", medium: "low", low: "info" } as const;

/** `auth.risky_login` for a scored login at or above the low level; null below it. */
export function riskyLogin(
  user: string,
  m: ScoredLogin,
  levels: RiskLevels,
  model: string,
): AlertDraft | null {
  const risk = m.risk;
  if (!(risk >= levels.risky_login_low)) return null;
  const level = risk >= levels.risky_login_high
    ? "high"
    : risk >= levels.risky_login_medium
    ? "medium"
    : "low";
  const features: Record<string, number> = {};
  LOGIN_FEATURES.forEach((name, i) => features[name] = round(m.features[i]!));
  return {
    rule: "auth.risky_login",
    // A model's score alone is a suspicion, one step below its level: what the login leads
    // to (a compromise after an attack, a takeover chain) is what is high or critical.
    severity: SEVERITY_OF_LEVEL[level],
    entity: { type: "user", key: user },
    ts: m.ts,
    evidence: {
      risk: round(risk),
      level,
      action: ACTIONS[level],
      levels: {
        low: levels.risky_login_low,
        medium: levels.risky_login_medium,
        high: levels.risky_login_high,
      },
      ip: m.ip,
      country: m.country,
      device_id: m.device_id,
      features,
    },
    event_ids: [m.event_id],
    dedup: m.event_id,
    score: round(risk),
    model,
  };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
