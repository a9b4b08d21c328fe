/**
 * The per-user actor (key `user_id`): it holds the user's sessions and last login,
 * counts logins and logouts, and runs the per-user auth rules.
 *
 * Sessions close on logout or after the idle timeout, measured in event time by a
 * timer on the partition watermark, so a replay closes them at the same points.
 *
 * @module
 */

import type { AlertLimits, AuthRules, TxRules, UserChainRules } from "../config/defaults.ts";
import type { AuthEvent, TransactionEvent } from "../events/types.ts";
import { type FailureState, NO_FAILURES, onFailure, onSuccess } from "./rules/auth_failures.ts";
import {
  LOGIN_MODEL,
  loginFeatures,
  type LoginHistory,
  NO_HOUR,
  remember,
  rememberLogin,
  riskyLogin,
  type ScoredLogin,
  usualHour,
} from "./rules/login_risk.ts";
import {
  accountTakeover,
  addAmount,
  type AmountStats,
  type AttackMark,
  compromiseAfterAttack,
  familiarNetwork,
  impossibleTravel,
  isOutgoing,
  type Known,
  largeAmount,
  markAttack,
  networkOf,
  newDeviceLocation,
  NO_ATTACKS,
  NO_TRANSFERS,
  type Novelty,
  noveltyOf,
  type PendingTransfer,
  rapidTransfers,
  type SuspiciousLogin,
  suspiciousLogin,
  takeoverCandidate,
  type Targeted,
  targetedOf,
} from "./rules/user_rules.ts";
import { cooledDown, countIn, type Recent, rememberDistinct } from "./window.ts";
import {
  type ActorContext,
  type AlertDraft,
  type Behaviour,
  type Effect,
  NO_EFFECTS,
  type Step,
  whenPassed,
} from "./types.ts";

/** The actor type name. */
export const USER = "user";

/** Messages a user actor understands. */
export type UserMessage =
  | { kind: "event"; event: AuthEvent | TransactionEvent }
  | { kind: "session_idle" }
  /** The watermark has passed the earliest transfer waiting to be judged. */
  | { kind: "judge_transfers"; watermark_ms: number }
  | ScoredLogin
  | Targeted;

/** Where and how the user last logged in. */
export interface LastLogin {
  readonly event_id: string;
  readonly ts: number;
  readonly ip: string | null;
  readonly country: string | null;
  readonly city: string | null;
  readonly device_id: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  /** The AS announcing its IP, when known (the event's, or the IP database's). */
  readonly asn: number | null;
  /** The IP database that gave its place (null: the event did, or none is known). */
  readonly located_by: string | null;
  /** What was new to the user about it (`noveltyOf`). */
  readonly novel: readonly Novelty[];
  /** Its login risk, once scored at or above the lowest level (null: not known). */
  readonly risk: number | null;
  /** Whether its network was one the user had logged in from before. */
  readonly known_network: boolean;
  /** Whether `user.compromise_after_attack` has alerted it. */
  readonly alerted: boolean;
}

/** A user's state. Never mutated: each turn returns a new one. */
export interface UserState {
  readonly sessions: readonly string[];
  readonly logins: number;
  readonly logouts: number;
  readonly transactions: number;
  readonly last_login: LastLogin | null;
  readonly last_activity_ms: number | null;
  /** Due time of the pending idle-session timer, if one is set. */
  readonly idle_timer_ms: number | null;
  readonly auth: FailureState;
  /**
   * For the login-risk features: devices and countries of earlier logins besides the last
   * one's (newest last), and the usual login hour (see `LoginHistory`).
   */
  readonly devices: readonly string[];
  readonly countries: readonly string[];
  readonly hour: number;
  /** Networks (`networkOf`) of earlier logins besides the last one's, newest last. */
  readonly networks: readonly number[];
  /** Event time of the last alert of each rule besides the failure rules (cool-downs). */
  readonly cooldowns: Readonly<Record<string, number>>;
  /** The user's outgoing amounts (`tx.large_amount`); null before the first. */
  readonly amounts: AmountStats | null;
  /** Recent transfers (`tx.rapid_transfers`). */
  readonly transfers: Recent;
  /**
   * The latest suspicious logins (`user.account_takeover`, oldest first), the payees
   * paid lately, and the transfers to new payees waiting for the watermark (by time).
   */
  readonly suspicious: readonly SuspiciousLogin[];
  readonly payees: readonly string[];
  readonly transfers_pending: readonly PendingTransfer[];
  /** The latest attacks the user was a target of (`user.compromise_after_attack`). */
  readonly attacked: readonly AttackMark[];
  /**
   * The latest logins before the last one (oldest first; with it, the recent logins): the
   * word of an attack and a login's score may come after later logins.
   */
  readonly earlier_logins: readonly LastLogin[];
}

