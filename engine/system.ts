/**
 * The whole system in one process: log, store, actor runtime, intake, outbox,
 * metrics, API and (optionally) the simulator, wired together, with a graceful stop.
 *
 * @module
 */

import { type Clock, systemClock } from "../actors/clock.ts";
import { ActorRuntime, type Escalation } from "../actors/runtime.ts";
import { IP, ipBehaviour } from "../actors/ip.ts";
import { userBehaviour } from "../actors/user.ts";
import { FLOW_MODEL, flowRule, sourceBehaviour } from "../actors/source.ts";
import { serviceBehaviour } from "../actors/service.ts";
import { pageBehaviour } from "../actors/page.ts";
import { ModelService, versionsOf } from "../models/service.ts";
import { flowModelView, loadModels, loginModelView, SERVED_MODELS } from "./served_models.ts";
import type { Config } from "../config/defaults.ts";
import { ACTOR_TYPES, KEY_FIELD, kindsOf, messageKey } from "../actors/route.ts";
import { Topics } from "../events/topics.ts";
import type { EventKind, VigilEvent } from "../events/types.ts";
import type { ConsumeOptions, Consumer, Log, Pending, ProduceMessage } from "../io/log.ts";
import { MemoryLog } from "../io/memory_log.ts";
import { Turns } from "../io/turns.ts";
import { MemoryStore } from "../io/memory_store.ts";
import { Metrics } from "../io/metrics.ts";
import type { Store } from "../io/store.ts";
import { type FlowOptions, flowsOf, Simulator } from "../sim/simulator.ts";
import type { HistoryRequest, HistoryResult } from "../sim/history_worker.ts";
import { type IngestResult } from "./ingest_verdicts.ts";
import { type ModelInfo } from "./served_models.ts";
import { type RuleView } from "./rules.ts";
import { NotFound, Unavailable } from "./errors.ts";
import type { UserEntry } from "./roles.ts";
import { Checkpointer } from "./checkpoints.ts";
import { type RuleInfo, RULES, Rules } from "./rules.ts";
import { type BudgetPlan, budgetPlanOf, type RuleBudget } from "./feedback.ts";
import { auditEntry } from "./audit.ts";
import { FeedbackTracker } from "./feedback_tracker.ts";
import { registerRuleGauges } from "../io/feedback_metrics.ts";
import { triagedCase } from "../io/memory_store.ts";
import type { Triage, TriageKind } from "./triage.ts";
import { Notifier } from "../io/notify.ts";
import { Intake, rekeyStream } from "./intake.ts";
import { itemVerdict, judgeItems } from "./ingest_verdicts.ts";
import { RollupJob, rollupRange } from "./rollup_job.ts";
import { DAY_MS, periodStart } from "../io/rollups.ts";
import { WatermarkHolds } from "../actors/holds.ts";
import { Outbox } from "./outbox.ts";
import { AlertVolume } from "./alert_volume.ts";
import { StreamHub } from "./stream.ts";
import { type Suppression, Suppressions } from "./suppressions.ts";
import { log } from "./logger.ts";
import { loggedGeoLocator } from "./geo_locator.ts";
import { REPARTITION_STREAM_PREFIX, repartitionStream } from "./repartition.ts";
import { type PartitionerName, type Placement, placementOf } from "../actors/placement.ts";
import { exponentialDelay } from "../supervisors/strategy.ts";

/** How to build a system. */
export interface SystemOptions {
  config: Config;
  /** ADMIN_TOKEN: the admin principal's token. */
  token: string;
  /** ANALYST_TOKEN and VIEWER_TOKEN, when set. */
  tokens?: { analyst?: string; viewer?: string };
  /** The users file's principals. */
  users?: readonly UserEntry[];
  clock?: Clock;
  log?: Log;
  store?: Store;
  notifier?: Notifier;
}

/** A rule as the API shows it: with its labels' precision and its alert budget. */

