/**
 * The benign generator's money: salaries paid in on payday, the payday routine (a
 * transfer to savings, a batch of e-invoices approved at once, the rent), rent by
 * standing order on the 1st, and everyday payments and transfers to friends within
 * sessions, mostly to payees paid before, now and then to a new one.
 *
 * | parameter | value | source |
 * |---|---|---|
 * | salary | country median (`benign_geo.ts`) × log-normal σ 0.35, paid in at 00:30–05:00 on payday | national statistics; payroll files run overnight |
 * | payday | the country's, moved to the Friday before when on a weekend | common practice (`benign_geo.ts`) |
 * | logging in on payday | 75 % of those paid, morning (60 %) or evening | assumed |
 * | payday routine | savings transfer 10–20 % of salary (60 %); 3–8 e-invoices approved at once (1–3 s apart, median €60); rent by hand for renters without a standing order | Nordic e-invoice (eFaktura, e-faktura, Betalingsservice) bulk approval; assumed shares |
 * | renters | 45 %; 60 % of them pay by standing order on the 1st (next working day if a weekend), 06:00 | Eurostat tenure status (about a third to a half rent in cities); assumed |
 * | everyday session payments | 25 % of sessions pay 1–2 bills or merchants (median €45), 8 % send money to a friend (median €30), 5 % move money to savings (median €150) | assumed orders of magnitude |
 * | new payees | 5 % of bills, 20 % of transfers to friends | assumed: a few new payees a month |
 *
 * @module
 */

import type { Draw, Sink } from "./benign_base.ts";
import { DAY_MS, HOUR_MS, isWeekend } from "./benign_base.ts";
import { type Country, RENT_EUR, SALARY_EUR } from "./benign_geo.ts";

/** What a payment is made from (a session's spot). */
export interface PaySpot {
  ip: string;
  device: string;
  browser: boolean;
}

/** Who is paid (for the customer's own fields). */
interface Payer {
  id: string;
  home: { utc_offset: number };
}

const BILLERS = 300;
const EMPLOYERS = 200;

/** The day (UTC midnight) a country pays salaries in the month of `t`. */
export function paydayOf(country: Country, t: number): number {
  const d = new Date(t);
  const y = d.getUTCFullYear(), m = d.getUTCMonth();
  let day = country.payday === 0
    ? Date.UTC(y, m + 1, 0)
    : Date.UTC(y, m, Math.min(country.payday, new Date(Date.UTC(y, m + 1, 0)).getUTCDate()));
  while (isWeekend(day)) day -= DAY_MS;
  return day;
}

/** The working day (UTC midnight) a standing order due on the 1st of the month of `t` runs. */
export function firstWorkingDay(t: number): number {
  const d = new Date(t);
  let day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  while (isWeekend(day)) day += DAY_MS;
  return day;
}

/** A customer's money: account, income, payees, and what is paid when. */
export class Money {
  readonly account: string;
  readonly #c: Country;
  readonly #salary: number;
  readonly #renter: boolean;
  readonly #standing: boolean;
  readonly #rent: number;
  readonly #employer: string;
  readonly #billers: string[];
  readonly #friends: string[];
  readonly #savings: string;
  readonly #landlord: string;
  #routineDone = -1;

  constructor(d: Draw, id: string, c: Country) {
    this.account = `acc-${id}`;
    this.#c = c;
    this.#salary = SALARY_EUR[c.code]! * d.lognormal(1, 0.35);
    this.#renter = d.chance(0.45);
    this.#standing = d.chance(0.6);
    this.#rent = RENT_EUR[c.code]! * d.lognormal(1, 0.25);
    this.#employer = `emp-${d.int(1, EMPLOYERS)}`;
    this.#billers = Array.from({ length: d.int(4, 9) }, () => `biller-${d.int(1, BILLERS)}`);
    this.#friends = Array.from({ length: d.int(1, 6) }, () => `p2p-${d.int(1, 1_000_000)}`);
    this.#savings = `sav-${id}`;
    this.#landlord = `ll-${id}`;
  }

