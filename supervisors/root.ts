/**
 * The root supervisor: partition supervisors escalate to it. It restarts a failing
 * partition (its actors are passivated and come back from their last good state), and
 * gives up, stopping the system, when partitions escalate past its own intensity.
 *
 * @module
 */

import { exceedsIntensity } from "./strategy.ts";

/** Limits of the root supervisor. */
export interface RootLimits {
  /** Partition restarts allowed within `window_ms` before the system stops. */
  max_partition_restarts: number;
  window_ms: number;
}

/** What the root does about an escalation. */
export type RootDirective = { action: "restart_partition"; partition: number } | {
  action: "stop_system";
  reason: string;
};

/** The top of the supervision tree. */
export class RootSupervisor {
  #restarts: number[] = [];
  #limits: RootLimits;
  /** Partition restarts so far. */
  restarts = 0;

  constructor(limits: RootLimits) {
    this.#limits = limits;
  }

  /** Decides what to do when partition `partition` escalates at `now_ms`. */
  onEscalation(partition: number, now_ms: number): RootDirective {
    this.#restarts.push(now_ms);
    if (this.#restarts.length > this.#limits.max_partition_restarts + 1) this.#restarts.shift();
    if (
      exceedsIntensity(
        this.#restarts,
        now_ms,
        this.#limits.max_partition_restarts,
        this.#limits.window_ms,
      )
    ) {
      return {
        action: "stop_system",
        reason: `Partitions escalated more than ${this.#limits.max_partition_restarts} times ` +
          `within ${this.#limits.window_ms} ms`,
      };
    }
    this.restarts++;
    return { action: "restart_partition", partition };
  }
}
