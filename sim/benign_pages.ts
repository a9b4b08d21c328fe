/**
 * The benign generator's clickstream: the pages a logged-in customer looks at in a
 * session, so page traffic follows the logins' daily rhythm, a few pages take most views
 * and payday brings the payment pages forward.
 *
 * | parameter | value | source |
 * |---|---|---|
 * | views per session | 2 + Poisson(4) | web analytics' published pages-per-session figures for banking (4–7) |
 * | time on a page | log-normal, median 15 s, σ 0.8 | published average time-on-page orders of magnitude |
 * | page popularity | the overview and account pages take half the views, a long tail of others | Zipf-like popularity of pages (Breslau et al., "Web caching and Zipf-like distributions", 1999) |
 * | page latency | log-normal, median 120 ms, σ 0.4 | assumed |
 *
 * @module
 */

import type { Draw, Sink } from "./benign_base.ts";

const PAGES = [
  "/accounts",
  "/",
  "/transactions",
  "/payments",
  "/efaktura",
  "/transfer",
  "/cards",
  "/savings",
  "/messages",
  "/profile",
  "/loans",
  "/help",
] as const;
const WEIGHTS = [30, 15, 15, 8, 6, 7, 5, 4, 3, 3, 2, 2];
const PAYDAY_WEIGHTS = [20, 8, 10, 14, 18, 14, 3, 6, 2, 1, 2, 2];

/** The page views of a session from `at`; returns the time of the last one. */
export function pageViews(
  d: Draw,
  sink: Sink,
  u: { id: string },
  at: number,
  session_id: string,
  browser: boolean,
  payday: boolean,
): number {
  const n = 2 + d.poisson(4);
  const weights = payday ? PAYDAY_WEIGHTS : WEIGHTS;
  let t = at + d.between(500, 3_000);
  let referrer = browser ? "/login" : "app://home";
  for (let i = 0; i < n; i++) {
    const page = i === 0 ? "/accounts" : PAGES[d.weighted(weights)]!;
    sink.add("click", t, {
      session_id,
      page,
      user_id: u.id,
      referrer,
      latency_ms: Math.round(d.lognormal(120, 0.4)),
    });
    referrer = page;
    t += d.lognormal(15_000, 0.8);
  }
  return t;
}
