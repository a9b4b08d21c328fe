/**
 * The whole system in one process: log, store, actor runtime, intake, outbox,
 * metrics, API and (optionally) the simulator, wired together, with a graceful stop.
 *
 * @module
 */

import { type Clock, systemClock } from "../actors/clock.ts";
import { ActorRuntime, type Escalation } from "../actors/runtime.ts";
import { IP, ipBehaviour } from "../actors/ip.ts";
import { USER, userBehaviour } from "../actors/user.ts";
import { FLOW_MODEL, flowRule, SOURCE, sourceBehaviour } from "../actors/source.ts";
import { SERVICE, serviceBehaviour } from "../actors/service.ts";
import { PAGE, pageBehaviour } from "../actors/page.ts";
import { ModelService, versionsOf } from "../models/service.ts";
import { flowModelView, loadModels, loginModelView } from "./served_models.ts";
import type { Config } from "../config/defaults.ts";
import { KEY_FIELD, messageKey } from "../events/route.ts";
import { Topics } from "../events/topics.ts";
import type { EventKind, VigilEvent } from "../events/types.ts";
import { parseEvent } from "../events/validate.ts";
import type { ConsumeOptions, Consumer, Log, Pending, ProduceMessage } from "../io/log.ts";
import { MemoryLog } from "../io/memory_log.ts";
import { MemoryStore } from "../io/memory_store.ts";
import { Metrics } from "../io/metrics.ts";
import type { Store } from "../io/store.ts";
import { type FlowOptions, flowsOf, Simulator } from "../sim/simulator.ts";
import { createApp, type IngestResult, type ModelInfo, NotFound } from "../api/app.ts";
import { Checkpointer } from "./checkpoints.ts";
import { Rules } from "./rules.ts";
import { Notifier } from "../io/notify.ts";
import { Intake, oversize, rekeyStream } from "./intake.ts";
import { Outbox } from "./outbox.ts";
import { log } from "./logger.ts";
import type { Hono } from "hono";

/** How to build a system. */
export interface SystemOptions {
  config: Config;
  token: string;
  clock?: Clock;
  log?: Log;
  store?: Store;
  notifier?: Notifier;
}

/** The period of the event-loop lag probe (ms). */
const LOOP_TICK_MS = 500;
const SIM_TICK_MS = 100;
/** Simulated events produced per tick at most (50,000 a second while it backfills). */
const SIM_MAX_PER_TICK = 5_000;
const MAX_REPORTED_ERRORS = 20;

/** A running Vigil. */
export class VigilSystem {
  readonly config: Config;
  readonly runtime: ActorRuntime;
  readonly log: Log;
  readonly store: Store;
  readonly outbox: Outbox;
  readonly topics: Topics;
  readonly intake: Intake;
  readonly metrics: Metrics;
  /** The models served to the actors (loaded by `start`). */
  readonly models: ModelService;
  /** The rules' modes and parameters (changed through the API). */
  readonly rules: Rules;
  /** Sends stored alerts to the configured targets (Slack, webhook, Alertmanager). */
  readonly notifier: Notifier;
  readonly app: Hono;
  #clock: Clock;
  #consumer: Consumer | null = null;
  #timers: ReturnType<typeof setInterval>[] = [];
  #stopping = false;
  #simulator: Simulator | null = null;
  #assigned: number[] | null = null;
  #durable = true;
  /** The last flush of what timers raised after traffic stopped failed (tried again). */
  #timerFlushFailed = false;
  /** Why the outbox cannot flush, while it cannot. */
  #durableError = "";
  /** When the flush's health was last logged (ms, processing time). */
  #durableSaidAt = 0;
  #checkpoints: Checkpointer | null = null;
  /** Batches handled whose effects are not durable yet. */
  #undurable = 0;
  /** When the root supervisor's holding was last logged (ms, processing time). */
  #heldSaidAt = -Infinity;

