/**
 * The benign generator's people: bank customers with a home, a phone and maybe a laptop,
 * some working in offices behind a few NAT addresses, who log in by the daily rhythm,
 * now and then mistype a password, change phones, clear cookies, travel by plane and log
 * in on arrival (on hotel Wi-Fi, roaming, or through the office VPN), and whose offices
 * make them change passwords. Their sessions' page views and payments come from
 * `benign_money.ts` and `benign_pages.ts`.
 *
 * Parameters and where they come from (an "assumed" one is a modelling choice, set
 * without looking at any rule's threshold):
 *
 * | parameter | value | source |
 * |---|---|---|
 * | sessions per customer per day | log-normal, median 1.1, σ 0.7 | banks' published app figures: active users open the app about 20–40 times a month |
 * | daily rhythm | `benign_base.ts` | published hour-of-day traffic curves |
 * | office workers | half of the customers living in an office's city | assumed; offices of 50–500 staff at large numbers of users |
 * | NAT addresses per office | 1 per 100 staff, 2–4 | common corporate egress practice (assumed) |
 * | phone logins with a typo | 1 % (biometrics mostly) | assumed, below passwords' |
 * | browser logins with 1 / 2 failed attempts first | 3 % / 0.8 %; doubled on Monday mornings | Chatterjee et al., "pASSWORD tYPOS", IEEE S&P 2016 (a few % of attempts are typos, retried within seconds); Monday: assumed |
 * | password expiry | one working day per office, 30 % of its staff; then 30 % of their office logins fail 1–2 times with the old password for two days; 15 % have a stale device retrying every ~2 min (log-normal) 3–10 times | 90-day expiry policies rolled out on one day align cycles (assumed); stale saved credentials retrying are the best-known cause of directory lockouts (Microsoft's account-lockout troubleshooting notes) |
 * | new phone | 0.1 % of customers a day | replacement cycle of about 2.7 years (Counterpoint, Statista) |
 * | browser device id reset (cookies cleared, new browser) | 1 % of laptop users a day | comScore 2007: about 30 % of users delete cookies in a month |
 * | mobile data | 35 % of logins, from a carrier-grade NAT pool of 32 addresses per country, geolocated at the operator's gateway | `benign_geo.ts` |
 * | trips | 0.4 % of customers start one a day, 1–4 days (domestic/short) or 4–12 days | about 2–3 % of a Nordic customer base away at any time in winter (assumed from Statistics Norway's travel survey orders of magnitude) |
 * | flights | `flightHours()`, departure 06–20 local; a login at the airport before (50 %) and within 3 h of arrival (80 %) | airlines' block times |
 * | network abroad | roaming 45 % (home-routed), hotel Wi-Fi 45 %, office VPN 10 % (office staff) | GSMA home routing; assumed shares |
 * | explicit logout | 50 % of sessions | assumed (most sessions time out) |
 *
 * @module
 */

import {
  COUNTRIES,
  type Country,
  DESTINATIONS,
  flightHours,
  gatewayOf,
  HOMES,
  km,
} from "./benign_geo.ts";
import type { Place } from "./benign_geo.ts";
import {
  DAY_MS,
  type Draw,
  HOUR_MS,
  hourWeights,
  isWeekend,
  type Sink,
  WEEKEND_VOLUME,
} from "./benign_base.ts";
import { type Money, moneyOf } from "./benign_money.ts";
import { pageViews } from "./benign_pages.ts";

/** An office: its city and the few NAT addresses its staff share. */
export interface Office {
  id: string;
  place: Place;
  nat: string[];
  /** The working day (ms, UTC midnight) its passwords expire. */
  expiry_day: number;
}

/** A customer. */
export interface Person {
  id: string;
  home: Place;
  country: Country;
  home_ip: string;
  phone: string;
  phone_agent: string;
  browser: string | null;
  browser_agent: string;
  work_browser: string | null;
  office: Office | null;
  sessions_per_day: number;
  money: Money;
  /** How many phones and browser ids the person has had (for new ids). */
  changes: number;
}

/** Where a session happens: the address, where it geolocates, and the device. */
interface Spot {
  ip: string;
  place: Place;
  device: string;
  agent: string;
  browser: boolean;
  office: boolean;
}