const NO_SESSIONS: readonly string[] = Object.freeze([]);
const NO_PENDING: readonly PendingTransfer[] = Object.freeze([]);
const NO_SUSPECTS: readonly SuspiciousLogin[] = Object.freeze([]);
const NO_NETWORKS: readonly number[] = Object.freeze([]);
const NO_ALERTS: readonly AlertDraft[] = Object.freeze([]);
const NO_LOGINS: readonly LastLogin[] = Object.freeze([]);

type Draft = { -readonly [K in keyof UserState]: UserState[K] };

/**
 * A fresh copy of a state to fill in. Every state is built here, field by field in one
 * order, so they all share one hidden class (fast property access across a million
 * actors); the state given to a turn is never written to.
 */
function copy(s: UserState): Draft {
  return {
    sessions: s.sessions,
    logins: s.logins,
    logouts: s.logouts,
    transactions: s.transactions,
    last_login: s.last_login,
    last_activity_ms: s.last_activity_ms,
    idle_timer_ms: s.idle_timer_ms,
    auth: s.auth,
    devices: s.devices,
    countries: s.countries,
    hour: s.hour,
    networks: s.networks,
    cooldowns: s.cooldowns,
    amounts: s.amounts,
    transfers: s.transfers,
    suspicious: suspectsOf(s),
    payees: s.payees,
    transfers_pending: s.transfers_pending ?? NO_PENDING,
    attacked: s.attacked,
    earlier_logins: s.earlier_logins ?? NO_LOGINS,
  };
}

/** The recent logins: the earlier ones and the last (made only when they are judged). */
function recentOf(s: UserState): readonly LastLogin[] {
  const earlier = s.earlier_logins ?? NO_LOGINS;
  return s.last_login ? earlier.concat(s.last_login) : earlier;
}

const INITIAL: UserState = copy({
  sessions: NO_SESSIONS,
  logins: 0,
  logouts: 0,
  transactions: 0,
  last_login: null,
  last_activity_ms: null,
  idle_timer_ms: null,
  auth: NO_FAILURES,
  devices: NO_SESSIONS,
  countries: NO_SESSIONS,
  hour: NO_HOUR,
  networks: NO_NETWORKS,
  cooldowns: Object.freeze({}),
  amounts: null,
  transfers: NO_TRANSFERS,
  suspicious: NO_SUSPECTS,
  payees: NO_SESSIONS,
  transfers_pending: NO_PENDING,
  attacked: NO_ATTACKS,
  earlier_logins: NO_LOGINS,
});

/** The parameters a user actor reads on every turn (changed at run time by the API). */
export interface UserParams {
  auth: AuthRules;
  tx: TxRules;
  user: UserChainRules;
  alerts: AlertLimits;
}

/** What a user actor learns of the login-risk model it is served (from its manifest). */
export interface RiskModelView {
  version: string;
  /** The index of the risky class among the model's outputs. */
  risky_index: number;
}

/**
 * The user behaviour, reading its parameters from `params` on every turn.
 *
 * @example
 * ```ts
 * import { userBehaviour } from "./user.ts";
 * import { defaults } from "../config/defaults.ts";
 * const user = userBehaviour(defaults);
 * const s0 = user.initial("alice");
 * ```
 */
