/**
 * Notifications: stored alerts sent to people and their tools, by severity. Targets: a
 * Slack-compatible incoming webhook, a generic JSON webhook signed with HMAC-SHA256
 * (`X-Vigil-Signature: sha256=<hex>` of `<timestamp>.<body>`, with `X-Vigil-Timestamp`), and
 * Alertmanager's v2 API (each written for its format, `notify_targets.ts`). Each target
 * has its own bounded queue and sends in the background, one request at a time, retrying
 * with exponential backoff; nothing here holds up the pipeline. Alerts in shadow mode are not sent. With a store that keeps an outbox
 * (MongoDB, or the embedded store for its lifetime), what waits is written there first and
 * claimed with a lease, so it survives a restart, and a dead process's lease runs out.
 *
 * @module
 */

import type { NotifySettings } from "../config/defaults.ts";
import { type Alert, SEVERITY_RANK } from "../events/types.ts";
import type { Store } from "./store.ts";
import { type Target, targetsOf } from "./notify_targets.ts";
import { exponentialDelay } from "../supervisors/strategy.ts";

export { hmac, summary, type Target, targetsOf } from "./notify_targets.ts";

const RANK = SEVERITY_RANK;

/** Where the notifier says what a person should know (the JSON logger in the engine). */
export type NotifyLog = (
  level: "warn",
  msg: string,
  fields: Record<string, unknown>,
) => void;

/** What the notifier reports (the metrics adapter implements it). */
export interface NotifyTelemetry {
  notified(target: string, result: "sent" | "retried" | "given_up" | "dropped", n: number): void;
}

/** Alerts a request carries at most. */
const MAX_BATCH = 50;

/** Where a lane keeps what waits to be sent, when the store can (see `Store`). */
export type NotificationOutbox = Required<
  Pick<Store, "queueNotifications" | "claimNotifications" | "doneNotifications">
>;

/** How often a lane with a store looks for notifications a dead process left. */
const POLL_MS = 10_000;

/** One target's queue and sender. */
class Lane {
  #queue: Alert[] = [];
  #queued = 0;
  #running: Promise<void> | null = null;
  #stopped = false;
  #wake: (() => void) | null = null;
  #writes: Promise<void> = Promise.resolve();
  #poll: ReturnType<typeof setInterval> | null = null;
  #again = false;

  constructor(
    readonly target: Target,
    readonly s: NotifySettings,
    readonly telemetry: NotifyTelemetry,
    readonly fetcher: typeof fetch,
    readonly outbox: NotificationOutbox | null,
    readonly log: NotifyLog,
  ) {
    if (outbox) {
      // What an earlier run (or a dead process) left waiting is sent too.
      this.#kick();
      this.#poll = setInterval(() => this.#kick(), POLL_MS);
    }
  }

  get queued(): number {
    return this.#queued;
  }