const PHONE_AGENTS = [
  "VigilBank/8.4 (iPhone; iOS 17.3; Scale/3.00)",
  "VigilBank/8.4 (Linux; Android 14; SM-S911B)",
  "VigilBank/8.4 (Linux; Android 13; Pixel 7)",
];
const BROWSER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:122.0) Gecko/20100101 Firefox/122.0",
];
const OFFICE_CITIES = ["Oslo", "Stockholm", "Bergen", "Copenhagen", "London", "Berlin"];
const CGNAT_POOL = 32;

/** The offices, each with NAT addresses for the staff it will have. */
export function makeOffices(d: Draw, users: number, start_ms: number, days: number): Office[] {
  const total = HOMES.reduce((s, h) => s + h.weight, 0);
  return OFFICE_CITIES.map((city, i) => {
    const home = HOMES.find((h) => h.place.city === city)!;
    const staff = (users * home.weight) / total / 2;
    const n = Math.max(2, Math.min(4, Math.round(staff / 100)));
    const workdays = Array.from({ length: days }, (_, k) => start_ms + k * DAY_MS)
      .filter((t) => !isWeekend(t));
    return {
      id: `office-${i + 1}`,
      place: home.place,
      nat: Array.from({ length: n }, () => d.ipIn(home.place.net)),
      expiry_day: workdays.length > 0 ? d.pick(workdays) : -1,
    };
  });
}

/** A customer drawn from the customer base. */
export function makePerson(d: Draw, i: number, offices: readonly Office[]): Person {
  const home = HOMES[d.weighted(HOMES.map((h) => h.weight))]!.place;
  const id = `b${String(i + 1).padStart(6, "0")}`;
  const office = offices.find((o) => o.place.city === home.city && d.chance(0.5)) ?? null;
  const laptop = office !== null || d.chance(0.6);
  const country = COUNTRIES[home.country]!;
  return {
    id,
    home,
    country,
    home_ip: d.ipIn(home.net),
    phone: `ph-${id}-0`,
    phone_agent: d.pick(PHONE_AGENTS),
    browser: laptop ? `br-${id}-0` : null,
    browser_agent: d.pick(BROWSER_AGENTS),
    work_browser: office ? `wb-${id}` : null,
    office,
    sessions_per_day: Math.min(8, d.lognormal(1.1, 0.7)),
    money: moneyOf(d, id, country),
    changes: 0,
  };
}

/** A trip: out and back by plane, with a hotel. */
interface Trip {
  dest: Place;
  depart: number;
  arrive: number;
  back_depart: number;
  back_arrive: number;
  hotel_ip: string;
}

function planTrip(d: Draw, u: Person, day: number): Trip {
  const dest = DESTINATIONS[d.weighted(DESTINATIONS.map((x) => x.weight))]!.place;
  const to = dest.city === u.home.city ? DESTINATIONS[5]!.place : dest;
  const hours = flightHours(km(u.home, to));
  const depart = day + (d.between(6, 20) - u.home.utc_offset) * HOUR_MS;
  const short = km(u.home, to) < 1_500;
  const stay = (short ? d.between(1, 4) : d.between(4, 12)) * DAY_MS;
  const back_depart = depart + stay;
  return {
    dest: to,
    depart,
    arrive: depart + hours * HOUR_MS,
    back_depart,
    back_arrive: back_depart + hours * HOUR_MS,
    hotel_ip: d.ipIn(to.net),
  };
}

/** Everything one customer does over the days, added to `sink`. */
export function livePerson(
  d: Draw,
  u: Person,
  sink: Sink,
  start_ms: number,
  days: number,
): void {
  let trip: Trip | null = null;
  past(d, u, sink, start_ms);
  for (let k = 0; k < days; k++) {
    const day = start_ms + k * DAY_MS;
    const weekend = isWeekend(day);
    if (d.chance(0.001)) newPhone(d, u, sink, day);
    if (u.browser && d.chance(0.01)) u.browser = `br-${u.id}-${++u.changes}`;
    if (!trip && d.chance(0.004)) {
      trip = planTrip(d, u, day);
      airportAndArrival(d, u, sink, trip);
    }
    const n = d.poisson(u.sessions_per_day * (weekend ? WEEKEND_VOLUME : 1));
    const times: number[] = [];
    const weights = hourWeights(weekend);
    for (let i = 0; i < n; i++) {
      const local = d.weighted(weights) + d.next();
      times.push(day + (local - u.home.utc_offset) * HOUR_MS);
    }
    for (const at of u.money.paydaySessions(d, day, u.home.utc_offset)) times.push(at);
    times.sort((a, b) => a - b);
    for (const at of times) {
      const spot = spotAt(d, u, at, trip);
      if (spot) session(d, u, sink, at, spot, day);
    }
    u.money.standingOrders(d, sink, u, day);
    if (u.office && u.office.expiry_day === day && !weekend) expiry(d, u, sink, day);
    if (trip && day > trip.back_arrive) trip = null;
  }
}

