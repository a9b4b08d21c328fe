/**
 * Holds on event-time watermarks. The HTTP ingest answers "accepted" for an event that is
 * in time now; between the answer and the intake taking the event, other events could
 * move its lane's watermark past it and it would be dead-lettered as late after all. So
 * the ingest places a hold at the event's time on its lane (actor type and partition):
 * the lane's watermark stays at or below the lowest time held until the intake has taken
 * the event (`release`) or the hold has run out (`expire`). Bounded: at most `max_held`
 * holds, each for at most `max_hold_ms`. A replay places none, so it runs as before.
 *
 * @module
 */

import { TimeHeap } from "./heap.ts";

/** One hold: a lane kept at or below `at` until released or `expires_at`. */
interface Hold {
  /** The event time held. */
  at: number;
  /** Order of placing (ties in the heap). */
  seq: number;
  lane: string;
  key: string;
  expires_at: number;
  live: boolean;
}

/** The lane a hold was on: its partition and actor type. */
export interface HeldLane {
  partition: number;
  type: string;
}

/** The name of the lane of an actor type in a partition. */
export const laneId = (partition: number, type: string): string => `${partition}/${type}`;

const laneOf = (id: string): HeldLane => {
  const at = id.indexOf("/");
  return { partition: Number(id.slice(0, at)), type: id.slice(at + 1) };
};

/**
 * The holds of one process, by lane and by event.
 *
 * @example
 * ```ts
 * import { WatermarkHolds } from "./holds.ts";
 * const holds = new WatermarkHolds(10, 1_000);
 * holds.place(0, "user", "e1", 5_000, 0);
 * holds.floor("0/user"); // 5000
 * holds.release("user", "e1"); // { partition: 0, type: "user" }
 * holds.floor("0/user"); // Infinity
 * ```
 */
export class WatermarkHolds {
  /** Per lane, its holds by time (released ones are dropped lazily). */
  #lanes = new Map<string, TimeHeap<Hold>>();
  /** Per `type` and event id, its live holds in the order placed. */
  #byEvent = new Map<string, Hold[]>();
  /** Live holds, oldest placed first (for expiry). */
  #order: Hold[] = [];
  #orderHead = 0;
  #live = 0;
  #seq = 0;

  constructor(readonly max_held: number, readonly max_hold_ms: number) {}

  /** Live holds. */
  get size(): number {
    return this.#live;
  }

  /** Room for `n` more holds. */
  hasRoom(n: number): boolean {
    return this.#live + n <= this.max_held;
  }

  /** When the oldest live hold runs out (Infinity: none). */
  nextExpiry(): number {
    this.#trimOrder();
    return this.#order[this.#orderHead]?.expires_at ?? Infinity;
  }

  /** Holds the lane of `type` in `partition` at `event_ms` for event `id`; false when full. */
  place(partition: number, type: string, id: string, event_ms: number, now_ms: number): boolean {
    if (!this.hasRoom(1)) return false;
    const lane = laneId(partition, type);
    const key = type + "\u0000" + id;
    const hold: Hold = {
      at: event_ms,
      seq: this.#seq++,
      lane,
      key,
      expires_at: now_ms + this.max_hold_ms,
      live: true,
    };
    let heap = this.#lanes.get(lane);
    if (!heap) this.#lanes.set(lane, heap = new TimeHeap());
    heap.push(hold);
    let list = this.#byEvent.get(key);
    if (!list) this.#byEvent.set(key, list = []);
    list.push(hold);
    this.#order.push(hold);
    this.#live++;
    return true;
  }

  /** Releases the oldest hold of event `id` on lanes of `type`; the lane, or null for none. */
  release(type: string, id: string): HeldLane | null {
    if (this.#live === 0) return null;
    const key = type + "\u0000" + id;
    const list = this.#byEvent.get(key);
    const hold = list?.shift();
    if (!hold) return null;
    if (list!.length === 0) this.#byEvent.delete(key);
    this.#drop(hold);
    return laneOf(hold.lane);
  }

  /** Releases every hold that has run out by `now_ms`; the lanes they were on. */
  expire(now_ms: number): HeldLane[] {
    const lanes = new Set<string>();
    for (;;) {
      this.#trimOrder();
      const hold = this.#order[this.#orderHead];
      if (!hold || hold.expires_at > now_ms) break;
      const list = this.#byEvent.get(hold.key)!;
      list.splice(list.indexOf(hold), 1);
      if (list.length === 0) this.#byEvent.delete(hold.key);
      this.#drop(hold);
      lanes.add(hold.lane);
    }
    return [...lanes].map(laneOf);
  }

  /** Drops every hold on the lanes of `partition` (its state was dropped or replaced). */
  clearPartition(partition: number): void {
    for (const lane of this.#lanes.keys()) {
      if (laneOf(lane).partition !== partition) continue;
      for (const hold of this.#lanes.get(lane)!.values()) {
        if (!hold.live) continue;
        const list = this.#byEvent.get(hold.key)!;
        list.splice(list.indexOf(hold), 1);
        if (list.length === 0) this.#byEvent.delete(hold.key);
        hold.live = false;
        this.#live--;
      }
      this.#lanes.delete(lane);
    }
  }

  /** The lowest event time held on a lane (Infinity: none). */
  floor(lane: string): number {
    const heap = this.#lanes.get(lane);
    if (!heap) return Infinity;
    while (heap.size > 0 && !heap.peek()!.live) heap.pop();
    if (heap.size === 0) {
      this.#lanes.delete(lane);
      return Infinity;
    }
    return heap.peek()!.at;
  }

  #drop(hold: Hold): void {
    hold.live = false;
    this.#live--;
    if (this.#order.length - this.#orderHead > 2 * this.#live + 1_024) {
      this.#order = this.#order.slice(this.#orderHead).filter((h) => h.live);
      this.#orderHead = 0;
    }
    const heap = this.#lanes.get(hold.lane);
    // Released holds deep in the heap are dropped when they come up; a heap mostly of
    // them is rebuilt, so it never holds many more entries than live holds.
    if (heap && heap.size > 64 && heap.size > 2 * this.#live) {
      const live = heap.values().filter((h) => h.live);
      const fresh = new TimeHeap<Hold>();
      for (const h of live) fresh.push(h);
      if (fresh.size === 0) this.#lanes.delete(hold.lane);
      else this.#lanes.set(hold.lane, fresh);
    }
  }

  /** Drops released holds from the front of the placing order (and compacts it). */
  #trimOrder(): void {
    const order = this.#order;
    while (this.#orderHead < order.length && !order[this.#orderHead]!.live) this.#orderHead++;
    if (this.#orderHead > 1_024 && this.#orderHead * 2 > order.length) {
      this.#order = order.slice(this.#orderHead);
      this.#orderHead = 0;
    }
  }
}
