/**
 * Event-time timers of one partition's lane: a binary min-heap ordered by due time (ties
 * in the order they were set), with replacement by name (a newer timer of the same name
 * makes the older one stale).
 *
 * A lane can hold a timer for every actor it ever saw, passivated ones too (a session's
 * idle timer outlives its actor's residency), so the heap is laid out as parallel arrays
 * (due time and order in typed arrays, the key and message by reference, the type and
 * name as one small interned number) rather than an object per timer, and the live timer
 * of each name is found by the actor's key in one Map per type and name, with no id
 * string made per timer: about 60 bytes a timer against about 150 as objects
 * (docs/passivation.md).
 *
 * @module
 */

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

const NONE_DUE: readonly DueTimer[] = Object.freeze([]);

/** Stale entries a queue may hold beyond its live ones before it drops them. */
const STALE_SLACK = 1_024;
/** Slots of a queue's arrays to begin with. */
const FIRST_SLOTS = 16;

/** One type and timer name of a queue, and the order of its live timer per key. */
interface Kind {
  type: string;
  name: string;
  /** key → `seq` of its live timer. */
  live: Map<string, number>;
}

/** Timers ordered by due time; ties fire in the order they were set. */
export class TimerQueue {
  // Slot i of the heap: due time, order, kind (index × 2, + 1 when stamped), key, message.
  #at = new Float64Array(FIRST_SLOTS);
  #seq = new Float64Array(FIRST_SLOTS);
  #kind = new Uint32Array(FIRST_SLOTS);
  #key: string[] = [];
  #message: unknown[] = [];
  #n = 0;
  #kinds: Kind[] = [];
  #kindOf = new Map<string, Map<string, number>>();
  #live = 0;
  #lastSeq = 0;