/** Where the customer is at `at`, on which network and device; null on a plane. */
function spotAt(d: Draw, u: Person, at: number, trip: Trip | null): Spot | null {
  const phone = { device: u.phone, agent: u.phone_agent, browser: false, office: false };
  if (trip && at >= trip.depart && at < trip.back_arrive) {
    if (at < trip.arrive || at >= trip.back_depart) return null;
    const x = d.next();
    if (u.office && x < 0.1) {
      const ip = d.pick(u.office.nat);
      return { ...phone, ip, place: u.office.place, device: u.work_browser!, browser: true };
    }
    if (x < 0.55) return { ...phone, ip: trip.hotel_ip, place: trip.dest };
    return { ...phone, ...mobile(d, u) };
  }
  const local = ((new Date(at).getUTCHours() + u.home.utc_offset) % 24 + 24) % 24;
  const workday = !isWeekend(at) && local >= 8 && local < 16;
  if (u.office && workday && d.chance(0.55)) {
    return {
      ip: d.pick(u.office.nat),
      place: u.office.place,
      device: d.chance(0.7) ? u.work_browser! : u.phone,
      agent: u.browser_agent,
      browser: true,
      office: true,
    };
  }
  if (d.chance(0.35)) return { ...phone, ...mobile(d, u) };
  if (u.browser && d.chance(0.35)) {
    return {
      ip: u.home_ip,
      place: u.home,
      device: u.browser,
      agent: u.browser_agent,
      browser: true,
      office: false,
    };
  }
  return { ...phone, ip: u.home_ip, place: u.home };
}

/**
 * An address of the home operator's carrier-grade NAT pool, at its gateway: the pool's
 * addresses are spread over the operator's /16 (each in its own /24), and shared by
 * many customers at once.
 */
function mobile(d: Draw, u: Person): { ip: string; place: Place } {
  const n = d.int(0, CGNAT_POOL - 1);
  const third = (n * 37 + u.country.cgnat.length * 11) % 256;
  return { ip: `${u.country.cgnat}.${third}.${10 + (n % 200)}`, place: gatewayOf(u.country.code) };
}

/**
 * The customer's past, in the week before `from` (and the last payday's payments): a
 * login from each device and network they use, so that a run starts as a deployment that
 * has known its customers for a while, not with everyone new.
 */
function past(d: Draw, u: Person, sink: Sink, from: number): void {
  const at = () => from - d.between(1, 7) * DAY_MS;
  const phone = { device: u.phone, agent: u.phone_agent };
  const spots = [
    { ...phone, ip: u.home_ip, place: u.home },
    { ...phone, ...mobile(d, u) },
    { ...phone, ...mobile(d, u) },
  ];
  if (u.browser) {
    spots.push({ ip: u.home_ip, place: u.home, device: u.browser, agent: u.browser_agent });
  }
  if (u.office) {
    for (const ip of u.office.nat) {
      spots.push({ ip, place: u.office.place, device: u.work_browser!, agent: u.browser_agent });
    }
  }
  for (const spot of spots) {
    const t = at();
    auth(sink, "login_success", u, t, spot, `${u.id}-s${Math.floor(t)}`, false);
  }
  u.money.history(d, sink, u, from, { ip: u.home_ip, device: u.phone, browser: false });
}

/** One session: maybe mistypes, the login, page views and payments, maybe a logout. */
function session(d: Draw, u: Person, sink: Sink, at: number, spot: Spot, day: number): void {
  const monday = new Date(day).getUTCDay() === 1 && spot.office;
  const typo = spot.browser ? (monday ? 2 : 1) : 0.33;
  const x = d.next();
  const fails = x < 0.008 * typo ? 2 : x < 0.038 * typo ? 1 : 0;
  let t = at;
  for (let i = 0; i < fails; i++) {
    auth(sink, "login_failure", u, t, spot, null, false);
    t += d.between(4_000, 20_000);
  }
  const sid = `${u.id}-s${Math.floor(t)}`;
  auth(sink, "login_success", u, t, spot, sid, spot.browser);
  const end = pageViews(d, sink, u, t, sid, spot.browser, u.money.wantsPay(day));
  const last = u.money.sessionPayments(d, sink, u, t, end, spot, day);
  if (d.chance(0.5)) {
    sink.add("auth", last + d.lognormal(30_000, 0.8), {
      type: "logout",
      user_id: u.id,
      session_id: sid,
    });
  }
}

