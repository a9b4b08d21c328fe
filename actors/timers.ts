/**
 * Event-time timers of one partition: a binary min-heap ordered by due time, with
 * replacement by name (a newer timer of the same name makes the older one stale).
 *
 * @module
 */

/** A due timer. */
export interface DueTimer {
  type: string;
  key: string;
  name: string;
  message: unknown;
}

/** A pending timer with its due time (for checkpoints). */
export interface PendingTimer extends DueTimer {
  at: number;
}

interface Entry extends DueTimer {
  at: number;
  seq: number;
}

/** Timers ordered by due time; ties fire in the order they were set. */
export class TimerQueue {
  #heap: Entry[] = [];
  #current = new Map<string, number>();
  #seq = 0;

  /** Sets (or replaces) the timer `name` of actor `type:key`. */
  set(type: string, key: string, name: string, at: number, message: unknown): void {
    const seq = ++this.#seq;
    this.#current.set(`${type}:${key}#${name}`, seq);
    this.#push({ type, key, name, message, at, seq });
  }

  /** Live timers. */
  get size(): number {
    return this.#current.size;
  }

  /**
   * Every live timer, in the order they would fire (due time, then the order they were
   * set): setting them in this order on a new queue gives one that fires identically.
   */
  pending(): PendingTimer[] {
    return this.#heap
      .filter((e) => this.#current.get(`${e.type}:${e.key}#${e.name}`) === e.seq)
      .sort((a, b) => (before(a, b) ? -1 : 1))
      .map(({ type, key, name, message, at }) => ({ type, key, name, message, at }));
  }

  /** Removes and returns every live timer due at or before `t`, in due order. */
  popDue(t: number): DueTimer[] {
    const due: DueTimer[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.at <= t) {
      const e = this.#pop();
      const id = `${e.type}:${e.key}#${e.name}`;
      if (this.#current.get(id) !== e.seq) continue;
      this.#current.delete(id);
      due.push(e);
    }
    return due;
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