export function userBehaviour(
  params: UserParams,
  model: () => RiskModelView | null = () => null,
): Behaviour<UserState, UserMessage> {
  return {
    type: USER,
    initial: () => INITIAL,
    receive: (state, message, ctx) => receive(state, message, ctx, params, model),
    view,
    // What an IP actor in another process tells it: nothing else comes through signals.
    fromSignal: targetedOf,
  };
}

function receive(
  s: UserState,
  m: UserMessage,
  ctx: ActorContext,
  p: UserParams,
  model: () => RiskModelView | null,
): Step<UserState> {
  if (m.kind === "session_idle") return closeIdle(s, ctx.watermark_ms, p);
  if (m.kind === "judge_transfers") return judgeTransfers(s, m.watermark_ms, p);
  if (m.kind === "targeted") return targeted(s, m, ctx.self.key, p);
  if (m.kind === "login_risk") {
    const version = model()?.version;
    if (version === undefined) return { state: s, effects: NO_EFFECTS };
    const alert = riskyLogin(ctx.self.key, m, p.auth, `${LOGIN_MODEL}@${version}`);
    return scored(s, m, ctx.self.key, p, alert);
  }
  const e = m.event;
  if (e.kind === "transaction") return transaction(s, e, p);
  switch (e.type) {
    case "login_failure": {
      // A failed login is not session activity: an attacker's attempts must not keep
      // the victim's sessions open.
      const r = onFailure(s.auth, e, p);
      const n = copy(s);
      n.auth = r.state;
      if (!r.alert) return { state: n, effects: NO_EFFECTS };
      // The user is now a target: a success within the window is a possible compromise.
      const attack = {
        rule: r.alert.rule,
        ip: e.ip ?? null,
        asn: e.asn ?? null,
        episode: r.alert.dedup,
        ts: e.ts,
      };
      n.attacked = markAttack(s.attacked, attack, p.user.max_attacks);
      return { state: n, effects: [{ kind: "alert", alert: r.alert }] };
    }
    case "login_success":
      return login(s, e, p, model());
    case "logout":
      return closeSession(s, e);
  }
}

const OPENED: Effect = Object.freeze({ kind: "gauge", name: "active_sessions", delta: 1 });
const CLOSED: Effect = Object.freeze({ kind: "gauge", name: "active_sessions", delta: -1 });
/** The user's first open session opened, or its last closed: the users with one. */
const ACTIVE: Effect = Object.freeze({ kind: "gauge", name: "active_users", delta: 1 });
const INACTIVE: Effect = Object.freeze({ kind: "gauge", name: "active_users", delta: -1 });
const IDLE: UserMessage = Object.freeze({ kind: "session_idle" });
const CANCEL_IDLE: Effect = Object.freeze({ kind: "cancel_timer", name: "session_idle" });

/**
 * A successful login: the failure rules, a session opened, the last login remembered,
 * and, when a login-risk model is served, the login scored (its features come from the
 * state before it).
 */
