/**
 * The cluster supervisor: it runs N worker processes (`main.ts worker`), each a member
 * of the same consumer group, restarts a crashed one with backoff, gives up past its
 * intensity (too many restarts of one slot in a window), scales up and down on request,
 * and keeps a Prometheus file-based service-discovery target list.
 *
 * The restart decision is the same pure `decide()` as for actors.
 *
 * @module
 */

import type { ClusterSettings } from "../config/defaults.ts";
import { decide, type Strategy } from "./strategy.ts";

/** How a worker process is started (injected, so tests can watch). */
export type Spawn = (slot: number, port: number) => Deno.ChildProcess;

/** What the cluster knows of one worker slot. */
export interface WorkerInfo {
  slot: number;
  port: number;
  pid: number | null;
  status: "running" | "restarting" | "stopping" | "failed";
  restarts: number;
  started_at: string | null;
  metrics: string;
}

interface Slot {
  slot: number;
  port: number;
  child: Deno.ChildProcess | null;
  status: WorkerInfo["status"];
  restarts_ms: number[];
  /** Crashes in a row (reset once a worker has run a whole restart window). */
  attempt: number;
  restarts: number;
  started_at: number | null;
  timer: ReturnType<typeof setTimeout> | null;
}

/** A set of supervised worker processes. */
export class Cluster {
  #s: ClusterSettings;
  #spawn: Spawn;
  #host: string;
  #slots: Slot[] = [];
  #stopping = false;
  #onFatal: (reason: string) => void;
  #log: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

  constructor(options: {
    settings: ClusterSettings;
    spawn: Spawn;
    host: string;
    onFatal: (reason: string) => void;
    log: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
  }) {
    this.#s = options.settings;
    this.#spawn = options.spawn;
    this.#host = options.host;
    this.#onFatal = options.onFatal;
    this.#log = options.log;
  }

  /** Workers wanted now. */
  get size(): number {
    return this.#slots.length;
  }

  /** Starts or stops workers until `n` run. */
  async scale(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1 || n > this.#s.max_workers) {
      throw new RangeError(
        `Cannot scale to ${n} workers: choose a whole number from 1 to ${this.#s.max_workers}`,
      );
    }
    while (this.#slots.length < n) {
      const slot = this.#slots.length;
      const s: Slot = {
        slot,
        port: this.#s.worker_base_port + slot,
        child: null,
        status: "running",
        restarts_ms: [],
        attempt: 0,
        restarts: 0,
        started_at: null,
        timer: null,
      };
      this.#slots.push(s);
      this.#launch(s);
    }
    const extra = this.#slots.splice(n);
    await Promise.all(extra.map((s) => this.#retire(s)));
    await this.#writeTargets();
    this.#log("info", "Cluster scaled", { workers: n });
  }

  /** Every slot, for the API. */
  list(): WorkerInfo[] {
    return this.#slots.map((s) => ({
      slot: s.slot,
      port: s.port,
      pid: s.child?.pid ?? null,
      status: s.status,
      restarts: s.restarts,
      started_at: s.started_at === null ? null : new Date(s.started_at).toISOString(),
      metrics: `http://${this.#host}:${s.port}/metrics`,
    }));
  }

  /** Stops every worker (SIGTERM, and waits). */
  async stop(): Promise<void> {
    this.#stopping = true;
    const all = this.#slots.splice(0);
    await Promise.all(all.map((s) => this.#retire(s)));
    await this.#writeTargets();
  }

  #launch(s: Slot): void {
    const child = this.#spawn(s.slot, s.port);
    s.child = child;
    s.status = "running";
    s.started_at = Date.now();
    child.status.then((status) => this.#exited(s, child, status.code));
  }

  #exited(s: Slot, child: Deno.ChildProcess, code: number): void {
    if (s.child !== child) return;
    s.child = null;
    if (this.#stopping || s.status === "stopping" || !this.#slots.includes(s)) return;
    const now = Date.now();
    if (s.started_at !== null && now - s.started_at > this.#s.restart_window_ms) s.attempt = 0;
    s.attempt++;
    const strategy: Strategy = {
      kind: "backoff",
      max_retries: Number.MAX_SAFE_INTEGER,
      max_restarts: this.#s.max_restarts,
      within_ms: this.#s.restart_window_ms,
      min_ms: this.#s.restart_backoff_min_ms,
      max_ms: this.#s.restart_backoff_max_ms,
      jitter: 0.2,
    };
    const d = decide(
      strategy,
      { attempt: s.attempt, restarts_ms: s.restarts_ms, now_ms: now },
      Math.random,
    );
    s.restarts_ms.push(now);
    if (s.restarts_ms.length > this.#s.max_restarts + 1) s.restarts_ms.shift();
    if (d.action !== "retry") {
      s.status = "failed";
      const reason = `Worker ${s.slot} exited ${this.#s.max_restarts + 1} times within ` +
        `${this.#s.restart_window_ms} ms (last exit code ${code}); giving up`;
      this.#log("error", reason);
      this.#onFatal(reason);
      return;
    }
    s.status = "restarting";
    this.#log("warn", "Worker exited; restarting", { slot: s.slot, code, delay_ms: d.delay_ms });
    s.timer = setTimeout(() => {
      s.timer = null;
      if (s.status === "restarting" && this.#slots.includes(s) && !this.#stopping) {
        s.restarts++;
        this.#launch(s);
      }
    }, d.delay_ms);
  }

  async #retire(s: Slot): Promise<void> {
    s.status = "stopping";
    if (s.timer) clearTimeout(s.timer);
    const child = s.child;
    if (!child) return;
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 30_000);
    await child.status;
    clearTimeout(timer);
  }

  async #writeTargets(): Promise<void> {
    if (this.#s.sd_file === "") return;
    const targets = [{
      targets: this.#slots.map((s) => `${this.#host}:${s.port}`),
      labels: { job: "vigil", role: "worker" },
    }];
    const tmp = `${this.#s.sd_file}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(targets, null, 2) + "\n");
    await Deno.rename(tmp, this.#s.sd_file);
  }
}
