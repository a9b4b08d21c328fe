/**
 * A binary min-heap of things due at a time, ties in the order they were added: the
 * event-time timers of a partition, the simulator's pending events.
 *
 * @module
 */

/** Something due at `at`; `seq` orders ties (lower first). */
export interface Timed {
  at: number;
  seq: number;
}

/** Whether `a` comes before `b`. */
export function before(a: Timed, b: Timed): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Entries ordered by (`at`, `seq`). */
export class TimeHeap<T extends Timed> {
  #h: T[] = [];

  get size(): number {
    return this.#h.length;
  }

  /** The first entry, without removing it. */
  peek(): T | undefined {
    return this.#h[0];
  }

  /** Every entry, in no particular order. */
  values(): readonly T[] {
    return this.#h;
  }

  /** Keeps only the entries `keep` says (in O(n): the heap is rebuilt bottom up). */
  retain(keep: (e: T) => boolean): void {
    const h = this.#h = this.#h.filter(keep);
    for (let i = (h.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  push(e: T): void {
    const h = this.#h;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const e = h[i]!, up = h[parent]!;
      if (!before(e, up)) break;
      h[i] = up;
      h[parent] = e;
      i = parent;
    }
  }

  /** Removes and returns the first entry. */
  pop(): T | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  #siftDown(from: number): void {
    const h = this.#h;
    let i = from;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      const e = h[i]!;
      h[i] = h[m]!;
      h[m] = e;
      i = m;
    }
  }
}