  constructor(options: SystemOptions) {
    const c = this.config = options.config;
    this.#clock = options.clock ?? systemClock;
    this.log = options.log ??
      new MemoryLog({
        retention_records: c.runtime.log_retention_records,
        now: () => this.#clock.now(),
      });
    this.store = options.store ??
      new MemoryStore({
        max_alerts: c.alerts.memory_store_max_alerts,
        max_dead_letters: c.memory_store_max_dead_letters,
      });
    this.topics = new Topics(c.io.topic_prefix);
    this.outbox = new Outbox(this.store, this.log, this.topics);
    this.notifier = options.notifier ?? new Notifier(c.notify, {
      notified: (target, result, n) => this.metrics.notified(target, result, n),
    }, { store: this.store });
    this.outbox.listen((alerts) => this.notifier.offer(alerts));
    let runtime: ActorRuntime | null = null;
    this.metrics = new Metrics({
      stats: () => runtime!.stats(),
      lag: () => this.#consumer?.lag() ?? {},
      lagSeconds: () => this.#consumer?.lagSeconds?.() ?? {},
      notificationsQueued: () => this.notifier.queued(),
      drift: () => this.models.drift(),
    });
    this.metrics.actorTypes([USER, IP, SOURCE, SERVICE, PAGE]);
    this.outbox.timed = (target, seconds, ok) => this.metrics.io(target, seconds, ok);
    const models = this.models = new ModelService(c.models, this.metrics);
    const rules = this.rules = new Rules(c, () => {
      const m = models.manifest(FLOW_MODEL);
      const benign = m?.benign_class ?? m?.classes[0];
      return m ? m.classes.filter((k) => k !== benign).map(flowRule) : [];
    });
    runtime = this.runtime = new ActorRuntime({
      behaviours: [
        userBehaviour(c, loginModelView(models)),
        ipBehaviour(c),
        sourceBehaviour({ alerts: c.alerts, net: c.net, model: flowModelView(models) }),
        serviceBehaviour(c),
        pageBehaviour(c),
      ],
      inference: models,
      modeOf: (rule) => rules.modeOf(rule),
      // Messages between actors go through the signals topic: the receiver's partition
      // may be owned by another process.
      route: (to, message) => this.intake.forwardSignal(to, message),
      runtime: c.runtime,
      supervision: c.supervision,
      alerts: c.alerts,
      clock: this.#clock,
      alertSink: this.outbox,
      deadLetters: this.outbox,
      telemetry: this.metrics,
      expected_streams: {
        [USER]: [this.topics.of("auth"), this.topics.of("transaction")],
        [IP]: Array.from({ length: c.runtime.partitions }, (_, p) => rekeyStream(p)),
        [SOURCE]: [this.topics.of("flow")],
        [SERVICE]: [this.topics.of("log"), this.topics.of("metric")],
        [PAGE]: [this.topics.of("click")],
      },
      // Failing input never stops the process (supervisors/root.ts): escalations are said.
      onEscalation: (e) => this.#escalated(e),
    });
    this.intake = new Intake(this.runtime, this.outbox, this.metrics, {
      max_event_bytes: c.max_event_bytes,
      limits: c.input,
      max_future_ms: c.runtime.max_future_ms,
      now: () => this.#clock.now(),
      topics: this.topics,
      archive: c.io.archive_raw_events,
      rekey: { topic: this.topics.rekeyIp },
      signals: this.topics.signals,
      health: {
        durable: (ok, err) => {
          // Said when it starts, when it ends, and when the reason changes meanwhile (a
          // store outage can end in another error that keeps the flush failing).
          const error = ok ? "" : String(err);
          const now = this.#clock.now();
          if (ok === this.#durable && error === this.#durableError) {
            // The same failure again: said once a minute, so a log shows the retries go on.
            if (ok || now - this.#durableSaidAt < 60_000) return;
            this.#durableSaidAt = now;
            log("warn", "Still cannot store or produce alerts; retrying", { error });
            return;
          }
          this.#durableSaidAt = now;
          const started = this.#durable && !ok;
          this.#durable = ok;
          this.#durableError = error;
          if (ok) log("info", "Alerts are being stored again; resuming");
          else {
            log(
              "warn",
              started
                ? "Cannot store or produce alerts; pausing and retrying"
                : "Still cannot store or produce alerts, for another reason; retrying",
              { error },
            );
          }
        },
      },
    });
    if (this.log.shared && c.io.checkpoint_interval_ms > 0) {
      this.#checkpoints = new Checkpointer(this.runtime, this.store, {
        group: c.io.kafka_group,
        interval_ms: c.io.checkpoint_interval_ms,
        restore_attempts: c.io.checkpoint_restore_attempts,
        now: () => this.#clock.now(),
        events: {
          written: (_partition, _actors, chars, ms) => this.metrics.checkpointWritten(chars, ms),
          restored: (partition, actors, offsets, age_ms) => {
            this.metrics.checkpointRestored();
            log("info", "Partition restored from its checkpoint", {
              partition,
              actors,
              offsets,
              age_ms,
            });
          },
          failed: (partition, what, err) => {
            this.metrics.checkpointFailed(what);
            log("warn", `Checkpoint ${what} failed`, { partition, error: String(err) });
          },
        },
      });
    }
    this.app = createApp({
      token: options.token,
      limits: c.api,
      store: this.store,
      ready: () => this.ready(),
      metrics: async () => ({
        text: await this.metrics.text(),
        contentType: this.metrics.contentType,
      }),
      ingest: (items) => this.ingest(items),
      actors: this.runtime,
      partitions: () => this.#assigned,
      models: {
        list: () => this.#listModels(),
        activate: async (name, version) => {
          if (!(await versionsOf(c.models.dir, name)).includes(version)) {
            throw new NotFound(`No model ${name} v${version} in ${c.models.dir}`);
          }
          const previous = this.models.manifest(name)?.version ?? null;
          const m = await this.models.activate(name, version);
          log("info", "Model activated", { model: name, version, previous });
          return { version: m.version, previous };
        },
        shadow: async (name, version) => {
          if (!(await versionsOf(c.models.dir, name)).includes(version)) {
            throw new NotFound(`No model ${name} v${version} in ${c.models.dir}`);
          }
          await this.models.shadow(name, version);
          log("info", "Model shadowed", { model: name, version });
        },
        unshadow: (name) => this.models.unshadow(name),
      },
      rules: {
        list: () => rules.list(),
        get: (rule) => rules.get(rule),
        change: (rule, change) => {
          const r = rules.change(rule, change);
          if (r) log("info", "Rule changed", { rule, mode: r.mode, params: r.params });
          return r;
        },
      },
    });
  }

  /**
   * Logs an escalation with the partition, the actor whose failure tipped it over and its
   * error: a restart each time, the root's holding once per root window.
   */
  #escalated(e: Escalation): void {
    const fields = { partition: e.partition, actor: e.actor.slice(0, 300), error: e.error };
    if (e.action === "restart_partition") {
      log("warn", "A partition's actors failed too often; restarting the partition", fields);
      return;
    }
    const now = this.#clock.now();
    if (now - this.#heldSaidAt < this.config.supervision.root_window_ms) return;
    this.#heldSaidAt = now;
    log(
      "error",
      "Partitions keep failing; not restarting them for now (their failing messages are " +
        "dead-lettered and the keys quarantined, the rest goes on)",
      { ...fields, reason: e.reason },
    );
  }

  /** The models in the models folder, with the version each serves. */
  async #listModels(): Promise<ModelInfo[]> {
    const dir = this.config.models.dir;
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) if (e.isDirectory) names.push(e.name);
    } catch {
      // no models folder: nothing to list
    }
    const out: ModelInfo[] = [];
    for (const name of names.sort()) {
      const versions = await versionsOf(dir, name);
      if (versions.length === 0) continue;
      const m = this.models.manifest(name);
      out.push({
        name,
        active: m?.version ?? null,
        shadow: this.models.shadowOf(name),
        versions,
        manifest: m && {
          created_at: m.created_at,
          sha256: m.sha256,
          classes: m.classes,
          features: m.features.length,
          thresholds: m.thresholds,
          validation: m.validation ?? null,
        },
      });
    }
    return out;
  }

  /** Creates the topics, starts consuming, the periodic sweeps and the simulator. */
  async start(
    options: { simulate: boolean } = { simulate: this.config.simulator.enabled },
  ): Promise<void> {
    const c = this.config;
    await this.#loadModels();
    await this.log.ensureTopics(
      this.topics.all,
      c.runtime.partitions,
    );
    const consume: ConsumeOptions = {
      group: c.io.kafka_group,
      on_error: (err) => log("error", "The consumer stopped", { error: String(err) }),
      on_commit: (ok) => this.metrics.committed(ok),
      on_assign: (partitions) => {
        this.metrics.rebalanced();
        const kept = new Set(partitions);
        for (const p of this.#assigned ?? []) if (!kept.has(p)) this.#checkpoints?.release(p);
        const dropped = this.runtime.retainPartitions(partitions);
        this.#assigned = partitions;
        log("info", "Partitions assigned", { partitions, dropped });
      },
      topics: this.topics.consumed,
      max_batch: c.runtime.max_batch_events,
      max_in_flight: c.runtime.max_batches_in_flight,
      partitions_in_parallel: c.runtime.partitions_in_parallel,
      handler: async (batch) => {
        const checkpoints = this.#checkpoints;
        if (!checkpoints) return await this.intake.process(batch);
        // Counted before any of its events is delivered, so no checkpoint is taken while
        // the actors hold events whose offsets the checkpoint would not cover.
        this.#undurable++;
        let pending: Pending;
        try {
          pending = await this.intake.process(batch);
        } catch (err) {
          this.#undurable--;
          throw err;
        }
        checkpoints.handled(batch);
        return {
          durable: pending.durable.then(() => {
            // Nothing handled that is not durable, nothing half handled: images match offsets.
            if (--this.#undurable === 0) checkpoints.takeDue();
          }),
        };
      },
    };
    const checkpoints = this.#checkpoints;
    if (checkpoints) {
      consume.resume_from = (p) => checkpoints.restore(p);
      consume.before_leave = async () => {
        await this.runtime.whenIdle();
        await this.outbox.flush();
        await checkpoints.flushAll();
      };
    }
    this.#consumer = this.log.consume(consume);
    this.#every(c.runtime.sweep_interval_ms, async () => {
      this.runtime.sweep();
      // Timers that fire because traffic stopped (windows closing, IP failures judged)
      // raise alerts outside any batch: no batch flush would send them until traffic
      // comes back, so they are flushed here (a failed flush is retried with the next).
      const fired = this.runtime.advanceIdle(c.runtime.idle_watermark_delay_ms);
      if (fired > 0 || this.#timerFlushFailed) {
        this.#timerFlushFailed = false;
        await this.outbox.flush().catch((err) => {
          this.#timerFlushFailed = true;
          log("warn", "Cannot store or produce alerts raised by timers; retrying", {
            error: String(err),
          });
        });
      }
    });
    // Event-loop lag: how late a 500 ms timer runs.
    let tick = performance.now();
    this.#every(LOOP_TICK_MS, () => {
      const now = performance.now();
      this.metrics.eventLoopLag(Math.max(0, now - tick - LOOP_TICK_MS) / 1000);
      tick = now;
    });
    if (options.simulate) this.#startSimulator();
  }

  /** Ready: consuming, not stopping, and the store answers. */
  async ready(): Promise<{ ready: boolean; reasons: string[] }> {
    const reasons: string[] = [];
    if (!this.#consumer) reasons.push("not consuming yet");
    if (this.#stopping) reasons.push("stopping");
    if (!this.#durable) reasons.push("cannot store or produce alerts; paused and retrying");
    try {
      await this.store.ping();
    } catch (err) {
      reasons.push(`store does not answer: ${(err as Error).message}`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  /** Validates raw event texts; valid ones go to their topics, invalid ones are dead-lettered. */
  async ingest(items: string[]): Promise<IngestResult> {
    const result: IngestResult = { accepted: 0, rejected: 0, errors: [] };
    const byTopic = new Map<string, ProduceMessage[]>();
    items.forEach((text, index) => {
      const reject = (reason: string, why: "invalid" | "oversized" = "invalid") => {
        result.rejected++;
        if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ index, reason });
        this.intake.reject({ value: text, source: `http[${index}]` }, why, reason, undefined);
      };
      const parsed = parseEvent(text, { limits: this.config.input });
      if (!parsed.ok) return reject(parsed.reason);
      // The text as it will be stored (with a derived event_id written in) is what must fit.
      const value = withId(parsed.event, text);
      const tooBig = oversize(value, this.config.max_event_bytes);
      if (tooBig) return reject(tooBig, "oversized");
      result.accepted++;
      const topic = this.topics.of(parsed.event.kind);
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, list = []);
      list.push({ key: messageKey(parsed.event), value });
    });
    for (const [topic, messages] of byTopic) await this.log.produce(topic, messages);
    await this.outbox.flush();
    return result;
  }

  /** Stops intake, drains mailboxes, flushes, passivates. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#consumer?.stop();
    await this.runtime.whenIdle();
    this.runtime.cancelTimers();
    await this.outbox.flush();
    await this.notifier.stop();
    this.runtime.passivateAll();
    await this.models.close();
    await this.log.close();
    await this.store.close();
  }

  /** The partitions this process owns (null: all, with the embedded log). */
  get assigned(): number[] | null {
    return this.#assigned;
  }

  /** The simulator feeding this system, if any (its ground truth). */
  get simulator(): Simulator | null {
    return this.#simulator;
  }

  #startSimulator(): void {
    const s = this.config.simulator;
    const sim = this.#simulator = new Simulator({
      seed: s.seed,
      users: s.users,
      start_ms: this.#clock.now() - s.backfill_s * 1000,
      events_per_second: s.events_per_second,
      attack_interval_s: s.attack_interval_s,
      ...this.#simulatedFlows(),
      ...(s.clicks_per_second > 0 ? { ops: { clicks_per_second: s.clicks_per_second } } : {}),
    });
    this.#every(SIM_TICK_MS, async () => {
      const byTopic = new Map<string, ProduceMessage[]>();
      let n = 0;
      for (const e of sim.until(this.#clock.now())) {
        const topic = this.topics.of(e.kind as VigilEvent["kind"]);
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, list = []);
        list.push({ key: String(e[KEY_FIELD[e.kind as EventKind]]), value: JSON.stringify(e) });
        if (++n >= SIM_MAX_PER_TICK) break; // a backfill: the rest next tick
      }
      for (const [topic, messages] of byTopic) await this.log.produce(topic, messages);
    });
  }

  /** The simulator's flows: from the flow model's class prototypes, when one is loaded. */
  #simulatedFlows(): { flows?: FlowOptions } {
    const per_second = this.config.simulator.flows_per_second;
    const flows = per_second > 0 ? flowsOf(this.models.manifest(FLOW_MODEL), per_second) : null;
    return flows ? { flows } : {};
  }

  /** Loads the newest version of each model; without one, its actors go without scores. */
  #loadModels(): Promise<void> {
    return loadModels(this.models, this.config.models.dir);
  }

  #every(ms: number, fn: () => void | Promise<void>): void {
    let running = false;
    this.#timers.push(setInterval(async () => {
      if (running || this.#stopping) return;
      running = true;
      try {
        await fn();
      } catch (err) {
        log("error", "A periodic task failed", { error: String(err) });
      } finally {
        running = false;
      }
    }, ms));
  }
}

/** The event's text, with its derived `event_id` written in so every later reader agrees. */
function withId(event: VigilEvent, text: string): string {
  if (event.raw.event_id !== undefined) return text;
  return JSON.stringify({ ...event.raw, event_id: event.event_id });
}