function login(
  s: UserState,
  e: AuthEvent,
  p: UserParams,
  model: RiskModelView | null,
): Step<UserState> {
  const effects: Effect[] = [];
  const history = historyOf(s);
  if (model !== null) effects.push(scoreLogin(history, s, e, p, model));
  let cooldowns = s.cooldowns;
  const raise = (alert: AlertDraft | null) => {
    if (!alert || !cooledDown(cooldowns[alert.rule], alert.ts, p.alerts.cooldown_ms)) return;
    cooldowns = { ...cooldowns, [alert.rule]: alert.ts };
    effects.push({ kind: "alert", alert });
  };
  raise(impossibleTravel(s.last_login, e, p.auth));
  const seen = known(s);
  // Worked out once: what is new, and whether its network is the user's (both are kept).
  const familiar = familiarNetwork(seen, e.ip);
  const novel = noveltyOf(seen, e, p.auth.new_device_min_logins, familiar);
  raise(newDeviceLocation(seen, e, p.auth));
  const suspect = suspiciousLogin(seen, failuresBefore(s, e, p), e, p.auth);
  let auth = s.auth;
  if (auth.failures.ts.length > 0 || auth.streak > 0) {
    const r = onSuccess(auth, e, p);
    auth = r.state;
    if (r.alert) effects.push({ kind: "alert", alert: r.alert });
  }
  const id = e.session_id ?? e.event_id;
  let sessions = s.sessions;
  if (!sessions.includes(id)) {
    sessions = sessions.concat(id);
    effects.push(OPENED);
    if (s.sessions.length === 0) effects.push(ACTIVE);
    const over = sessions.length - p.auth.max_sessions_per_user;
    if (over > 0) {
      sessions = sessions.slice(over);
      effects.push(over === 1 ? CLOSED : { kind: "gauge", name: "active_sessions", delta: -over });
    }
  }
  const last = maxTime(s.last_activity_ms, e.ts);
  let idle_timer_ms = s.idle_timer_ms;
  if (idle_timer_ms === null) {
    idle_timer_ms = last + p.auth.session_idle_timeout_ms;
    effects.push(idleTimer(idle_timer_ms));
  }
  const n = copy(s);
  const h = rememberLogin(history, e);
  n.sessions = sessions;
  n.logins++;
  const now: LastLogin = {
    event_id: e.event_id,
    ts: e.ts,
    ip: e.ip ?? null,
    country: e.country ?? null,
    city: e.city ?? null,
    device_id: e.device_id ?? null,
    lat: e.lat ?? null,
    lon: e.lon ?? null,
    asn: e.asn ?? null,
    located_by: e.located_by ?? null,
    novel,
    risk: null,
    known_network: familiar,
    alerted: false,
  };
  n.devices = h.devices;
  n.countries = h.countries;
  n.hour = h.hour;
  n.networks = remember(
    s.networks,
    s.last_login?.ip ? networkOf(s.last_login.ip) : null,
    e.ip !== undefined ? networkOf(e.ip) : undefined,
    p.user.max_known_networks,
  );
  if (suspect) {
    const kept = suspectsOf(s).concat(suspect);
    n.suspicious = kept.slice(Math.max(0, kept.length - p.user.max_suspicious_logins));
  }
  n.earlier_logins = keepEarlier(n.earlier_logins, s.last_login, now.ts, p.user);
  n.last_login = now;
  const judged = s.attacked.length > 0
    ? compromises(n, n.earlier_logins.concat(now), s.attacked, e.user_id, p)
    : NO_ALERTS;
  for (const alert of judged) effects.push({ kind: "alert", alert });
  n.cooldowns = cooldowns;
  n.last_activity_ms = last;
  n.idle_timer_ms = idle_timer_ms;
  n.auth = auth;
  return { state: n, effects };
}

/**
 * The logins before one at `ts_ms`: the earlier ones and the last, those within the window
 * before it and, with it, the latest `max_recent_logins`. Most users have none in the
 * window: the shared empty list, no array per resident user.
 */
function keepEarlier(
  earlier: readonly LastLogin[],
  last: LastLogin | null,
  ts_ms: number,
  u: Pick<UserChainRules, "compromise_window_ms" | "max_recent_logins">,
): readonly LastLogin[] {
  const from = ts_ms - u.compromise_window_ms;
  if (last === null || last.ts < from || u.max_recent_logins < 2) return NO_LOGINS;
  let first = Math.max(0, earlier.length + 2 - u.max_recent_logins);
  while (first < earlier.length && earlier[first]!.ts < from) first++;
  return first === earlier.length ? [last] : earlier.slice(first).concat(last);
}

/**
 * `user.compromise_after_attack` for the recent logins not yet alerted, against the
 * attacks remembered: each login is alerted at most once. Sets the draft's earlier and
 * last login from them (called only for a user attacked or scored: the copy is rare).
 */
