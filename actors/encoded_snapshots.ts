/**
 * The embedded snapshot store: passivated actors' states encoded (`state_codec.ts`) into
 * large byte slabs outside the JavaScript heap. What stays on the heap per passivated
 * actor is one Map entry: its id and the small integer where its bytes start. So the
 * resident cap bounds the heap, and a passivated actor costs its encoded size plus that
 * entry (see docs/passivation.md for the figures).
 *
 * A state is decoded when its actor comes back (`take`: the store lets go of it, the
 * actor holds it now) or is looked at (`load`, `entriesWhere`). Space of states taken or
 * overwritten is reclaimed by copying the live ones to fresh slabs once it exceeds the
 * quarter of the live bytes, by sliding the live ones down in place (so at most about a
 * fifth of the slab bytes are garbage, and nothing is allocated to compact).
 *
 * @module
 */

import type { RuntimeLimits } from "../config/defaults.ts";
import type { SnapshotStore } from "./ports.ts";
import { StateCodec } from "./state_codec.ts";

/** Bytes of one slab. */
const SLAB_BYTES = 1 << 20;
/** States at least this large get an array of their own (slabs stay densely packed). */
const LARGE_BYTES = SLAB_BYTES >> 3;

/** How an encoded-snapshot store is sized (`RuntimeLimits`). */
export type EncodedSnapshotLimits = Pick<
  RuntimeLimits,
  "snapshot_max_shapes" | "snapshot_min_compact_bytes"
>;

/** Passivated states, encoded into off-heap slabs (the embedded default). */
export class EncodedSnapshots implements SnapshotStore {
  readonly codec: StateCodec;
  /** id → where its bytes start (slab × SLAB_BYTES + offset), or its own array. */
  #at = new Map<string, number | Uint8Array>();
  #slabs: Uint8Array[] = [];
  /** Slabs emptied by compaction, for the next writes. */
  #spare: Uint8Array[] = [];
  /** Write position in the last slab. */
  #pos = SLAB_BYTES;
  #live = 0;
  #garbage = 0;
  #minCompact: number;

  constructor(limits: EncodedSnapshotLimits) {
    this.codec = new StateCodec(limits.snapshot_max_shapes);
    this.#minCompact = limits.snapshot_min_compact_bytes;
  }

  /** States held. */
  get size(): number {
    return this.#at.size;
  }

  /** Bytes of the states held (encoded, with their length prefixes). */
  get liveBytes(): number {
    return this.#live;
  }

  /** Bytes of slabs allocated (live, garbage, unused tails and spare slabs). */
  get slabBytes(): number {
    return (this.#slabs.length + this.#spare.length) * SLAB_BYTES;
  }

  load(id: string): unknown {
    const bytes = this.#bytes(id);
    return bytes === undefined ? undefined : this.codec.decode(bytes);
  }

  /** The state of `id`, forgetting it here (the actor holds it again). */
  take(id: string): unknown {
    const bytes = this.#bytes(id);
    if (bytes === undefined) return undefined;
    const state = this.codec.decode(bytes);
    this.delete(id);
    return state;
  }

  save(id: string, state: unknown): void {
    const bytes = this.codec.encodeView(state);
    this.delete(id); // may compact, which copies without encoding
    this.#put(id, bytes);
  }

  delete(id: string): void {
    const at = this.#at.get(id);
    if (at === undefined) return;
    this.#at.delete(id);
    if (typeof at !== "number") {
      this.#live -= at.length;
      return;
    }
    const size = this.#entry(this.#slabs, at).size;
    this.#live -= size;
    this.#garbage += size;
    if (4 * this.#garbage > this.#live && this.#garbage >= this.#minCompact) this.#compact();
  }

  deleteWhere(match: (id: string) => boolean): void {
    for (const id of [...this.#at.keys()]) if (match(id)) this.delete(id);
  }

  entriesWhere(match: (id: string) => boolean): [string, unknown][] {
    const out: [string, unknown][] = [];
    for (const id of this.#at.keys()) if (match(id)) out.push([id, this.load(id)]);
    return out;
  }

  #bytes(id: string): Uint8Array | undefined {
    const at = this.#at.get(id);
    return at === undefined || typeof at !== "number" ? at : this.#entry(this.#slabs, at).bytes;
  }

  /** An entry of `slabs` at `at`: its state's bytes, and the bytes it takes with its prefix. */
  #entry(slabs: readonly Uint8Array[], at: number): { bytes: Uint8Array; size: number } {
    const slab = slabs[Math.floor(at / SLAB_BYTES)]!;
    const start = at % SLAB_BYTES;
    let p = start, n = 0, shift = 0, b: number;
    do {
      b = slab[p++]!;
      n |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return { bytes: slab.subarray(p, p + n), size: p - start + n };
  }

  #put(id: string, bytes: Uint8Array): void {
    if (bytes.length >= LARGE_BYTES) {
      this.#at.set(id, bytes.slice());
      this.#live += bytes.length;
      return;
    }
    const size = prefixBytes(bytes.length) + bytes.length;
    if (this.#pos + size > SLAB_BYTES) {
      if (this.#slabs.length > 0) this.#garbage += SLAB_BYTES - this.#pos; // its unused tail
      this.#slabs.push(this.#spare.pop() ?? new Uint8Array(SLAB_BYTES));
      this.#pos = 0;
    }
    const slab = this.#slabs[this.#slabs.length - 1]!;
    const at = (this.#slabs.length - 1) * SLAB_BYTES + this.#pos;
    let n = bytes.length;
    while (n >= 0x80) {
      slab[this.#pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    slab[this.#pos++] = n;
    slab.set(bytes, this.#pos);
    this.#pos += bytes.length;
    this.#at.set(id, at);
    this.#live += size;
  }

  /**
   * Slides the live states down over the garbage, in the slabs they are in: the Map holds
   * them in the order their bytes were written (each save appends to both), so each state
   * moves only towards the front. The slabs emptied at the end are kept for the next
   * writes, up to a quarter of those in use. Copying to fresh slabs instead, and freeing
   * the old ones, left the allocator's heap fragmented: RSS after a second pass over a
   * million users stayed about 260 MB above what was live (docs/passivation.md).
   */
  #compact(): void {
    const slabs = this.#slabs;
    let w = 0, pos = 0, last = -1, moved = 0;
    for (const [id, at] of this.#at) {
      if (typeof at !== "number") continue;
      if (at < last) throw new Error("Snapshot slabs out of order"); // cannot happen: see above
      last = at;
      const start = at % SLAB_BYTES, from = slabs[Math.floor(at / SLAB_BYTES)]!;
      const size = this.#entry(slabs, at).size;
      if (pos + size > SLAB_BYTES) {
        w++;
        pos = 0;
      }
      const to = w * SLAB_BYTES + pos;
      if (to !== at) {
        if (from === slabs[w]) from.copyWithin(pos, start, start + size);
        else slabs[w]!.set(from.subarray(start, start + size), pos);
        this.#at.set(id, to);
      }
      pos += size;
      moved += size;
    }
    const used = last < 0 ? 0 : w + 1;
    this.#spare.push(...slabs.splice(used));
    this.#spare.length = Math.min(this.#spare.length, 4 + (used >> 2));
    this.#pos = used === 0 ? SLAB_BYTES : pos;
    // What is not live now is the unused tails of the slabs before the last.
    this.#garbage = used === 0 ? 0 : (used - 1) * SLAB_BYTES + pos - moved;
  }
}

function prefixBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : 3;
}
