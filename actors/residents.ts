/**
 * The resident actors: one Map per actor type, keyed by the actor's key (no string
 * building on delivery), each in residency-ring order for the CLOCK eviction and the
 * idle sweep.
 *
 * @module
 */

import type { Cell } from "./cell.ts";

/** Resident actors by type and key. */
export class Residents {
  #byType = new Map<string, Map<string, Cell>>();
  #size = 0;

  /** Actors resident now. */
  get size(): number {
    return this.#size;
  }

  get(type: string, key: string): Cell | undefined {
    return this.#byType.get(type)?.get(key);
  }

  add(cell: Cell): void {
    let ring = this.#byType.get(cell.type);
    if (!ring) this.#byType.set(cell.type, ring = new Map());
    ring.set(cell.key, cell);
    this.#size++;
  }

  remove(cell: Cell): void {
    if (this.#byType.get(cell.type)?.delete(cell.key)) this.#size--;
  }

  /** Moves an actor to the back of its type's ring. */
  moveToBack(cell: Cell): void {
    const ring = this.#byType.get(cell.type)!;
    ring.delete(cell.key);
    ring.set(cell.key, cell);
  }

  /** Resident actors of one type. */
  count(type: string): number {
    return this.#byType.get(type)?.size ?? 0;
  }

  /** The ring of the type with the most resident actors (where eviction looks first). */
  largestRing(): Iterable<Cell> {
    let best: Map<string, Cell> | undefined;
    for (const ring of this.#byType.values()) if (!best || ring.size > best.size) best = ring;
    return best?.values() ?? [];
  }

  /** Every type's ring, front first. */
  rings(): Iterable<Map<string, Cell>> {
    return this.#byType.values();
  }

  /** Every resident actor. */
  *all(): Iterable<Cell> {
    for (const ring of this.#byType.values()) yield* ring.values();
  }
}
