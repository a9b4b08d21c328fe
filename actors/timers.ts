/**
 * Event-time timers of one partition: a binary min-heap ordered by due time, with
 * replacement by name (a newer timer of the same name makes the older one stale).
 *
 * @module
 */

import { before, TimeHeap } from "./heap.ts";

/** A due timer. */
export interface DueTimer {
  type: string;
  key: string;
  name: string;
  message: unknown;
  /** Delivered with the watermark it fired at (see the `timer` effect). */
  stamp?: true;
}

/** A pending timer with its due time (for checkpoints). */
export interface PendingTimer extends DueTimer {
  at: number;
}

interface Entry extends DueTimer {
  at: number;
  seq: number;
  /** `type:key#name`, made once. */
  id: string;
}

const NONE_DUE: readonly DueTimer[] = Object.freeze([]);

/** Stale entries a queue may hold beyond its live ones before it drops them. */
const STALE_SLACK = 1_024;

/** Timers ordered by due time; ties fire in the order they were set. */
export class TimerQueue {
  #heap = new TimeHeap<Entry>();
  #current = new Map<string, number>();
  #seq = 0;

  /** Sets (or replaces) the timer `name` of actor `type:key`. */
  set(type: string, key: string, name: string, at: number, message: unknown, stamp = false): void {
    const seq = ++this.#seq;
    const id = `${type}:${key}#${name}`;
    this.#current.set(id, seq);
    this.#heap.push(
      stamp
        ? { type, key, name, message, at, seq, id, stamp }
        : { type, key, name, message, at, seq, id },
    );
    // Replaced and cancelled timers stay in the heap until due; past twice the live ones
    // they are dropped (a second pass over a million users doubled the heap before).
    if (this.#heap.size > STALE_SLACK + 2 * this.#current.size) this.#dropStale();
  }

  #dropStale(): void {
    this.#heap.retain((e) => this.#current.get(e.id) === e.seq);
  }

  /** Drops the timer `name` of actor `type:key`, if any. */
  cancel(type: string, key: string, name: string): void {
    this.#current.delete(`${type}:${key}#${name}`);
    if (this.#heap.size > STALE_SLACK + 2 * this.#current.size) this.#dropStale();
  }

  /** Live timers. */
  get size(): number {
    return this.#current.size;
  }

  /** Entries held, live or stale: at most 1,024 more than twice the live ones. */
  get held(): number {
    return this.#heap.size;
  }

  /**
   * Every live timer, in the order they would fire (due time, then the order they were
   * set): setting them in this order on a new queue gives one that fires identically.
   */
  pending(): PendingTimer[] {
    return this.#heap.values()
      .filter((e) => this.#current.get(e.id) === e.seq)
      .sort((a, b) => (before(a, b) ? -1 : 1))
      .map(({ type, key, name, message, at, stamp }) =>
        stamp ? { type, key, name, message, at, stamp } : { type, key, name, message, at }
      );
  }

  /** Removes and returns every live timer due at or before `t`, in due order. */
  popDue(t: number): readonly DueTimer[] {
    if (this.#heap.size === 0 || this.#heap.peek()!.at > t) return NONE_DUE; // most calls
    const due: DueTimer[] = [];
    while (this.#heap.size > 0 && this.#heap.peek()!.at <= t) {
      const e = this.#heap.pop()!;
      if (this.#current.get(e.id) !== e.seq) continue;
      this.#current.delete(e.id);
      due.push(e);
    }
    return due;
  }
}
