/**
 * The deterministic simulation harness: the actor runtime on a virtual clock, driven
 * by a seeded random source, with faults injected at named sites (actor crashes,
 * failed and slow inference, slow and failing snapshot loads, full mailboxes,
 * passivation storms) and the invariants checked after every step:
 *
 * - per-key order: each actor sees its messages in the order they were sent;
 * - no lost event: every message sent is handled exactly once or dead-lettered;
 * - no duplicated alert: every alert id is raised once;
 * - bounded mailboxes: no mailbox holds more than its capacity (+1 model reply);
 * - one live instance per key: activations and passivations of a key alternate.
 *
 * A failure names the seed that replays it.
 *
 * @module
 */

import { VirtualClock } from "../../actors/clock.ts";
import { seededRandom } from "../../actors/random.ts";
import { ActorRuntime } from "../../actors/runtime.ts";
import type { Behaviour, Effect } from "../../actors/types.ts";
import type { SnapshotStore } from "../../actors/ports.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import type { Alert, DeadLetter } from "../../events/types.ts";

/** What the harness may inject, each with its probability per opportunity. */
export interface Faults {
  /** A turn throws (transient: it fails 1–2 times, then succeeds). */
  crash: number;
  /** A message is poison: it fails on every attempt. */
  poison: number;
  /** A turn asks for inference that takes virtual time. */
  slow: number;
  /** Inference fails once. */
  infer_error: number;
  /** A snapshot load takes virtual time. */
  slow_load: number;
  /** A snapshot load fails (it is retried). */
  load_error: number;
  /** Per step: passivate every idle actor. */
  passivation_storm: number;
}

/** A harness run's settings. */
export interface SimulationSettings {
  seed: number;
  steps: number;
  keys: number;
  producers: number;
  mailbox_capacity: number;
  max_resident_actors: number;
  faults: Faults;
}

interface Msg {
  key: string;
  seq: number;
  /** The harness's decision for this message, drawn when sent. */
  fail_times: number;
  slow_ms: number;
  infer_fail: boolean;
}

interface CounterState {
  last_seq: number;
  handled: number;
  violations: string[];
}

/** The facts a run ends with. */
export interface SimulationReport {
  seed: number;
  sent: number;
  handled: number;
  dead_lettered: number;
  alerts: number;
  max_mailbox_depth: number;
  activations: number;
  passivations: number;
}

/** An invariant broken, with the seed that replays it. */
export class InvariantError extends Error {}

