/**
 * The outbox: alerts and dead letters raised while a batch is handled wait here, and
 * `flush()` makes them durable (store and log topics, and any listeners such as the
 * JSON-lines writer) before the batch's offsets are committed.
 *
 * @module
 */

import type { AlertSink, DeadLetterSink } from "../actors/ports.ts";
import type { Alert, DeadLetter, Incident } from "../events/types.ts";
import type { Log, ProduceMessage, TopicMessages } from "../io/log.ts";
import type { ArchivedEvent, Store } from "../io/store.ts";

/** Topic names of what the outbox writes (without a deployment prefix). */
export const ALERTS_TOPIC = "alerts";
export const DEAD_LETTER_TOPIC = "dead-letters";
export const INCIDENTS_TOPIC = "incidents";

/** Something told of every alert once it is durable, with the incidents they changed. */
export type AlertListener = (
  alerts: readonly Alert[],
  incidents: readonly Incident[],
) => void | Promise<void>;

/** Buffers alerts and dead letters until the next flush. */
export class Outbox implements AlertSink, DeadLetterSink {
  #alerts: Alert[] = [];
  #dead: DeadLetter[] = [];
  #archive: ArchivedEvent[] = [];
  #forward = new Map<string, ProduceMessage[]>();
  #forwarded = 0;
  #store: Store | null;
  #log: Log | null;
  #listeners: AlertListener[] = [];
  #flushing: Promise<void> = Promise.resolve();
  /** Alerts made durable so far. */
  published = 0;
  /** Told how long each write to the store, and each produce request, took and whether it failed. */
  timed: (what: "store" | "produce", seconds: number, ok: boolean) => void = () => {};

  #alertsTopic: string;
  #deadLetterTopic: string;
  #incidentsTopic: string;

  constructor(
    store: Store | null,
    log: Log | null,
    topics: { alerts: string; deadLetters: string; incidents?: string } = {
      alerts: ALERTS_TOPIC,
      deadLetters: DEAD_LETTER_TOPIC,
    },
  ) {
    this.#store = store;
    this.#log = log;
    this.#alertsTopic = topics.alerts;
    this.#deadLetterTopic = topics.deadLetters;
    this.#incidentsTopic = topics.incidents ?? INCIDENTS_TOPIC;
  }

  /** Adds a listener (e.g. the stdout writer). */
  listen(listener: AlertListener): void {
    this.#listeners.push(listener);
  }

  publish(alert: Alert): void {
    this.#alerts.push(alert);
  }

  deadLetter(letter: DeadLetter): void {
    this.#dead.push(letter);
  }

  /** Keeps an event for the raw archive (written with the next flush). */
  archive(event: ArchivedEvent): void {
    this.#archive.push(event);
  }

  /** Appends a record to an internal topic (e.g. the re-key topic) with the next flush. */
  forward(topic: string, message: ProduceMessage): void {
    let list = this.#forward.get(topic);
    if (!list) this.#forward.set(topic, list = []);
    list.push(message);
    this.#forwarded++;
  }

  /** Alerts, dead letters, archived events and forwarded records waiting. */
  get pending(): number {
    return this.#alerts.length + this.#dead.length + this.#archive.length + this.#forwarded;
  }

  /** Makes everything raised so far durable. Flushes run one after another. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.catch(() => {}).then(() => this.#flushNow());
    return this.#flushing;
  }

  /** Runs `op`, telling `timed` how long it took and whether it failed (when `told`). */
  async #timing<T>(what: "store" | "produce", op: () => Promise<T>, told: boolean): Promise<T> {
    const t0 = performance.now();
    try {
      const out = await op();
      if (told) this.timed(what, (performance.now() - t0) / 1000, true);
      return out;
    } catch (err) {
      if (told) this.timed(what, (performance.now() - t0) / 1000, false);
      throw err;
    }
  }

  async #flushNow(): Promise<void> {
    if (this.pending === 0) return;
    const alerts = this.#alerts;
    const dead = this.#dead;
    const archive = this.#archive;
    const forward = this.#forward;
    this.#alerts = [];
    this.#dead = [];
    this.#archive = [];
    this.#forward = new Map();
    this.#forwarded = 0;
    try {
      // The store first (alerts are published as stored, and folded into their incidents
      // there), then one produce request for every topic: forwarded records, dead letters,
      // alerts and the incidents they changed.
      let incidents: Incident[] = [];
      const stored = await this.#timing("store", async () => {
        if (archive.length > 0) await this.#store?.archiveEvents(archive);
        if (dead.length > 0) await this.#store?.saveDeadLetters(dead);
        if (alerts.length === 0 || !this.#store) return alerts;
        const saved = await this.#store.saveAlerts(alerts);
        incidents = await this.#store.saveIncidents(saved);
        return saved;
      }, this.#store !== null && archive.length + dead.length + alerts.length > 0);
      const batches: TopicMessages[] = [...forward].map(([topic, messages]) => ({
        topic,
        messages,
      }));
      if (dead.length > 0) {
        batches.push({
          topic: this.#deadLetterTopic,
          messages: dead.map((d) => ({ key: d.source, value: JSON.stringify(d) })),
        });
      }
      if (stored.length > 0) {
        batches.push({
          topic: this.#alertsTopic,
          messages: stored.map((a) => ({ key: a.entity.key, value: JSON.stringify(a) })),
        });
      }
      if (incidents.length > 0) {
        batches.push({
          topic: this.#incidentsTopic,
          messages: incidents.map((i) => ({ key: i.incident_id, value: JSON.stringify(i) })),
        });
      }
      if (batches.length > 0 && this.#log) {
        const log = this.#log;
        await this.#timing("produce", () => log.produceMany(batches), true);
      }
      forward.clear();
      if (stored.length > 0) {
        for (const l of this.#listeners) await l(stored, incidents);
        this.published += stored.length;
      }
    } catch (err) {
      // Nothing is lost: put everything back in front for the next flush, and fail this one.
      this.#alerts = alerts.concat(this.#alerts);
      this.#dead = dead.concat(this.#dead);
      this.#archive = archive.concat(this.#archive);
      const newer = this.#forward;
      this.#forward = new Map();
      this.#forwarded = 0;
      for (const batch of [forward, newer]) {
        for (const [topic, messages] of batch) for (const m of messages) this.forward(topic, m);
      }
      throw err;
    }
  }
}