/** A login, a failure or a logout from a spot. */
export function auth(
  sink: Sink,
  type: string,
  u: Person,
  at: number,
  spot: { ip: string; place: Place; device: string; agent: string },
  session_id: string | null,
  mfa: boolean,
): void {
  sink.add("auth", at, {
    type,
    user_id: u.id,
    ip: spot.ip,
    country: spot.place.country,
    city: spot.place.city,
    lat: spot.place.lat,
    lon: spot.place.lon,
    device_id: spot.device,
    user_agent: spot.agent,
    ...(session_id ? { session_id } : {}),
    mfa,
  });
}

/** A new phone, set up at home in the evening with a second factor; the old one is gone. */
function newPhone(d: Draw, u: Person, sink: Sink, day: number): void {
  u.phone = `ph-${u.id}-${++u.changes}`;
  const at = day + (d.between(17, 22) - u.home.utc_offset) * HOUR_MS;
  const spot = { ip: u.home_ip, place: u.home, device: u.phone, agent: u.phone_agent };
  const sid = `${u.id}-s${Math.floor(at)}`;
  auth(sink, "login_success", u, at, spot, sid, true);
  const end = pageViews(d, sink, u, at, sid, false, false);
  u.money.sessionPayments(d, sink, u, at, end, { ...spot, browser: false }, day);
}

/** The logins around the outbound flight: at the airport before, and after landing. */
function airportAndArrival(d: Draw, u: Person, sink: Sink, trip: Trip): void {
  const phone = { device: u.phone, agent: u.phone_agent };
  if (d.chance(0.5)) {
    const at = trip.depart - d.between(30, 90) * 60_000;
    const sid = `${u.id}-s${Math.floor(at)}`;
    auth(sink, "login_success", u, at, { ...phone, ...mobile(d, u) }, sid, false);
    pageViews(d, sink, u, at, sid, false, false);
  }
  if (d.chance(0.8)) {
    const at = trip.arrive + d.between(10, 180) * 60_000;
    const net = d.chance(0.5) ? mobile(d, u) : { ip: trip.hotel_ip, place: trip.dest };
    const sid = `${u.id}-s${Math.floor(at)}`;
    auth(sink, "login_success", u, at, { ...phone, ...net }, sid, false);
    pageViews(d, sink, u, at, sid, false, false);
  }
}

/**
 * A password-expiry day at the customer's office: 30 % of the staff change it at their
 * first login; for two days a third of their office logins start with the old password
 * once or twice; 15 % have a phone whose saved password keeps retrying until updated.
 */
function expiry(d: Draw, u: Person, sink: Sink, day: number): void {
  if (!d.chance(0.3)) return;
  const office = u.office!;
  const spot = {
    ip: d.pick(office.nat),
    place: office.place,
    device: u.work_browser!,
    agent: u.browser_agent,
  };
  for (let k = 0; k < 2; k++) {
    const at = day + k * DAY_MS + (d.between(8, 15) - u.home.utc_offset) * HOUR_MS;
    if (k > 0 && isWeekend(day + k * DAY_MS)) continue;
    let t = at;
    if (k > 0 || d.chance(0.3)) {
      for (let i = d.int(1, 2); i > 0; i--) {
        auth(sink, "login_failure", u, t, spot, null, false);
        t += d.between(5_000, 25_000);
      }
    }
    const sid = `${u.id}-s${Math.floor(t)}`;
    auth(sink, "login_success", u, t, spot, sid, true);
    pageViews(d, sink, u, t, sid, true, false);
  }
  if (!d.chance(0.15)) return;
  const stale = {
    ip: d.pick(office.nat),
    place: office.place,
    device: u.phone,
    agent: u.phone_agent,
  };
  let t = day + (d.between(9, 12) - u.home.utc_offset) * HOUR_MS;
  for (let i = d.int(3, 10); i > 0; i--) {
    auth(sink, "login_failure", u, t, stale, null, false);
    t += d.lognormal(120_000, 1);
  }
  auth(sink, "login_success", u, t, stale, `${u.id}-s${Math.floor(t)}`, false);
}
