/**
 * The root supervisor: partition supervisors escalate to it. It restarts a failing
 * partition (its actors are passivated and come back from their last good state); past
 * its own intensity it holds: no partition is restarted until the escalations fall back
 * within it.
 *
 * It never stops the system. A turn fails on its message (a behaviour is a pure function
 * of its state and the message), so neither a restart nor a new process cures it: a
 * process that stopped would be handed the same uncommitted records again by Kafka, and
 * stop again. The failing messages are dead-lettered and their keys quarantined by the
 * partition supervisors while everything else goes on.
 *
 * @module
 */

import { exceedsIntensity } from "./strategy.ts";

/** Limits of the root supervisor. */
export interface RootLimits {
  /** Partition restarts allowed within `window_ms`; past them, the root holds. */
  max_partition_restarts: number;
  window_ms: number;
}

/** What the root does about an escalation. */
export type RootDirective = { action: "restart_partition"; partition: number } | {
  /** Too many escalations lately: the partition is not restarted. */
  action: "hold";
  partition: number;
  reason: string;
};

/** The top of the supervision tree. */
export class RootSupervisor {
  #escalations: number[] = [];
  #limits: RootLimits;
  /** Partition restarts so far. */
  restarts = 0;

  constructor(limits: RootLimits) {
    this.#limits = limits;
  }

  /** Decides what to do when partition `partition` escalates at `now_ms`. */
  onEscalation(partition: number, now_ms: number): RootDirective {
    this.#escalations.push(now_ms);
    if (this.#escalations.length > this.#limits.max_partition_restarts + 1) {
      this.#escalations.shift();
    }
    if (
      exceedsIntensity(
        this.#escalations,
        now_ms,
        this.#limits.max_partition_restarts,
        this.#limits.window_ms,
      )
    ) {
      return {
        action: "hold",
        partition,
        reason: `Partitions escalated more than ${this.#limits.max_partition_restarts} times ` +
          `within ${this.#limits.window_ms} ms: no partition is restarted until they escalate ` +
          "less often (failing messages are still dead-lettered and their keys quarantined)",
      };
    }
    this.restarts++;
    return { action: "restart_partition", partition };
  }
}