/** The period of the event-loop lag probe (ms). */
const LOOP_TICK_MS = 500;
const SIM_TICK_MS = 100;
/** A backfill waits while its log holds this many records not yet read. */
const SIM_MAX_UNREAD = 50_000;
/** A backfill is played once the simulator is at the clock and this few records are unread. */
const SIM_LIVE_UNREAD = 1_000;
const MAX_REPORTED_ERRORS = 20;
/** How often misplaced records are looked at, and logged about at most (see `Intake`). */
const MISPLACED_CHECK_MS = 5_000;
const MISPLACED_REPORT_MS = 60_000;

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
  /** The principals the API lets in: the admin token, the other roles' tokens, the users file's. */
  readonly access: {
    token: string;
    tokens: { analyst?: string; viewer?: string };
    users: readonly UserEntry[];
  };
  /** The console's live stream of alerts and incidents. */
  readonly stream: StreamHub;
  /** Alerts per rule over event time, for the console's charts. */
  readonly volume: AlertVolume;
  #clock: Clock;
  #consumer: Consumer | null = null;
  #timers: ReturnType<typeof setInterval>[] = [];
  /** The rules' precision and budgets from the store (re-read, and at once for changes here). */
  readonly feedback: FeedbackTracker;
  #budgets: BudgetPlan;
  /** Rules over their budget at the last read (a rule is auto-shadowed as it goes over). */
  #overBudget = new Set<string>();
  /** The analysts' suppressions this process judges alerts with (the store's, re-read). */
  readonly suppressions: Suppressions;
  #stopping = false;
  #simulator: Simulator | null = null;
  /** The scheduled roll-ups (`VIGIL_AGGREGATE_ENABLED`). */
  #rollups: RollupJob | null = null;
  /** Ends the simulated history's thread while it runs. */
  #history: (() => void) | null = null;
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
  /** Where an actor lives: the partition of its key by the producers' partitioner. */
  #placement: Placement;
  /** Why the log cannot be reached at start, while it cannot, and the attempts so far. */
  #connectError = "";
  #connectAttempts = 0;
  /** Ends the wait before the next connection attempt (set while waiting). */
  #wake: (() => void) | null = null;
  /** When the root supervisor's holding was last logged (ms, processing time). */
  #heldSaidAt = -Infinity;
  /** The live ingest's holds on watermarks (`actors/holds.ts`). */
  #holds: WatermarkHolds;
  /** The work per turn of the event loop of the embedded log's readers and the backfill. */
  #turns: Turns;

  constructor(options: SystemOptions) {
    const c = this.config = options.config;
    this.#clock = options.clock ?? systemClock;
    this.#turns = new Turns(c.runtime.turn_ms);
    this.log = options.log ??
      new MemoryLog({
        retention_records: c.runtime.log_retention_records,
        keep_consumed_records: c.runtime.log_keep_consumed_records,
        turns: this.#turns,
        now: () => this.#clock.now(),
      });
    this.store = options.store ??
      new MemoryStore({
        max_alerts: c.alerts.memory_store_max_alerts,
        max_dead_letters: c.memory_store_max_dead_letters,
        max_archived_events: c.memory_store_max_archived_events,
        max_incidents: c.alerts.memory_store_max_incidents,
        max_incident_members: c.alerts.max_incident_members,
      });
    this.topics = new Topics(c.io.topic_prefix);
    this.suppressions = new Suppressions(c.alerts.max_suppressions);
    this.outbox = new Outbox(this.store, this.log, this.topics);
    this.notifier = options.notifier ?? new Notifier(c.notify, {
      notified: (target, result, n) => this.metrics.notified(target, result, n),
    }, { store: this.store, log });
    this.outbox.listen((alerts) => this.notifier.offer(alerts));
    this.stream = new StreamHub(c.console);
    this.volume = new AlertVolume(c.console);
    this.outbox.listen((alerts, incidents) => {
      this.volume.add(alerts);
      this.stream.publish([
        ...alerts.map((a) => ({ event: "alert" as const, data: a })),
        ...incidents.map((i) => ({ event: "incident" as const, data: i })),
      ]);
    });
    let runtime: ActorRuntime | null = null;
    const partitioner = c.io.kafka_producer_partitioner as PartitionerName;
    const placement = this.#placement = placementOf(partitioner);
    this.metrics = new Metrics({
      stats: () => runtime!.stats(),
      lag: () => this.#consumer?.lag() ?? {},
      lagSeconds: () => this.#consumer?.lagSeconds?.() ?? {},
      notificationsQueued: () => this.notifier.queued(),
      drift: () => this.models.drift(),
    });
    this.metrics.actorTypes(ACTOR_TYPES);
    this.outbox.timed = (target, seconds, ok) => this.metrics.io(target, seconds, ok);
    const models = this.models = new ModelService(c.models, this.metrics);
    const rules = this.rules = new Rules(c, () => {
      const m = models.manifest(FLOW_MODEL);
      const benign = m?.benign_class ?? m?.classes[0];
      return m ? m.classes.filter((k) => k !== benign).map(flowRule) : [];
    });
    this.#budgets = budgetPlanOf(
      c.rules,
      (name) => RULES.some((r) => r.rule === name) || name.startsWith("flow."),
    );
    this.feedback = new FeedbackTracker({
      store: this.store,
      plan: this.#budgets,
      precision_window_days: c.rules.precision_window_days,
      max_labelled_cases: c.rules.max_labelled_cases,
      max_incident_members: c.alerts.max_incident_members,
      now: () => this.#clock.now(),
    });
    registerRuleGauges(
      this.metrics.registry,
      () => rules.list().map((r) => ({ rule: r.rule, ...this.feedback.standing(r.rule) })),
    );
    this.#holds = new WatermarkHolds(c.api.max_watermark_holds, c.api.max_hold_ms);
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
      suppressedBy: (a) => this.suppressions.match(a),
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
      placement,
      holds: this.#holds,
      expected_streams: this.#expectedStreams(),
      // A partition may have nothing of a kind to move (a few pages, a few services):
      // lanes wait less for its word than for their own topics.
      expected_wait_ms: (stream) =>
        stream.startsWith(REPARTITION_STREAM_PREFIX)
          ? c.runtime.repartition_wait_ms
          : c.runtime.idle_watermark_delay_ms,
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
      geo: loggedGeoLocator(c.geo),
      repartition: {
        topic: this.topics.repartition,
        // Only where partitions are read by several processes can a record arrive on
        // another's partition (the embedded log places keys as the actors are placed).
        progress_ms: this.log.shared ? c.runtime.repartition_progress_ms : 0,
        placement: partitioner,
      },
      health: { durable: (ok, err) => this.#durableChanged(ok, err) },
    });
    if (this.log.shared && c.io.checkpoint_interval_ms > 0) {
      this.#checkpoints = this.#checkpointer(partitioner);
    }
    this.access = {
      token: options.token,
      tokens: options.tokens ?? {},
      users: options.users ?? [],
    };
  }

  /** The intake's flushes are durable again, or not (`ok`): said when it changes, and once a minute. */
  #durableChanged(ok: boolean, err?: unknown): void {
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
  }

  /** The partitions' checkpoints in the store, by the group of consumers and the partitioner. */
  #checkpointer(partitioner: PartitionerName): Checkpointer {
    const c = this.config;
    return new Checkpointer(this.runtime, this.store, {
      // Actors placed by another partitioner are on other partitions: checkpoints
      // taken with one are not the other's (murmur2's keep their old names).
      group: partitioner === "murmur2" ? c.io.kafka_group : `${c.io.kafka_group}/${partitioner}`,
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

  /** A rule with its feedback and budget. */
  ruleView(r: RuleInfo): RuleView {
    return { ...r, ...this.feedback.standing(r.rule) };
  }

  /** Changes a rule (the API's and the budget's one path), and logs it. */
  changeRule(
    rule: string,
    change: { mode?: unknown; params?: unknown },
    by?: "system",
  ): RuleInfo | null {
    const r = this.rules.change(rule, change);
    if (r) log("info", "Rule changed", { rule, mode: r.mode, params: r.params, ...(by && { by }) });
    return r;
  }

  /** A triage changed here: its label counts at once (other processes read it soon). */
  async triaged(kind: TriageKind, id: string, triage: Triage): Promise<void> {
    try {
      await this.feedback.noted(triagedCase(kind, id, triage));
    } catch (err) {
      log("warn", "Cannot count a label yet; the next read will", { error: String(err) });
    }
  }

  /** Reads the labels and alert counts, then judges the budgets. */
  async #readFeedback(): Promise<void> {
    await this.feedback.refresh();
    await this.#judgeBudgets();
  }

  /**
   * Flags the rules over their budget, and moves to shadow mode those configured for it
   * as they go over while in enforce mode. A person who puts such a rule back in
   * enforce mode while it is still over is not overruled: it is moved again only after
   * it came back under its budget and went over once more.
   */
  async #judgeBudgets(): Promise<void> {
    const over = new Set<string>();
    for (const r of this.rules.list()) {
      const { budget } = this.feedback.standing(r.rule);
      if (!budget.over) continue;
      over.add(r.rule);
      if (this.#overBudget.has(r.rule)) continue;
      log("warn", "Rule is over its alert budget", {
        rule: r.rule,
        last_hour: budget.last_hour,
        per_hour: budget.per_hour,
        mode: r.mode,
      });
      if (budget.auto_shadow && r.mode === "enforce") await this.#autoShadow(r, budget);
    }
    this.#overBudget = over;
  }

  /**
   * Moves a rule to shadow mode as the API would, and appends it to the audit log as the
   * principal "system" (`rule.auto_shadow`, the rule before and after with its budget).
   */
  async #autoShadow(before: RuleInfo, budget: RuleBudget): Promise<void> {
    const after = this.changeRule(before.rule, { mode: "shadow" }, "system")!;
    log("warn", "Rule moved to shadow mode: over its alert budget", {
      rule: before.rule,
      last_hour: budget.last_hour,
      per_hour: budget.per_hour,
    });
    const entry = auditEntry(
      { name: "system", role: "system" },
      "rule.auto_shadow",
      { kind: "rule", id: before.rule },
      this.ruleView(before),
      this.ruleView(after),
      this.#clock.now(),
    );
    try {
      await this.store.appendAudit(entry);
    } catch (err) {
      // Tried once: the rule is in shadow mode whether or not the store answered.
      log("error", "Cannot append the rule's move to shadow mode to the audit log", {
        rule: before.rule,
        entry,
        error: String(err),
      });
    }
  }

  /**
   * The input streams each lane waits for from the start: its input topics, every
   * source partition's re-keyed login attempts for IPs, and, where partitions are read
   * by several processes, the records every other partition may move to this one.
   */
  #expectedStreams(): (type: string, partition: number) => readonly string[] {
    const t = this.topics;
    const partitions = this.config.runtime.partitions;
    const rekeyed = Array.from({ length: partitions }, (_, p) => rekeyStream(p));
    const direct = Object.fromEntries(
      ACTOR_TYPES.map((type) => [type, kindsOf(type).map((k) => t.of(k))]),
    );
    const cache = new Map<string, readonly string[]>();
    const shared = this.log.shared;
    return (type, partition) => {
      if (type === IP) return rekeyed;
      const id = `${type}/${partition}`;
      let names = cache.get(id);
      if (names === undefined) {
        const topics = direct[type] ?? [];
        const moved = shared
          ? topics.flatMap((topic) =>
            Array.from({ length: partitions }, (_, q) => q)
              .filter((q) => q !== partition)
              .map((q) => repartitionStream(topic, q))
          )
          : [];
        cache.set(id, names = [...topics, ...moved]);
      }
      return names;
    };
  }

  /** A record for an input topic, on its key's partition (as the actors are placed). */
  #placed(key: string, value: string): ProduceMessage {
    return { key, value, partition: this.#placement(key, this.config.runtime.partitions) };
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
  async listModels(): Promise<ModelInfo[]> {
    const dir = this.config.models.dir;
    const out: ModelInfo[] = [];
    for (const name of [...SERVED_MODELS].sort()) {
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

  async #hasVersion(name: string, version: string): Promise<void> {
    const dir = this.config.models.dir;
    if (!(await versionsOf(dir, name)).includes(version)) {
      throw new NotFound(`No model ${name} v${version} in ${dir}`);
    }
  }

  /** Serves `version` of a model of the folder (NotFound: no such version). */
  async activateModel(
    name: string,
    version: string,
  ): Promise<{ version: string; previous: string | null }> {
    await this.#hasVersion(name, version);
    const previous = this.models.manifest(name)?.version ?? null;
    const m = await this.models.activate(name, version);
    log("info", "Model activated", { model: name, version, previous });
    return { version: m.version, previous };
  }

  /** Scores `version` of a model beside the one served (NotFound: no such version). */
  async shadowModel(name: string, version: string): Promise<void> {
    await this.#hasVersion(name, version);
    await this.models.shadow(name, version);
    log("info", "Model shadowed", { model: name, version });
  }

  /** Creates the topics, starts consuming, the periodic sweeps and the simulator. */
  async start(
    options: { simulate: boolean } = { simulate: this.config.simulator.enabled },
  ): Promise<void> {
    const c = this.config;
    await this.#loadModels();
    // A store that does not answer yet is read again by the timer (readiness says so).
    await this.#readSuppressions().catch((err) =>
      log("warn", "Cannot read the suppressions yet; retrying", { error: String(err) })
    );
    this.#every(c.alerts.suppressions_refresh_ms, () => this.#readSuppressions());
    await this.#readFeedback().catch((err) =>
      log("warn", "Cannot read the rules' labels and alert counts yet; retrying", {
        error: String(err),
      })
    );
    this.#every(c.rules.feedback_refresh_ms, () => this.#readFeedback());
    if (c.aggregate.enabled) {
      this.#rollups = new RollupJob(this.store, c.aggregate, {
        owner: processName(),
        telemetry: this.metrics,
      });
      this.#rollups.start();
    }
    if (!(await this.#ensureTopics()) || this.#stopping) return;
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
      const fired = this.runtime.expireHolds() +
        this.runtime.advanceIdle(c.runtime.idle_watermark_delay_ms);
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
    // Records that arrived elsewhere than their key's partition: what they look like,
    // soon after the first and then at most once a minute.
    let reported = -Infinity;
    this.#every(MISPLACED_CHECK_MS, () => {
      if (Date.now() - reported < MISPLACED_REPORT_MS) return;
      if (this.#reportMisplaced() > 0) reported = Date.now();
    });
  }

  /**
   * Creates the topics, which also proves the log can be reached. While it cannot (a
   * refused login, an untrusted certificate, no broker) the system stays up, not ready,
   * says why (again when the reason changes, and once a minute), and tries again after a
   * backoff that doubles up to its ceiling; until it can (true) or is stopped (false).
   */
  async #ensureTopics(): Promise<boolean> {
    const io = this.config.io;
    let saidAt = -Infinity;
    for (let attempt = 1;; attempt++) {
      const delay = exponentialDelay(
        io.kafka_connect_backoff_min_ms,
        io.kafka_connect_backoff_max_ms,
        attempt,
      );
      try {
        await this.log.ensureTopics(this.topics.all, this.config.runtime.partitions);
        if (attempt > 1) log("info", "Kafka can be reached now; starting", { attempts: attempt });
        this.#connectError = "";
        return true;
      } catch (err) {
        if (this.#stopping) return false;
        const error = err instanceof Error ? err.message : String(err);
        const now = this.#clock.now();
        if (error !== this.#connectError || now - saidAt >= 60_000) {
          saidAt = now;
          log("error", "Cannot reach Kafka; not ready, retrying", {
            error,
            attempt,
            retry_in_ms: delay,
          });
        }
        this.#connectError = error;
        this.#connectAttempts = attempt;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = null;
        if (this.#stopping) return false;
      }
    }
  }

  /**
   * Resolves when what the log holds for this system is handled: nothing unread, no
   * message queued or being handled by an actor (the embedded log's readers take a turn
   * of the event loop to start on what was just produced; `io/turns.ts`).
   */
  async whenIdle(): Promise<void> {
    for (;;) {
      await this.runtime.whenIdle();
      if (unread(this.#consumer?.lag() ?? {}) === 0) return await this.runtime.whenIdle();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Ready: consuming, not stopping, and the store answers. */
  async ready(): Promise<{ ready: boolean; reasons: string[] }> {
    const reasons: string[] = [];
    if (this.#connectError) {
      reasons.push(
        `cannot reach Kafka (${this.#connectAttempts} attempts, retrying): ${this.#connectError}`,
      );
    }
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

  /**
   * Judges raw event texts and takes in the ones it can: each item's verdict is in the
   * answer (`engine/ingest_verdicts.ts`). Accepted and forwarded events go to their
   * topics, their lanes held at their time until the intake takes them; invalid,
   * oversized, late and future ones are dead-lettered. Throws `Unavailable` (nothing
   * taken in) when the holds would not fit.
   */
  async ingest(items: string[]): Promise<IngestResult> {
    const c = this.config;
    const now = this.#clock.now();
    const assigned = this.#assigned;
    // Judged and held with no await between: no event moves a watermark meanwhile.
    const judged = judgeItems(items, {
      view: {
        partitionFor: (key) => this.runtime.partitionFor(key),
        owns: (p) => !this.log.shared || (assigned?.includes(p) ?? false),
        watermark: (p, type) => this.runtime.watermark(p, type),
      },
      now_ms: now,
      max_future_ms: c.runtime.max_future_ms,
      max_event_bytes: c.max_event_bytes,
      limits: c.input,
      rekey: true,
    });
    const holds = judged.reduce((n, j) => n + (j.holds?.length ?? 0), 0);
    if (!this.#holds.hasRoom(holds)) {
      const retry_s = Math.max(1, Math.ceil((this.#holds.nextExpiry() - now) / 1000));
      throw new Unavailable(
        `Cannot take in ${items.length} events now: ${this.#holds.size} accepted events are ` +
          `still waiting for the intake (at most ${c.api.max_watermark_holds} watermark holds, ` +
          `VIGIL_API_MAX_WATERMARK_HOLDS); retry in ${retry_s} s`,
        retry_s,
      );
    }
    const result: IngestResult = {
      accepted: 0,
      rejected: 0,
      errors: [],
      forwarded: 0,
      items: judged.map((j) => itemVerdict(j, c.api.max_item_reason_chars)),
    };
    const byTopic = new Map<string, ProduceMessage[]>();
    const held: { type: string; id: string }[] = [];
    for (const j of judged) {
      const source = `http[${j.index}]`;
      if (j.holds === undefined || j.event === undefined || j.value === undefined) {
        result.rejected++;
        const reason = j.reason ?? "";
        if (result.errors.length < MAX_REPORTED_ERRORS) {
          result.errors.push({ index: j.index, reason });
        }
        if (j.verdict === "late" || j.verdict === "future") {
          this.intake.refuseUntimely(j.event!, source, j.verdict, reason);
        } else {
          const why = j.verdict === "oversized" ? "oversized" : "invalid";
          this.intake.reject({ value: j.text, source }, why, reason, undefined);
        }
        continue;
      }
      result.accepted++;
      if (j.verdict === "forwarded") result.forwarded++;
      for (const lane of j.holds) {
        this.runtime.hold(lane.partition, lane.type, j.event.event_id, j.event.ts);
        held.push({ type: lane.type, id: j.event.event_id });
      }
      const topic = this.topics.of(j.event.kind);
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, list = []);
      list.push(this.#placed(messageKey(j.event), j.value));
    }
    try {
      for (const [topic, messages] of byTopic) await this.log.produce(topic, messages);
    } catch (err) {
      // Not taken in after all: nothing to wait for.
      for (const h of held) this.runtime.releaseHold(h.type, h.id);
      throw err;
    }
    await this.outbox.flush();
    return result;
  }

  /** Stops intake, drains mailboxes, flushes, passivates. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#wake?.();
    // The server waits for open streams before it stops: they end first.
    this.stream.close();
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#history?.();
    await this.#rollups?.stop();
    await this.#consumer?.stop();
    this.#reportMisplaced();
    await this.runtime.whenIdle();
    this.runtime.cancelTimers();
    await this.outbox.flush();
    await this.notifier.stop();
    this.runtime.passivateAll();
    await this.models.close();
    await this.log.close();
    await this.store.close();
  }

  /** Logs what the misplaced records since the last report look like; the lines logged. */
  #reportMisplaced(): number {
    const lines = this.intake.misplacementReport();
    for (const r of lines) log("warn", r.message, r.fields);
    return lines.length;
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
    const now = this.#clock.now();
    // The backfill is history: its alerts' latency is its age, not the pipeline's; and so
    // is that of the events made while it plays, which wait behind it. Latency is observed
    // from when it has been read (`#backfilled`).
    let backfilling = s.backfill_s > 0;
    if (backfilling) this.metrics.latencyFrom(Infinity); // none observed while it plays
    const started = performance.now();
    const sim = this.#simulator = new Simulator({
      seed: s.seed,
      users: s.users,
      start_ms: now - s.backfill_s * 1000,
      events_per_second: s.events_per_second,
      attack_interval_s: s.attack_interval_s,
      ...this.#simulatedFlows(),
      ...(s.clicks_per_second > 0 ? { ops: { clicks_per_second: s.clicks_per_second } } : {}),
      ...(s.payment_outage_after_s > 0 && s.payment_outage_s > 0
        ? {
          payment_outages: {
            first_ms: now + s.payment_outage_after_s * 1000,
            every_ms: s.payment_outage_every_s * 1000,
            length_ms: s.payment_outage_s * 1000,
          },
        }
        : {}),
    });
    this.#countHistory(now);
    this.#every(SIM_TICK_MS, async () => {
      // A backfill is produced a turn's budget at a time (`io/turns.ts`), shared with the
      // embedded log's readers, and only while they keep up: the API answers, and the log
      // holds no more than SIM_MAX_UNREAD records not yet read.
      for (;;) {
        if (this.#stopping || unread(this.#consumer?.lag() ?? {}) >= SIM_MAX_UNREAD) return;
        await this.#turns.wait();
        const byTopic = new Map<string, ProduceMessage[]>();
        let n = 0;
        let behind = false;
        for (const e of sim.until(this.#clock.now())) {
          const topic = this.topics.of(e.kind as VigilEvent["kind"]);
          let list = byTopic.get(topic);
          if (!list) byTopic.set(topic, list = []);
          list.push(this.#placed(String(e[KEY_FIELD[e.kind as EventKind]]), JSON.stringify(e)));
          if (++n % 64 === 0 && this.#turns.spent()) {
            behind = true; // the rest in a later turn
            break;
          }
        }
        for (const [topic, messages] of byTopic) await this.log.produce(topic, messages);
        if (!behind) {
          if (backfilling && unread(this.#consumer?.lag() ?? {}) < SIM_LIVE_UNREAD) {
            backfilling = false;
            this.metrics.latencyFrom(this.#clock.now());
            log("info", "Simulated backfill played", {
              backfill_s: s.backfill_s,
              took_s: Math.round((performance.now() - started) / 1000),
            });
          }
          return;
        }
      }
    });
  }

  /**
   * Counts the simulated history before the backfill (`simulator.history_days`) in the
   * embedded store's roll-ups, on a thread of its own (`sim/history_worker.ts`), and rolls
   * up its range once it is counted.
   */
  #countHistory(now: number): void {
    const s = this.config.simulator;
    const store = this.store;
    if (s.history_days <= 0 || !(store instanceof MemoryStore)) return;
    const from = periodStart(now, "day") - s.history_days * DAY_MS;
    const to = now - s.backfill_s * 1000;
    if (to <= from) return;
    const worker = new Worker(new URL("../sim/history_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const ended = () => {
      worker.terminate();
      this.#history = null;
    };
    this.#history = ended;
    worker.onmessage = async (e: MessageEvent<HistoryResult>) => {
      ended();
      if (this.#stopping) return;
      const m = e.data;
      if (m.t === "error") {
        log("error", "The simulated history failed", { error: m.message });
        return;
      }
      store.countRows(m.rows);
      const run = await rollupRange(store, from, this.#clock.now(), "simulated history");
      log("info", "Simulated history counted in the roll-ups", {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        events: m.events,
        rows: run.rows,
      });
    };
    worker.onerror = (e) => {
      e.preventDefault();
      ended();
      log("error", "The simulated history failed", { error: e.message });
    };
    const request: HistoryRequest = {
      options: {
        seed: s.seed,
        users: s.users,
        start_ms: from,
        events_per_second: s.events_per_second,
        attack_interval_s: s.attack_interval_s,
        ...this.#simulatedFlows(),
        ...(s.clicks_per_second > 0 ? { ops: { clicks_per_second: s.clicks_per_second } } : {}),
      },
      to_ms: to,
    };
    worker.postMessage(request);
  }

  /** The simulator's flows: from the flow model's class prototypes, when one is loaded. */
  #simulatedFlows(): { flows?: FlowOptions } {
    const per_second = this.config.simulator.flows_per_second;
    const flows = per_second > 0 ? flowsOf(this.models.manifest(FLOW_MODEL), per_second) : null;
    return flows ? { flows } : {};
  }

  /** Reads the store's suppressions (those other processes made or ended too). */
  async #readSuppressions(): Promise<void> {
    this.suppressions.replace(
      await this.store.findSuppressions(this.config.alerts.max_suppressions),
    );
  }

  /** Keeps a suppression made or ended here, and judges with it at once. */
  async suppress(s: Suppression): Promise<void> {
    await this.store.saveSuppression(s);
    this.suppressions.put(s);
    log("info", "Suppression saved", {
      id: s.id,
      rule: s.rule,
      entity_type: s.entity_type,
      cidr: s.cidr !== null,
      expires_at: s.expires_at,
      author: s.author,
    });
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

/** Records not yet read, over every topic partition of a consumer's lag. */
function unread(lag: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(lag)) n += v;
  return n;
}

/** This process, for a lease and a job run: host (when it may be read), pid and a nonce. */
function processName(): string {
  let host = "host";
  try {
    host = Deno.hostname();
  } catch {
    // No --allow-sys: the pid and nonce still tell processes apart.
  }
  return `${host}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
}
