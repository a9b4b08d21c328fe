/**
 * A compact, exact binary encoding of actor states, for passivated actors kept off the
 * heap (`encoded_snapshots.ts`, the MongoDB snapshot store).
 *
 * States are plain data: objects (with or without a prototype), arrays, strings,
 * numbers, booleans, null and undefined; Maps and Sets are taken too. Decoding gives a
 * value equal to the one encoded in every respect a behaviour can see: -0, NaN and
 * ±Infinity stay as they are, an own property holding undefined stays, a record without
 * a prototype comes back without one, key order is kept. (Frozenness and sharing are not
 * kept: a decoded state is a fresh tree.)
 *
 * What makes it compact: small integers are one byte and others a varint (timestamps in
 * 6); the keys of an object are written once per process as a numbered shape (a user
 * state and every login in it share a few dozen shapes), and a string met again in the
 * same state is a back-reference. Shapes are numbered by the codec that encoded them, so
 * bytes are read back only by the same codec (the same process); checkpoints, read by
 * other processes, stay JSON.
 *
 * @module
 */

const NULL = 0x00, UNDEFINED = 0x01, FALSE = 0x02, TRUE = 0x03, FLOAT = 0x04;
const UINT = 0x05, NEG_INT = 0x06, STRING = 0x07, STRING_REF = 0x08, ARRAY = 0x09;
const SHAPED = 0x0a, KEYED = 0x0b, BARE_KEYED = 0x0c, MAP = 0x0d, SET = 0x0e, EMPTY_STR = 0x0f;
const STRING16 = 0x10;
/** Strings of 0..31 UTF-8 bytes: 0x20 + length, then the bytes. */
const SHORT_STR = 0x20, SHORT_STR_MAX = 31;
/** Arrays of 0..15 items: 0x40 + length, then the items. */
const SHORT_ARRAY = 0x40, SHORT_ARRAY_MAX = 15;
/** Integers 0..175 are their own tag byte (0x50 + n). */
const SMALL = 0x50, SMALL_MAX = 0xff - SMALL;

/** A node of the shape trie: the next node by key, and the shape ending here. */
interface ShapeNode {
  next: Map<string, ShapeNode> | null;
  id: number;
}

/** Strings shorter than this are written again rather than referred back to. */
const MIN_REF_CHARS = 3;

/** Thrown for a value the codec cannot encode exactly (a function, a class instance…). */
export class StateCodecError extends Error {
  override name = "StateCodecError";
}

/** Encodes and decodes states; owns the shape table its bytes refer to. */
export class StateCodec {
  #trie: ShapeNode = { next: null, id: -1 };
  #shapes: string[][] = [];
  #maxShapes: number;
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;
  #strings = new Map<string, number>();
  #text = new TextEncoder();
  #utf8 = new TextDecoder("utf-8", { fatal: true });

  /** `max_shapes`: key sets numbered at most; objects of other shapes carry their keys. */
  constructor(max_shapes = 4096) {
    this.#maxShapes = max_shapes;
  }

  /** Key sets numbered so far. */
  get shapes(): number {
    return this.#shapes.length;
  }

  /**
   * The bytes of `value` (a new array of their exact size).
   *
   * @example
   * ```ts
   * import { StateCodec } from "./state_codec.ts";
   * const codec = new StateCodec();
   * codec.decode(codec.encode({ n: -0, w: [1, 2] })); // { n: -0, w: [1, 2] }
   * ```
   */
  encode(value: unknown): Uint8Array {
    return this.encodeView(value).slice();
  }

  /**
   * The bytes of `value`, in the codec's own buffer: valid until its next encode (for a
   * store that copies them at once, without an array of their own on the way).
   */
  encodeView(value: unknown): Uint8Array {
    this.#pos = 0;
    this.#strings.clear();
    this.#value(value, 0);
    return this.#buf.subarray(0, this.#pos);
  }

  /** The value of bytes this codec encoded. */
  decode(bytes: Uint8Array): unknown {
    const r = new Reader(bytes, this.#shapes, this.#utf8);
    const v = r.value();
    if (r.pos !== bytes.length) {
      throw new StateCodecError(`Cannot decode a state: ${bytes.length - r.pos} bytes left over`);
    }
    return v;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #byte(b: number): void {
    this.#room(1);
    this.#buf[this.#pos++] = b;
  }

  /** An unsigned integer up to 2^53, 7 bits a byte. */
  #uint(n: number): void {
    this.#room(8);
    while (n >= 0x80) {
      this.#buf[this.#pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buf[this.#pos++] = n;
  }

  #value(v: unknown, depth: number): void {
    if (depth > 64) throw new StateCodecError("Cannot encode a state nested deeper than 64");
    switch (typeof v) {
      case "number":
        return this.#number(v);
      case "string":
        return this.#string(v);
      case "boolean":
        return this.#byte(v ? TRUE : FALSE);
      case "undefined":
        return this.#byte(UNDEFINED);
      case "object":
        if (v === null) return this.#byte(NULL);
        if (Array.isArray(v)) {
          if (v.length <= SHORT_ARRAY_MAX) this.#byte(SHORT_ARRAY + v.length);
          else {
            this.#byte(ARRAY);
            this.#uint(v.length);
          }
          for (let i = 0; i < v.length; i++) this.#value(v[i], depth + 1);
          return;
        }
        return this.#object(v as object, depth);
      default:
        throw new StateCodecError(`Cannot encode a state holding a ${typeof v}`);
    }
  }