function compromises(
  n: Draft,
  recent: readonly LastLogin[],
  marks: readonly AttackMark[],
  user: string,
  p: UserParams,
): readonly AlertDraft[] {
  let alerts: AlertDraft[] | null = null;
  let logins = recent;
  if (marks.length > 0) {
    for (let i = 0; i < recent.length; i++) {
      const login = recent[i]!;
      if (login.alerted) continue;
      const alert = compromiseAfterAttack(marks, login, user, p.user, p.auth.risky_login_medium);
      if (alert === null) continue;
      (alerts ??= []).push(alert);
      if (logins === recent) logins = recent.slice();
      (logins as LastLogin[])[i] = { ...login, alerted: true };
    }
  }
  n.earlier_logins = logins.length > 1 ? logins.slice(0, -1) : NO_LOGINS;
  n.last_login = logins.length > 0 ? logins[logins.length - 1]! : null;
  return alerts ?? NO_ALERTS;
}

/**
 * An IP actor's word that the user was a target of its alert. The recent logins (the IP's
 * actor runs behind the user's) are judged again with it.
 */
function targeted(s: UserState, m: Targeted, user: string, p: UserParams): Step<UserState> {
  const attack = { rule: m.rule, ip: m.ip, asn: m.asn ?? null, episode: m.episode, ts: m.ts };
  const marks = markAttack(s.attacked, attack, p.user.max_attacks);
  if (marks === s.attacked) return { state: s, effects: NO_EFFECTS }; // told already
  const n = copy(s);
  n.attacked = marks;
  const judged = compromises(n, recentOf(s), marks, user, p);
  // Decided by the word, which the address gives once its watermark passes the attempts.
  const effects: Effect[] = judged.map((alert) => ({
    kind: "alert",
    alert: { ...alert, decided: "watermark" },
  }));
  return { state: n, effects: effects.length > 0 ? effects : NO_EFFECTS };
}

/**
 * A login's risk score: its `auth.risky_login` alert, if any; a risk at or above the
 * medium level is remembered with the login (if it is still among the recent ones, later
 * logins or not), which is judged again with it.
 */
function scored(
  s: UserState,
  m: ScoredLogin,
  user: string,
  p: UserParams,
  risky: AlertDraft | null,
): Step<UserState> {
  const effects: Effect[] = risky ? [{ kind: "alert", alert: risky }] : [];
  const recent = recentOf(s);
  const i = recent.findIndex((l) => l.event_id === m.event_id);
  if (i < 0 || m.risk < p.auth.risky_login_medium) {
    return { state: s, effects: effects.length > 0 ? effects : NO_EFFECTS };
  }
  const logins = recent.slice();
  logins[i] = { ...recent[i]!, risk: m.risk };
  const n = copy(s);
  for (const alert of compromises(n, logins, s.attacked, user, p)) {
    effects.push({ kind: "alert", alert });
  }
  return { state: n, effects: effects.length > 0 ? effects : NO_EFFECTS };
}

/** The user's failed logins in the success-after-failures window before a login. */
function failuresBefore(s: UserState, e: AuthEvent, p: UserParams): number {
  return countIn(s.auth.failures, e.ts - p.auth.success_after_failures_window_ms, e.ts);
}

/** The devices and countries the user has used (the last login's and the ones before). */
function known(s: UserState): Known {
  return {
    logins: s.logins,
    devices: s.devices,
    countries: s.countries,
    networks: s.networks,
    last_device: s.last_login?.device_id ?? null,
    last_country: s.last_login?.country ?? null,
    last_ip: s.last_login?.ip ?? null,
  };
}

/** A transaction: counted as activity, and the transaction rules. */
function transaction(s: UserState, e: TransactionEvent, p: UserParams): Step<UserState> {
  const n = copy(s);
  n.transactions++;
  const effects: Effect[] = [];
  const raise = (alert: AlertDraft | null) => {
    if (!alert || !cooledDown(n.cooldowns[alert.rule], alert.ts, p.alerts.cooldown_ms)) return;
    n.cooldowns = { ...n.cooldowns, [alert.rule]: alert.ts };
    effects.push({ kind: "alert", alert });
  };
  if (isOutgoing(e)) {
    raise(largeAmount(s.amounts, e, p.tx));
    const t = takeoverCandidate(s.payees, e, p.user);
    if (t) {
      const held = holdTransfer(n, t, p);
      if (held.timer) effects.push(held.timer);
      for (const early of held.out) raise(accountTakeover(suspectsOf(s), early, p.user));
    }
    n.amounts = addAmount(s.amounts, e.amount, p.tx);
    n.payees = rememberDistinct(s.payees, e.counterparty, p.user.max_payees);
  }
  if (e.type === "transfer") {
    const r = rapidTransfers(s.transfers, e, p.tx);
    n.transfers = r.recent;
    raise(r.alert);
  }
  return touch(n, e.ts, p, effects);
}