/** Runs one seeded simulation; throws {@linkcode InvariantError} naming the seed on any violation. */
export async function simulate(s: SimulationSettings): Promise<SimulationReport> {
  const r = seededRandom(s.seed);
  const clock = new VirtualClock(1_000_000);
  const failures = new Map<string, number>();
  const handledSeqs = new Map<string, Set<number>>();
  const alerts = new Map<string, Alert>();
  const dead: DeadLetter[] = [];
  const live = new Set<string>();
  let activations = 0, passivations = 0, maxDepth = 0;
  const fail = (msg: string) => {
    throw new InvariantError(`seed ${s.seed}: ${msg} (replay with --seed=${s.seed})`);
  };

  const counter: Behaviour<CounterState, Msg | { kind: "scored"; m: Msg }> = {
    type: "counter",
    initial: () => ({ last_seq: -1, handled: 0, violations: [] }),
    receive(state, message, ctx) {
      if ("kind" in message) return { state, effects: [] };
      const m = message;
      const id = `${m.key}#${m.seq}`;
      const left = failures.get(id) ?? m.fail_times;
      if (left > 0) {
        failures.set(id, left - 1);
        throw new Error(`injected crash of ${id}`);
      }
      const violations = m.seq <= state.last_seq
        ? [...state.violations, `seq ${m.seq} after ${state.last_seq}`]
        : state.violations;
      let seqs = handledSeqs.get(m.key);
      if (!seqs) handledSeqs.set(m.key, seqs = new Set());
      const effects: Effect[] = [];
      if (m.slow_ms > 0) {
        effects.push({
          kind: "infer",
          model: m.infer_fail ? "fail-once:" + id : "slow",
          features: new Float32Array([m.slow_ms]),
          reply: () => ({ kind: "scored", m }),
        });
      }
      if (m.seq % 7 === 3) {
        effects.push({
          kind: "alert",
          alert: {
            rule: "test.every_seventh",
            severity: "low",
            entity: { type: "counter", key: ctx.self.key },
            ts: clock.now(),
            evidence: { seq: m.seq },
            event_ids: [id],
            dedup: String(m.seq),
          },
        });
      }
      return { state: { last_seq: m.seq, handled: state.handled + 1, violations }, effects };
    },
  };

  // The seq is recorded as handled only once its turn commits (after inference, if any).
  const recordingCounter: typeof counter = {
    ...counter,
    receive(state, message, ctx) {
      const step = counter.receive(state, message, ctx);
      if (!("kind" in message) && !step.effects.some((e) => e.kind === "infer")) {
        handledSeqs.get(message.key)!.add(message.seq);
      } else if ("kind" in message) {
        handledSeqs.get(message.m.key)!.add(message.m.seq);
      }
      return step;
    },
  };

  const saved = new Map<string, unknown>();
  const retrying = new Set<string>();
  const snapshots: SnapshotStore = {
    load(id) {
      if (retrying.has(id)) retrying.delete(id); // the same instance trying again
      else {
        if (live.has(id)) fail(`${id} activated while already live`);
        live.add(id);
        activations++;
      }
      const roll = r();
      if (roll < s.faults.load_error) {
        retrying.add(id);
        return Promise.reject(new Error("injected snapshot load failure"));
      }
      if (roll < s.faults.load_error + s.faults.slow_load) {
        const value = saved.get(id);
        return new Promise((resolve) => clock.setTimeout(() => resolve(value), 1 + r() * 50));
      }
      return saved.get(id);
    },
    save(id, state) {
      if (!live.has(id)) fail(`${id} passivated while not live`);
      live.delete(id);
      passivations++;
      saved.set(id, state);
    },
    delete(id) {
      saved.delete(id);
    },
  };

  const config = structuredClone(defaults) as Config;
  config.runtime.mailbox_capacity = s.mailbox_capacity;
  config.runtime.max_resident_actors = s.max_resident_actors;
  config.runtime.idle_timeout_ms = 200;
  config.supervision.max_message_retries = 3;
  config.supervision.max_restarts_per_key = 1_000_000; // quarantine is tested on its own
  config.supervision.max_failures_per_partition = 1_000_000;
  const failedOnce = new Set<string>();
  const runtime = new ActorRuntime({
    behaviours: [recordingCounter],
    runtime: config.runtime,
    supervision: config.supervision,
    alerts: config.alerts,
    clock,
    random: r,
    snapshots,
    alertSink: {
      publish(a) {
        if (alerts.has(a.alert_id)) fail(`alert ${a.alert_id} raised twice`);
        alerts.set(a.alert_id, a);
      },
    },
    deadLetters: { deadLetter: (d) => dead.push(d) },
    inference: {
      infer(model, features) {
        if (model.startsWith("fail-once:") && !failedOnce.has(model)) {
          failedOnce.add(model);
          return Promise.reject(new Error("injected inference failure"));
        }
        return new Promise((resolve) => clock.setTimeout(() => resolve(features), features[0]!));
      },
    },
  });

  // Producers stand for partitions: each owns its keys, so per-key order is defined.
  const keysOf: string[][] = Array.from({ length: s.producers }, () => []);
  for (let k = 0; k < s.keys; k++) keysOf[k % s.producers]!.push(`k${k}`);
  const nextSeq = new Map<string, number>();
  const blocked = new Array<boolean>(s.producers).fill(false);
  const sentByKey = new Map<string, number>();
  let sent = 0;

  const settle = async () => {
    for (let i = 0; i < 8; i++) await Promise.resolve();
  };
  const check = () => {
    const st = runtime.stats();
    maxDepth = Math.max(maxDepth, st.max_mailbox_depth);
    if (st.max_mailbox_depth > s.mailbox_capacity + 1) {
      fail(`a mailbox holds ${st.max_mailbox_depth} > capacity ${s.mailbox_capacity} + 1`);
    }
    if (live.size !== Object.values(st.resident).reduce((a, b) => a + b, 0)) {
      fail(`${live.size} live instances but ${JSON.stringify(st.resident)} resident`);
    }
  };

  for (let step = 0; step < s.steps; step++) {
    const action = r();
    if (action < 0.6) {
      const p = Math.floor(r() * s.producers);
      if (!blocked[p] && keysOf[p]!.length > 0) {
        // A burst to one key, as a partition often holds several events of one entity.
        const key = keysOf[p]![Math.floor(r() * keysOf[p]!.length)]!;
        const burst = 1 + Math.floor(r() * 6);
        blocked[p] = true;
        void (async () => {
          for (let b = 0; b < burst; b++) {
            const seq = nextSeq.get(key) ?? 0;
            nextSeq.set(key, seq + 1);
            const poison = r() < s.faults.poison;
            const m: Msg = {
              key,
              seq,
              fail_times: poison ? 1_000 : r() < s.faults.crash ? 1 + Math.floor(r() * 2) : 0,
              slow_ms: r() < s.faults.slow ? 1 + Math.floor(r() * 40) : 0,
              infer_fail: r() < s.faults.infer_error,
            };
            sent++;
            sentByKey.set(key, (sentByKey.get(key) ?? 0) + 1);
            const waiting = runtime.deliver({ type: "counter", key }, m);
            if (waiting) await waiting;
          }
          blocked[p] = false;
        })();
      }
    } else if (action < 0.9) {
      clock.advance(1 + Math.floor(r() * 30));
    } else if (action < 0.9 + s.faults.passivation_storm) {
      runtime.passivateAll();
    } else {
      runtime.sweep();
    }
    await settle();
    check();
  }

  // Drain: let virtual time run until everything is handled.
  for (let i = 0; i < 100_000 && (runtime.stats().inflight > 0 || blocked.some((b) => b)); i++) {
    clock.advance(10);
    await settle();
    check();
  }
  if (runtime.stats().inflight > 0) fail(`${runtime.stats().inflight} messages never finished`);

  // No lost event: every sent message handled once or dead-lettered, never both.
  const deadSeqs = new Map<string, Set<number>>();
  for (const d of dead) {
    const m = JSON.parse(d.raw) as Msg;
    let set = deadSeqs.get(m.key);
    if (!set) deadSeqs.set(m.key, set = new Set());
    if (set.has(m.seq)) fail(`${m.key}#${m.seq} dead-lettered twice`);
    set.add(m.seq);
  }
  let handled = 0;
  for (const [key, n] of sentByKey) {
    const h = handledSeqs.get(key) ?? new Set<number>();
    const d = deadSeqs.get(key) ?? new Set<number>();
    handled += h.size;
    for (let seq = 0; seq < n; seq++) {
      if (h.has(seq) === d.has(seq)) {
        fail(`${key}#${seq} was ${h.has(seq) ? "both handled and dead-lettered" : "lost"}`);
      }
    }
    const state = (runtime.isResident("counter", key)
      ? await runtime.stateOf("counter", key)
      : saved.get(`counter:${key}`)) as CounterState;
    if (state.violations.length > 0) {
      fail(`${key} order: ${state.violations.join("; ")}`);
    }
    if (state.handled !== h.size) {
      fail(`${key} state counted ${state.handled}, handled ${h.size}`);
    }
  }
  return {
    seed: s.seed,
    sent,
    handled,
    dead_lettered: dead.length,
    alerts: alerts.size,
    max_mailbox_depth: maxDepth,
    activations,
    passivations,
  };
}