  #number(n: number): void {
    if (Number.isInteger(n) && !Object.is(n, -0) && Math.abs(n) <= Number.MAX_SAFE_INTEGER) {
      if (n >= 0 && n <= SMALL_MAX) return this.#byte(SMALL + n);
      this.#byte(n >= 0 ? UINT : NEG_INT);
      return this.#uint(Math.abs(n));
    }
    this.#room(9);
    this.#buf[this.#pos++] = FLOAT;
    this.#view.setFloat64(this.#pos, n, true);
    this.#pos += 8;
  }

  #string(s: string): void {
    if (s.length === 0) return this.#byte(EMPTY_STR);
    if (s.length >= MIN_REF_CHARS) {
      const seen = this.#strings.get(s);
      if (seen !== undefined) {
        this.#byte(STRING_REF);
        return this.#uint(seen);
      }
      this.#strings.set(s, this.#strings.size);
    }
    if (s.length <= SHORT_STR_MAX && this.#ascii(s)) return;
    if (!s.isWellFormed()) return this.#units(s); // a lone surrogate: UTF-8 would lose it
    this.#byte(STRING);
    this.#room(3 + s.length * 3);
    // The length's varint goes first, and is known once written: room for it, then moved.
    const short = s.length * 3 < 0x80;
    const at = this.#pos;
    this.#pos += short ? 1 : 3;
    const { written } = this.#text.encodeInto(s, this.#buf.subarray(this.#pos));
    if (short) this.#buf[at] = written;
    else {
      // Three varint bytes hold lengths below 2^21 (a state's strings are far shorter).
      if (written >= 0x200000) throw new StateCodecError("Cannot encode a string of 2 MB");
      const size = written < 0x80 ? 1 : written < 0x4000 ? 2 : 3;
      if (size < 3) this.#buf.copyWithin(at + size, at + 3, at + 3 + written);
      this.#pos = at;
      this.#uint(written);
      this.#pos = at + size;
    }
    this.#pos += written;
  }

  /** Writes a short string if it is ASCII (most are: ids, addresses, codes); else false. */
  #ascii(s: string): boolean {
    const n = s.length;
    this.#room(1 + n);
    const buf = this.#buf, at = this.#pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[at + 1 + i] = c;
    }
    buf[at] = SHORT_STR + n;
    this.#pos = at + 1 + n;
    return true;
  }

  /** A string that is not well-formed UTF-16, as its 16-bit units. */
  #units(s: string): void {
    this.#byte(STRING16);
    this.#uint(s.length);
    this.#room(s.length * 2);
    for (let i = 0; i < s.length; i++) {
      this.#view.setUint16(this.#pos, s.charCodeAt(i), true);
      this.#pos += 2;
    }
  }

  #object(o: object, depth: number): void {
    if (o instanceof Map) {
      this.#byte(MAP);
      this.#uint(o.size);
      for (const [k, v] of o) {
        this.#value(k, depth + 1);
        this.#value(v, depth + 1);
      }
      return;
    }
    if (o instanceof Set) {
      this.#byte(SET);
      this.#uint(o.size);
      for (const v of o) this.#value(v, depth + 1);
      return;
    }
    const proto = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null) {
      const name = (o as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new StateCodecError(`Cannot encode a state holding a ${name}`);
    }
    const rec = o as Record<string, unknown>;
    // Records keyed by input (no prototype) carry their keys: they would flood the shapes.
    const id = proto === null ? undefined : this.#shapeOf(rec);
    if (id === undefined) {
      const keys = Object.keys(o);
      this.#byte(proto === null ? BARE_KEYED : KEYED);
      this.#uint(keys.length);
      for (const k of keys) {
        this.#string(k);
        this.#value(rec[k], depth + 1);
      }
      return;
    }
    this.#byte(SHAPED);
    this.#uint(id);
    for (const k in rec) this.#value(rec[k], depth + 1);
  }

  /** The number of an object's key set, numbering it if there is room (else undefined). */
  #shapeOf(o: Record<string, unknown>): number | undefined {
    let node = this.#trie;
    for (const k in o) {
      let next = node.next?.get(k);
      if (next === undefined) {
        // A key named __proto__ would set the prototype of an object built by assignment.
        if (this.#shapes.length >= this.#maxShapes || k === "__proto__") return undefined;
        next = { next: null, id: -1 };
        (node.next ??= new Map()).set(k, next);
      }
      node = next;
    }
    if (node.id < 0) {
      if (this.#shapes.length >= this.#maxShapes) return undefined;
      node.id = this.#shapes.length;
      this.#shapes.push(Object.keys(o));
    }
    return node.id;
  }
}