  /** Sets (or replaces) the timer `name` of actor `type:key`. */
  set(type: string, key: string, name: string, at: number, message: unknown, stamp = false): void {
    const k = this.#kindIndex(type, name);
    const seq = ++this.#lastSeq;
    const live = this.#kinds[k]!.live;
    const size = live.size;
    live.set(key, seq);
    this.#live += live.size - size;
    this.#push(at, seq, k * 2 + (stamp ? 1 : 0), key, message);
    // Replaced and cancelled timers stay in the heap until due; past twice the live ones
    // they are dropped (a second pass over a million users doubled the heap before).
    if (this.#n > STALE_SLACK + 2 * this.#live) this.#dropStale();
  }

  /** Drops the timer `name` of actor `type:key`, if any. */
  cancel(type: string, key: string, name: string): void {
    const k = this.#kindOf.get(type)?.get(name);
    if (k === undefined || !this.#kinds[k]!.live.delete(key)) return;
    this.#live--;
    if (this.#n > STALE_SLACK + 2 * this.#live) this.#dropStale();
  }

  /** Live timers. */
  get size(): number {
    return this.#live;
  }

  /** Entries held, live or stale: at most 1,024 more than twice the live ones. */
  get held(): number {
    return this.#n;
  }

  /**
   * Every live timer, in the order they would fire (due time, then the order they were
   * set): setting them in this order on a new queue gives one that fires identically.
   */
  pending(): PendingTimer[] {
    const slots: number[] = [];
    for (let i = 0; i < this.#n; i++) if (this.#isLive(i)) slots.push(i);
    slots.sort((a, b) => (this.#before(a, b) ? -1 : 1));
    return slots.map((i) => {
      const { type, name } = this.#kinds[this.#kind[i]! >>> 1]!;
      const key = this.#key[i]!, message = this.#message[i], at = this.#at[i]!;
      return this.#kind[i]! & 1
        ? { type, key, name, message, at, stamp: true }
        : { type, key, name, message, at };
    });
  }

  /** Removes and returns every live timer due at or before `t`, in due order. */
  popDue(t: number): readonly DueTimer[] {
    if (this.#n === 0 || this.#at[0]! > t) return NONE_DUE; // most calls
    const due: DueTimer[] = [];
    while (this.#n > 0 && this.#at[0]! <= t) {
      const kind = this.#kind[0]!, key = this.#key[0]!, message = this.#message[0];
      const live = this.#isLive(0);
      this.#removeTop();
      if (!live) continue;
      const { type, name, live: keys } = this.#kinds[kind >>> 1]!;
      keys.delete(key);
      this.#live--;
      due.push(kind & 1 ? { type, key, name, message, stamp: true } : { type, key, name, message });
    }
    return due;
  }

  #kindIndex(type: string, name: string): number {
    let names = this.#kindOf.get(type);
    if (names === undefined) this.#kindOf.set(type, names = new Map());
    let k = names.get(name);
    if (k === undefined) {
      k = this.#kinds.length;
      this.#kinds.push({ type, name, live: new Map() });
      names.set(name, k);
    }
    return k;
  }

  #isLive(i: number): boolean {
    return this.#kinds[this.#kind[i]! >>> 1]!.live.get(this.#key[i]!) === this.#seq[i]!;
  }

  /** Whether slot `a` fires before slot `b`. */
  #before(a: number, b: number): boolean {
    const x = this.#at[a]!, y = this.#at[b]!;
    return x < y || (x === y && this.#seq[a]! < this.#seq[b]!);
  }

  #push(at: number, seq: number, kind: number, key: string, message: unknown): void {
    if (this.#n === this.#at.length) this.#resize(this.#n * 2);
    let i = this.#n++;
    // Up from the new last slot, moving each parent that fires later down into the hole.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pa = this.#at[p]!;
      if (pa < at || (pa === at && this.#seq[p]! < seq)) break;
      this.#move(p, i);
      i = p;
    }
    this.#write(i, at, seq, kind, key, message);
  }

  #removeTop(): void {
    const last = --this.#n;
    if (last > 0) {
      const at = this.#at[last]!, seq = this.#seq[last]!, kind = this.#kind[last]!;
      const key = this.#key[last]!, message = this.#message[last];
      this.#clear(last);
      this.#write(this.#siftDown(0, at, seq), at, seq, kind, key, message);
    } else this.#clear(0);
    if (this.#at.length > FIRST_SLOTS && this.#n < this.#at.length >> 2) {
      this.#resize(this.#at.length >> 1);
    }
  }

  /** Where an entry (`at`, `seq`) put in the hole at `i` comes to rest, moving others up. */
  #siftDown(from: number, at: number, seq: number): number {
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.#n) return i;
      const r = l + 1;
      const m = r < this.#n && this.#before(r, l) ? r : l;
      const ma = this.#at[m]!;
      if (at < ma || (at === ma && seq < this.#seq[m]!)) return i;
      this.#move(m, i);
      i = m;
    }
  }

  #move(from: number, to: number): void {
    this.#at[to] = this.#at[from]!;
    this.#seq[to] = this.#seq[from]!;
    this.#kind[to] = this.#kind[from]!;
    this.#key[to] = this.#key[from]!;
    this.#message[to] = this.#message[from];
  }

  #write(i: number, at: number, seq: number, kind: number, key: string, message: unknown): void {
    this.#at[i] = at;
    this.#seq[i] = seq;
    this.#kind[i] = kind;
    this.#key[i] = key;
    this.#message[i] = message;
  }

  /** Lets go of slot `i`'s references. */
  #clear(i: number): void {
    this.#key.length = i;
    this.#message.length = i;
  }

  #resize(slots: number): void {
    const at = new Float64Array(slots), seq = new Float64Array(slots);
    const kind = new Uint32Array(slots);
    at.set(this.#at.subarray(0, this.#n));
    seq.set(this.#seq.subarray(0, this.#n));
    kind.set(this.#kind.subarray(0, this.#n));
    this.#at = at;
    this.#seq = seq;
    this.#kind = kind;
  }

  /** Keeps the live entries only, and rebuilds the heap bottom up (O(n)). */
  #dropStale(): void {
    let w = 0;
    for (let r = 0; r < this.#n; r++) {
      if (!this.#isLive(r)) continue;
      if (w !== r) this.#move(r, w);
      w++;
    }
    this.#n = w;
    this.#clear(w);
    for (let i = (w >> 1) - 1; i >= 0; i--) {
      const at = this.#at[i]!, seq = this.#seq[i]!, kind = this.#kind[i]!;
      const key = this.#key[i]!, message = this.#message[i];
      this.#write(this.#siftDown(i, at, seq), at, seq, kind, key, message);
    }
    let slots = this.#at.length;
    while (slots > FIRST_SLOTS && w < slots >> 2) slots >>= 1;
    if (slots !== this.#at.length) this.#resize(slots);
  }
}