/**
 * A transfer to a new payee, held (in time order, on a fresh draft) until the watermark
 * passes it; the timer to set when it is now the earliest held, and what the bound
 * pushed out (the earliest, to be judged at once).
 */
function holdTransfer(
  n: Draft,
  t: PendingTransfer,
  p: UserParams,
): { timer: Effect | null; out: readonly PendingTransfer[] } {
  const held = n.transfers_pending;
  let i = held.length;
  while (i > 0 && held[i - 1]!.ts > t.ts) i--;
  const next = [...held.slice(0, i), t, ...held.slice(i)];
  const over = Math.max(0, next.length - p.user.max_pending_transfers);
  n.transfers_pending = over > 0 ? next.slice(over) : next;
  const earliest = i === 0 || over > 0;
  return {
    timer: earliest ? whenPassed("judge_transfers", n.transfers_pending[0]!.ts) : null,
    out: over > 0 ? next.slice(0, over) : NO_PENDING,
  };
}

/** The held transfers the watermark has passed, judged in time order. */
function judgeTransfers(s: UserState, watermark_ms: number, p: UserParams): Step<UserState> {
  const held = s.transfers_pending;
  let i = 0;
  while (i < held.length && held[i]!.ts < watermark_ms) i++;
  if (i === 0) {
    return {
      state: s,
      effects: held.length > 0 ? [whenPassed("judge_transfers", held[0]!.ts)] : NO_EFFECTS,
    };
  }
  const n = copy(s);
  const effects: Effect[] = [];
  const suspects = suspectsOf(s);
  for (const t of held.slice(0, i)) {
    const alert = accountTakeover(suspects, t, p.user);
    if (!alert || !cooledDown(n.cooldowns[alert.rule], alert.ts, p.alerts.cooldown_ms)) continue;
    n.cooldowns = { ...n.cooldowns, [alert.rule]: alert.ts };
    effects.push({ kind: "alert", alert: { ...alert, decided: "watermark" } });
  }
  n.transfers_pending = i === held.length ? NO_PENDING : held.slice(i);
  if (i < held.length) effects.push(whenPassed("judge_transfers", held[i]!.ts));
  return { state: n, effects: effects.length > 0 ? effects : NO_EFFECTS };
}

/** The suspicious logins of a state (a checkpoint of an earlier version held the latest alone). */
function suspectsOf(s: UserState): readonly SuspiciousLogin[] {
  const held = s.suspicious as readonly SuspiciousLogin[] | SuspiciousLogin | null | undefined;
  if (Array.isArray(held)) return held;
  return held ? [held as SuspiciousLogin] : NO_SUSPECTS;
}

function historyOf(s: UserState): LoginHistory {
  return {
    logins: s.logins,
    last: s.last_login,
    devices: s.devices,
    countries: s.countries,
    hour: s.hour,
  };
}

/** The infer effect that scores a login; its reply comes back as a `login_risk` message. */
function scoreLogin(
  history: LoginHistory,
  s: UserState,
  e: AuthEvent,
  p: UserParams,
  model: RiskModelView,
): Effect {
  const features = loginFeatures(history, s.auth, e, p.auth);
  // The reply keeps what it reports of the login, not the event (it may wait for its score).
  const { event_id, ts } = e;
  const ip = e.ip ?? null, country = e.country ?? null, device_id = e.device_id ?? null;
  const risky = model.risky_index;
  return {
    kind: "infer",
    model: LOGIN_MODEL,
    features,
    // The score only raises an alert (the state is not read): the user's next events
    // need not wait for it, and a risk below the lowest level needs no turn at all.
    detached: true,
    reply: (scores): ScoredLogin | null => {
      const risk = scores[risky] ?? 0;
      if (!(risk >= p.auth.risky_login_low)) return null;
      return { kind: "login_risk", event_id, ts, ip, country, device_id, features, risk };
    },
  };
}

