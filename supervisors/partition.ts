/**
 * A partition supervisor: it watches the entity actors of one partition, counts their
 * failures against its intensity, quarantines keys that keep failing, and escalates
 * to the root when the partition as a whole fails too often.
 *
 * A message counts once, at its first failure: its retries are the same failure again,
 * and a key that keeps failing is quarantined after a few messages. So a flood of one
 * poisonous key is a handful of failures of its partition, not one per retry.
 *
 * @module
 */

import { decide, type Directive, exceedsIntensity, type Strategy } from "./strategy.ts";

/** Limits of one partition supervisor. */
export interface PartitionLimits {
  max_failures: number;
  window_ms: number;
  quarantine_ms: number;
}

/** The supervisor of one partition's actors. */
export class PartitionSupervisor {
  readonly partition: number;
  #failures: number[] = [];
  #quarantine = new Map<string, number>();
  #limits: PartitionLimits;

  constructor(partition: number, limits: PartitionLimits) {
    this.partition = partition;
    this.#limits = limits;
  }

  /**
   * Records a failure of an actor's turn (`attempt` 1 for a message's first failure, 2
   * for its first retry's, …) and decides what happens to it. Returns the directive and
   * whether the partition's intensity is now exceeded (escalate): only a message's first
   * failure counts towards it.
   */
  onFailure(
    strategy: Strategy,
    attempt: number,
    restarts_ms: readonly number[],
    now_ms: number,
    random: () => number,
  ): { directive: Directive; escalate: boolean } {
    const directive = decide(strategy, { attempt, restarts_ms, now_ms }, random);
    if (attempt > 1) return { directive, escalate: false };
    this.#failures.push(now_ms);
    if (this.#failures.length > this.#limits.max_failures + 1) this.#failures.shift();
    const escalate = exceedsIntensity(
      this.#failures,
      now_ms,
      this.#limits.max_failures,
      this.#limits.window_ms,
    );
    return { directive, escalate };
  }

  /** Quarantines actor `id` from `now_ms` on. */
  quarantine(id: string, now_ms: number): void {
    this.#quarantine.set(id, now_ms + this.#limits.quarantine_ms);
  }

  /** Whether actor `id` is quarantined at `now_ms` (an expired quarantine is lifted). */
  isQuarantined(id: string, now_ms: number): boolean {
    if (this.#quarantine.size === 0) return false;
    const until = this.#quarantine.get(id);
    if (until === undefined) return false;
    if (now_ms < until) return true;
    this.#quarantine.delete(id);
    return false;
  }

  /** Keys quarantined now. */
  quarantined(now_ms: number): string[] {
    return [...this.#quarantine.entries()].filter(([, until]) => now_ms < until).map(([id]) => id);
  }

  /** Forgets the failure history (after the root restarted this partition, or held it). */
  reset(): void {
    this.#failures = [];
  }
}