  /** Whether `day` is this customer's payday. */
  isPayday(day: number): boolean {
    return paydayOf(this.#c, day) === day;
  }

  /** Whether today's sessions are about paying (the pages show it). */
  wantsPay(day: number): boolean {
    return this.isPayday(day) && this.#routineDone !== day;
  }

  /** On payday: the times of the session(s) the customer logs in for. */
  paydaySessions(d: Draw, day: number, utc_offset: number): number[] {
    if (!this.isPayday(day) || !d.chance(0.75)) return [];
    const local = d.chance(0.6) ? d.between(6.5, 9.5) : d.between(18, 22);
    return [day + (local - utc_offset) * HOUR_MS];
  }

  /** What runs without a login: the salary paid in, the rent by standing order. */
  standingOrders(d: Draw, sink: Sink, u: Payer, day: number): void {
    if (this.isPayday(day)) {
      const at = day + (d.between(0.5, 5) - u.home.utc_offset) * HOUR_MS;
      this.#tx(sink, u, at, "deposit", this.#salary, this.#employer, null, "payroll");
    }
    if (this.#renter && this.#standing && firstWorkingDay(day) === day) {
      const at = day + (6 - u.home.utc_offset) * HOUR_MS;
      this.#tx(sink, u, at, "transfer", this.#rent, this.#landlord, null, "standing_order");
    }
  }

  /**
   * The payments of a session between `from` and `to` (the payday routine on payday);
   * returns the time of the session's last activity.
   */
  sessionPayments(
    d: Draw,
    sink: Sink,
    u: Payer,
    from: number,
    to: number,
    spot: PaySpot,
    day: number,
  ): number {
    if (this.wantsPay(day)) return this.#routine(d, sink, u, to, spot, day);
    let t = from + (to - from) * d.between(0.3, 0.9);
    const at = () => (t += d.between(15_000, 90_000));
    if (d.chance(0.25)) {
      for (let i = d.chance(0.7) ? 1 : 2; i > 0; i--) {
        this.#tx(
          sink,
          u,
          at(),
          "payment",
          d.lognormal(45, 0.9),
          this.#payee(d, this.#billers, 0.05, "biller"),
          spot,
        );
      }
    }
    if (d.chance(0.08)) {
      this.#tx(
        sink,
        u,
        at(),
        "transfer",
        d.lognormal(30, 0.9),
        this.#payee(d, this.#friends, 0.2, "p2p"),
        spot,
      );
    }
    if (d.chance(0.05)) {
      this.#tx(sink, u, at(), "transfer", d.lognormal(150, 1), this.#savings, spot);
    }
    return Math.max(t, to);
  }

  /**
   * The payments of the month before `from` (salary, the payday routine, rent, a transfer
   * to each friend), made from `spot`: the customer's payees and amounts are known.
   */
  history(d: Draw, sink: Sink, u: Payer, from: number, spot: PaySpot): void {
    let pay = paydayOf(this.#c, from - DAY_MS);
    if (pay >= from) pay = paydayOf(this.#c, pay - 27 * DAY_MS);
    this.standingOrders(d, sink, u, pay);
    let t = pay + (8 - u.home.utc_offset) * HOUR_MS;
    if (d.chance(0.6)) {
      this.#tx(sink, u, t, "transfer", this.#salary * d.between(0.1, 0.2), this.#savings, spot);
    }
    for (const b of this.#billers) {
      t += d.between(1_000, 3_000);
      this.#tx(sink, u, t, "payment", d.lognormal(60, 0.8), b, spot);
    }
    if (this.#renter) {
      const channel = this.#standing ? "standing_order" : undefined;
      this.#tx(
        sink,
        u,
        t + 60_000,
        "transfer",
        this.#rent,
        this.#landlord,
        this.#standing ? null : spot,
        channel,
      );
    }
    for (const f of this.#friends) {
      const at = from - d.between(2, 25) * DAY_MS;
      this.#tx(sink, u, at, "transfer", d.lognormal(30, 0.9), f, spot);
    }
  }

  #routine(d: Draw, sink: Sink, u: Payer, from: number, spot: PaySpot, day: number): number {
    this.#routineDone = day;
    let t = from;
    if (d.chance(0.6)) {
      t += d.between(20_000, 60_000);
      this.#tx(sink, u, t, "transfer", this.#salary * d.between(0.1, 0.2), this.#savings, spot);
    }
    t += d.between(20_000, 60_000);
    for (let i = d.int(3, 8); i > 0; i--) {
      this.#tx(
        sink,
        u,
        t,
        "payment",
        d.lognormal(60, 0.8),
        this.#payee(d, this.#billers, 0.05, "biller"),
        spot,
      );
      t += d.between(1_000, 3_000);
    }
    if (this.#renter && !this.#standing) {
      t += d.between(30_000, 120_000);
      this.#tx(sink, u, t, "transfer", this.#rent, this.#landlord, spot);
    }
    return t;
  }

  #payee(d: Draw, known: string[], fresh: number, kind: string): string {
    if (!d.chance(fresh)) return d.pick(known);
    const p = kind === "biller" ? `biller-${d.int(1, BILLERS)}` : `p2p-${d.int(1, 1_000_000)}`;
    if (known.length < 32) known.push(p);
    return p;
  }

  #tx(
    sink: Sink,
    u: Payer,
    at: number,
    type: string,
    eur: number,
    counterparty: string,
    spot: PaySpot | null,
    channel?: string,
  ): void {
    const amount = Math.max(1, Math.round(eur * this.#c.per_eur * 100) / 100);
    sink.add("transaction", at, {
      user_id: u.id,
      account_id: this.account,
      type,
      amount,
      currency: this.#c.currency,
      counterparty,
      ...(spot ? { ip: spot.ip, device_id: spot.device } : {}),
      channel: channel ?? (spot?.browser ? "web" : "mobile"),
      status: "success",
    });
  }
}

/** A customer's money, drawn from their country's figures. */
export function moneyOf(d: Draw, id: string, country: Country): Money {
  return new Money(d, id, country);
}
