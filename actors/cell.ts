/**
 * One resident actor: its state, its bounded mailbox, and the senders waiting for
 * room in it. Kept small: a million of these must fit in well under a gigabyte.
 *
 * @module
 */

import type { Ticket } from "./ticket.ts";
import type { Address, Behaviour } from "./types.ts";

/** A message on its way through a mailbox. */
export interface Envelope {
  message: unknown;
  /** The input batch it belongs to, if any. */
  ticket: Ticket | null;
  /** Failed attempts so far. */
  attempt: number;
  /**
   * The time the message's alerts are raised at: the clock's when it was delivered (a
   * reply: when its asking message was), under `alerts_at_delivery_time`; -1: when raised.
   */
  at: number;
  /** The score asked for as the message was admitted (`Behaviour.prefetch`), until used. */
  scores: { model: string; scores: Promise<Float32Array> } | null;
}

interface Waiter {
  env: Envelope;
  resolve: () => void;
}

const NO_RESTARTS: readonly number[] = Object.freeze([]);

/** A resident actor. */
export class Cell implements Address {
  readonly type: string;
  readonly key: string;
  readonly partition: number;
  // deno-lint-ignore no-explicit-any
  readonly behaviour: Behaviour<any, any>;
  state: unknown = undefined;
  #busy = false;
  lastActive: number;
  /** When the runtime last moved it to the back of its residency ring. */
  movedAt: number;
  #mailbox: Envelope[] | null = null;
  #waiters: Waiter[] | null = null;
  #restarts: number[] | null = null;
  /** The runtime's set of cells that are busy or hold messages (so stats need not walk every actor). */
  #watch: Set<Cell>;

  constructor(
    type: string,
    key: string,
    partition: number,
    // deno-lint-ignore no-explicit-any
    behaviour: Behaviour<any, any>,
    now: number,
    watch: Set<Cell>,
  ) {
    this.#watch = watch;
    this.type = type;
    this.key = key;
    this.partition = partition;
    this.behaviour = behaviour;
    this.lastActive = now;
    this.movedAt = now;
  }

  /**
   * `type:key`, made when asked (passivation, restore, errors, checkpoints): kept, it was
   * a string of its own in every resident actor.
   */
  get id(): string {
    return this.type + ":" + this.key;
  }

  /** True while a turn awaits something (a model, a snapshot, a backoff, a full mailbox). */
  get busy(): boolean {
    return this.#busy;
  }

  set busy(value: boolean) {
    this.#busy = value;
    if (value) this.#watch.add(this);
  }

  /** Messages waiting in the mailbox (not counting senders waiting for room). */
  get queued(): number {
    return this.#mailbox ? this.#mailbox.length : 0;
  }

  /** Senders waiting for room. */
  get waiting(): number {
    return this.#waiters ? this.#waiters.length : 0;
  }

  /** Times of recent restarts. */
  get restarts(): readonly number[] {
    return this.#restarts ?? NO_RESTARTS;
  }

  enqueue(env: Envelope): void {
    (this.#mailbox ??= []).push(env);
    this.#watch.add(this);
  }

  pushFront(env: Envelope): void {
    (this.#mailbox ??= []).unshift(env);
    this.#watch.add(this);
  }

  /** Parks a sender until the mailbox has room; its message is then enqueued in order. */
  wait(env: Envelope): Promise<void> {
    return new Promise((resolve) => (this.#waiters ??= []).push({ env, resolve }));
  }

  /** Takes the next message, letting one waiting sender in. */
  next(): Envelope | undefined {
    const box = this.#mailbox;
    if (!box || box.length === 0) return undefined;
    const env = box.shift()!;
    const w = this.#waiters?.shift();
    if (w) {
      box.push(w.env);
      w.resolve();
    }
    if (box.length === 0) this.#mailbox = null;
    if (this.#waiters?.length === 0) this.#waiters = null;
    return env;
  }

  /** Empties the mailbox and the waiting senders (releasing them), returning every message. */
  takeAll(): Envelope[] {
    const all = this.#mailbox ?? [];
    for (const w of this.#waiters ?? []) {
      all.push(w.env);
      w.resolve();
    }
    this.#mailbox = null;
    this.#waiters = null;
    return all;
  }

  noteRestart(now: number, keep: number): void {
    const r = (this.#restarts ??= []);
    r.push(now);
    if (r.length > keep) r.shift();
  }
}