  /** A claim outlasts a batch's tries, so no other process takes it while this one tries. */
  get #lease_ms(): number {
    return (this.s.timeout_ms + this.s.backoff_max_ms) * this.s.max_attempts;
  }

  offer(alerts: readonly Alert[]): void {
    const room = Math.max(0, this.s.max_queued - this.#queued);
    if (alerts.length > room) {
      this.telemetry.notified(this.target.name, "dropped", alerts.length - room);
    }
    const taken = alerts.slice(0, room);
    if (taken.length === 0) return;
    this.#queued += taken.length;
    const outbox = this.outbox;
    if (outbox) {
      const items = taken.map((alert) => ({
        id: `${this.target.name}:${alert.alert_id}`,
        target: this.target.name,
        alert,
      }));
      // Written before they are claimed; a failed write keeps them in memory instead.
      this.#writes = this.#writes.then(() => outbox.queueNotifications(items)).catch(() => {
        for (const i of items) this.#queue.push(i.alert);
      });
    } else {
      for (const a of taken) this.#queue.push(a);
    }
    this.#kick();
  }

  #kick(): void {
    if (this.#stopped) return;
    // A run going on may have looked already: it looks once more before it ends.
    this.#again = true;
    this.#running ??= this.#run().finally(() => this.#running = null);
  }

  /** The next batch: from memory first, then claimed from the store. */
  async #next(): Promise<{ alerts: Alert[]; ids: string[] | null }> {
    if (this.#queue.length > 0) return { alerts: this.#queue.slice(0, MAX_BATCH), ids: null };
    if (!this.outbox) return { alerts: [], ids: null };
    await this.#writes;
    try {
      const claimed = await this.outbox.claimNotifications(
        this.target.name,
        Date.now(),
        this.#lease_ms,
        MAX_BATCH,
      );
      return { alerts: claimed.map((c) => c.alert), ids: claimed.map((c) => c.id) };
    } catch {
      return { alerts: [], ids: null }; // the store is down: the poll tries again
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      this.#again = false;
      const { alerts: batch, ids } = await this.#next();
      if (batch.length === 0) {
        if (this.#again) continue;
        return;
      }
      let finished = false;
      for (let attempt = 1;; attempt++) {
        if (await this.#send(batch, attempt)) {
          this.telemetry.notified(this.target.name, "sent", batch.length);
          finished = true;
          break;
        }
        if (this.#stopped) break; // left for the next run (in the store, if there is one)
        if (attempt >= this.s.max_attempts) {
          this.telemetry.notified(this.target.name, "given_up", batch.length);
          finished = true;
          break;
        }
        this.telemetry.notified(this.target.name, "retried", batch.length);
        const delay = exponentialDelay(this.s.backoff_min_ms, this.s.backoff_max_ms, attempt);
        await this.#sleep(delay);
      }
      if (!finished) return;
      this.#queued = Math.max(0, this.#queued - batch.length);
      if (ids) await this.outbox!.doneNotifications(ids).catch(() => {});
      else this.#queue.splice(0, batch.length);
    }
  }

  /**
   * One try at a batch. A redirect is not followed (the signed body would go to wherever
   * the answer points): it is a failed delivery, said once per batch in the log.
   */
  async #send(batch: readonly Alert[], attempt: number): Promise<boolean> {
    try {
      const req = await this.target.request(batch);
      const res = await this.fetcher(req.url, {
        method: "POST",
        headers: req.headers,
        body: req.body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.s.timeout_ms),
      });
      await res.body?.cancel();
      if (res.status >= 300 && res.status < 400 && attempt === 1) {
        this.log(
          "warn",
          `Notification target ${this.target.name} answered ${res.status} (a redirect): ` +
            "not followed, counted as a failed delivery; point its URL at the final address",
          { target: this.target.name, status: res.status, alerts: batch.length },
        );
      }
      return res.ok;
    } catch {
      return false;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Lets what is queued go out for up to `ms`, then stops (what waits stays in the store). */
  async stop(ms: number): Promise<void> {
    if (this.#poll !== null) clearInterval(this.#poll);
    const running = this.#running;
    if (running) await Promise.race([running, new Promise((r) => setTimeout(r, ms))]);
    this.#stopped = true;
    this.#wake?.();
    await this.#running;
    await this.#writes;
  }

  /** Resolves once nothing is queued here (for tests and graceful stops). */
  async idle(): Promise<void> {
    await this.#writes;
    while (this.#running) await this.#running;
  }
}

/** Routes stored alerts to every target whose minimum severity they reach. */
export class Notifier {
  #lanes: Lane[];

  constructor(
    settings: NotifySettings,
    telemetry: NotifyTelemetry,
    options: { fetcher?: typeof fetch; targets?: Target[]; store?: Store; log?: NotifyLog } = {},
  ) {
    const store = options.store;
    const outbox = store?.queueNotifications && store.claimNotifications && store.doneNotifications
      ? store as NotificationOutbox
      : null;
    this.#lanes = (options.targets ?? targetsOf(settings)).map((t) =>
      new Lane(t, settings, telemetry, options.fetcher ?? fetch, outbox, options.log ?? (() => {}))
    );
  }

  /** Whether any target is configured. */
  get enabled(): boolean {
    return this.#lanes.length > 0;
  }

  /** Queues alerts (never waits): shadow and suppressed alerts are not sent. */
  offer(alerts: readonly Alert[]): void {
    for (const lane of this.#lanes) {
      const min = RANK[lane.target.min_severity];
      const due = alerts.filter((a) => a.mode === "enforce" && RANK[a.severity] >= min);
      if (due.length > 0) lane.offer(due);
    }
  }

  /** Notifications waiting, per target. */
  queued(): Record<string, number> {
    return Object.fromEntries(this.#lanes.map((l) => [l.target.name, l.queued]));
  }

  async idle(): Promise<void> {
    await Promise.all(this.#lanes.map((l) => l.idle()));
  }

  /** Lets queued notifications go out for up to `ms`, then stops retrying. */
  async stop(ms = 5_000): Promise<void> {
    await Promise.all(this.#lanes.map((l) => l.stop(ms)));
  }
}