/** Reads one encoded value. */
class Reader {
  pos = 0;
  #b: Uint8Array;
  #view: DataView;
  #shapes: readonly string[][];
  #utf8: TextDecoder;
  #strings: string[] = [];

  constructor(b: Uint8Array, shapes: readonly string[][], utf8: TextDecoder) {
    this.#b = b;
    this.#view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.#shapes = shapes;
    this.#utf8 = utf8;
  }

  #byte(): number {
    if (this.pos >= this.#b.length) {
      throw new StateCodecError("Cannot decode a state: it ends early");
    }
    return this.#b[this.pos++]!;
  }

  #uint(): number {
    let n = 0, scale = 1, b: number;
    do {
      b = this.#byte();
      n += (b & 0x7f) * scale;
      scale *= 0x80;
    } while (b & 0x80);
    return n;
  }

  value(): unknown {
    const tag = this.#byte();
    if (tag >= SMALL) return tag - SMALL;
    if (tag >= SHORT_ARRAY) {
      const n = tag - SHORT_ARRAY;
      const a = new Array(n);
      for (let i = 0; i < n; i++) a[i] = this.value();
      return a;
    }
    if (tag >= SHORT_STR) return this.#short(tag - SHORT_STR);
    switch (tag) {
      case NULL:
        return null;
      case UNDEFINED:
        return undefined;
      case FALSE:
        return false;
      case TRUE:
        return true;
      case FLOAT: {
        if (this.pos + 8 > this.#b.length) {
          throw new StateCodecError("Cannot decode a state: it ends early");
        }
        const n = this.#view.getFloat64(this.pos, true);
        this.pos += 8;
        return n;
      }
      case UINT:
        return this.#uint();
      case NEG_INT:
        return -this.#uint();
      case EMPTY_STR:
        return "";
      case STRING:
        return this.#string();
      case STRING16: {
        const n = this.#uint();
        if (this.pos + 2 * n > this.#b.length) {
          throw new StateCodecError("Cannot decode a state: it ends early");
        }
        let s = "";
        for (let i = 0; i < n; i++) {
          s += String.fromCharCode(this.#view.getUint16(this.pos + 2 * i, true));
        }
        this.pos += 2 * n;
        if (s.length >= MIN_REF_CHARS) this.#strings.push(s);
        return s;
      }
      case STRING_REF: {
        const s = this.#strings[this.#uint()];
        if (s === undefined) {
          throw new StateCodecError("Cannot decode a state: a bad string reference");
        }
        return s;
      }
      case ARRAY: {
        const n = this.#uint();
        const a = new Array(n);
        for (let i = 0; i < n; i++) a[i] = this.value();
        return a;
      }
      case SHAPED: {
        const keys = this.#shapes[this.#uint()];
        if (!keys) throw new StateCodecError("Cannot decode a state: an unknown shape");
        const o: Record<string, unknown> = {};
        for (const k of keys) o[k] = this.value();
        return o;
      }
      case KEYED:
      case BARE_KEYED: {
        const n = this.#uint();
        const o: Record<string, unknown> = tag === KEYED ? {} : Object.create(null);
        for (let i = 0; i < n; i++) {
          const k = this.value() as string;
          // defineProperty: a key named __proto__ is an own entry, as it was.
          Object.defineProperty(o, k, {
            value: this.value(),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return o;
      }
      case MAP: {
        const n = this.#uint();
        const m = new Map();
        for (let i = 0; i < n; i++) m.set(this.value(), this.value());
        return m;
      }
      case SET: {
        const n = this.#uint();
        const s = new Set();
        for (let i = 0; i < n; i++) s.add(this.value());
        return s;
      }
      default:
        throw new StateCodecError(`Cannot decode a state: unknown tag ${tag}`);
    }
  }

  /** A short string: ASCII is read a char at a time (cheaper than a decoder call). */
  #short(n: number): string {
    const b = this.#b, at = this.pos;
    if (at + n > b.length) throw new StateCodecError("Cannot decode a state: it ends early");
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[at + i]!);
    this.pos = at + n;
    if (n >= MIN_REF_CHARS) this.#strings.push(s);
    return s;
  }

  #string(): string {
    const n = this.#uint();
    if (this.pos + n > this.#b.length) {
      throw new StateCodecError("Cannot decode a state: it ends early");
    }
    const s = this.#utf8.decode(this.#b.subarray(this.pos, this.pos + n));
    this.pos += n;
    if (s.length >= MIN_REF_CHARS) this.#strings.push(s);
    return s;
  }
}