function closeSession(s: UserState, e: AuthEvent): Step<UserState> {
  const id = e.session_id;
  const i = id === undefined ? (s.sessions.length > 0 ? 0 : -1) : s.sessions.indexOf(id);
  const n = copy(s);
  n.logouts++;
  n.last_activity_ms = maxTime(s.last_activity_ms, e.ts);
  if (i < 0) return { state: n, effects: NO_EFFECTS };
  n.sessions = s.sessions.length === 1 ? NO_SESSIONS : s.sessions.filter((_, j) => j !== i);
  if (n.sessions.length > 0) return { state: n, effects: [CLOSED] };
  if (s.idle_timer_ms === null) return { state: n, effects: [CLOSED, INACTIVE] };
  // The last session closed: its idle timer would find nothing to close.
  n.idle_timer_ms = null;
  return { state: n, effects: [CLOSED, INACTIVE, CANCEL_IDLE] };
}

/**
 * Records activity on a fresh draft (written in place) and makes sure an idle timer is
 * pending while sessions are open.
 */
function touch(n: Draft, ts: number, p: UserParams, effects: Effect[]): Step<UserState> {
  n.last_activity_ms = maxTime(n.last_activity_ms, ts);
  if (n.sessions.length > 0 && n.idle_timer_ms === null) {
    n.idle_timer_ms = n.last_activity_ms + p.auth.session_idle_timeout_ms;
    effects.push(idleTimer(n.idle_timer_ms));
  }
  return { state: n, effects: effects.length > 0 ? effects : NO_EFFECTS };
}

function closeIdle(s: UserState, watermark: number, p: UserParams): Step<UserState> {
  const due = (s.last_activity_ms ?? -Infinity) + p.auth.session_idle_timeout_ms;
  const n = copy(s);
  if (s.sessions.length === 0) {
    n.idle_timer_ms = null;
    return { state: n, effects: NO_EFFECTS };
  }
  if (due > watermark) {
    n.idle_timer_ms = due;
    return { state: n, effects: [idleTimer(due)] };
  }
  n.sessions = NO_SESSIONS;
  n.idle_timer_ms = null;
  return {
    state: n,
    effects: [{ kind: "gauge", name: "active_sessions", delta: -s.sessions.length }, INACTIVE],
  };
}

function idleTimer(at_ms: number): Effect {
  return { kind: "timer", name: "session_idle", at_ms, message: IDLE };
}

function maxTime(a: number | null, b: number): number {
  return a === null || b > a ? b : a;
}

function roundTenth(x: number | null): number | null {
  return x === null ? null : Math.round(x * 10) / 10;
}

function view(s: UserState): unknown {
  const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString();
  return {
    open_sessions: s.sessions.length,
    sessions: s.sessions,
    logins: s.logins,
    logouts: s.logouts,
    transactions: s.transactions,
    last_login: s.last_login && { ...s.last_login, ts: iso(s.last_login.ts) },
    last_activity: iso(s.last_activity_ms),
    recent_failures: s.auth.failures.ts.length,
    failures_since_reset: s.auth.streak,
    brute_force_step: s.auth.step,
    alerts_raised: s.auth.alerts,
    earlier_devices: s.devices,
    earlier_countries: s.countries,
    usual_login_hour_utc: roundTenth(usualHour(s)),
    attacked_by: s.attacked.map((m) => ({
      rule: m.rule,
      ip: m.ip,
      at: new Date(m.ts).toISOString(),
      // Whether a login after it has been alerted (among those remembered).
      login_after: recentOf(s).some((l) => l.alerted && l.ts >= m.ts),
    })),
  };
}
