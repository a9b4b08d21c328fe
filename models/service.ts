/**
 * Model serving: ONNX models with their manifests, loaded once per version, checked
 * before they serve, scored in micro-batches across actors, swapped atomically.
 *
 * A model lives in `<dir>/<name>/v<version>.onnx` beside `v<version>.manifest.json` and,
 * optionally, `v<version>.fixtures.json` (rows with the probabilities the training side
 * computed). Loading checks the file's hash against the manifest, the session's input
 * and output names, the output width against the classes, and the fixtures within 1e-5;
 * a model that fails any check is refused with the reason and the active one keeps
 * serving.
 *
 * Actors ask through the runtime's `Inference` port (`infer(model, features)`); their
 * rows wait at most `max_wait_ms` for others, and run in one `session.run` of up to
 * `max_batch_rows` rows. Each actor's turn awaits only its own row.
 *
 * onnxruntime-node (a native library: `--allow-ffi`) is imported when the first model is
 * loaded, so a process that loads none needs no FFI permission.
 *
 * @module
 */

import type * as Ort from "onnxruntime-node";
import type { Inference } from "../actors/ports.ts";
import type { ModelSettings } from "../config/defaults.ts";
import { type DriftBaseline, DriftTracker } from "./drift.ts";

/** What a manifest says of its model (`models/train/*.py` writes them). */
export interface ModelManifest {
  name: string;
  version: string;
  file: string;
  sha256: string;
  created_at: string;
  input: { name: string; dtype: "float32"; shape: [number, number] };
  output: { name: string; dtype: "float32"; shape: [number, number] };
  features: string[];
  classes: string[];
  thresholds: { default: number; per_class: Record<string, number> };
  /** The class of ordinary traffic (no alert); the first class if absent. */
  benign_class?: string;
  /** Training distributions of the features, for drift (`models/drift.ts`). */
  drift_baseline?: DriftBaseline;
  [more: string]: unknown;
}

/** Rows and the probabilities the training side computed for them. */
interface Fixtures {
  rows: (number | "Infinity" | "-Infinity" | null)[][];
  probabilities: number[][];
}

/** A model that cannot be loaded or used, with the reason. */
export class ModelError extends Error {
  override name = "ModelError";
}

/** A model name or version: one path segment, no separator, not `.` or `..`. */
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Largest difference from a fixture's probabilities that still counts as the same model. */
const FIXTURE_TOLERANCE = 1e-5;

/** What the service reports; the metrics adapter implements it. */
export interface ModelTelemetry {
  /** A batch ran: its rows and how long `session.run` took. */
  inferenceBatch(model: string, version: string, rows: number, seconds: number): void;
  /** A batch failed: its rows, each answered with the error. */
  inferenceFailed?(model: string, version: string, rows: number): void;
  /** A version became the active one. */
  modelActivated(model: string, version: string): void;
  /** Rows of a batch whose most likely class was `cls`. */
  predictions(model: string, cls: string, rows: number): void;
  /**
   * Rows a shadow version scored beside the active one: whether its most likely class
   * (by name) agreed, or it failed.
   */
  shadowed(
    model: string,
    version: string,
    result: "agree" | "disagree" | "error",
    rows: number,
  ): void;
}

const noModelTelemetry: ModelTelemetry = {
  inferenceBatch() {},
  modelActivated() {},
  predictions() {},
  shadowed() {},
};

let runtime: Promise<typeof Ort> | null = null;
/** onnxruntime-node, imported once, on first use. */
function onnxruntime(): Promise<typeof Ort> {
  return runtime ??= import("onnxruntime-node");
}

/** One version of a model with its session, ready to score. */
export class LoadedModel {
  readonly manifest: ModelManifest;
  readonly #session: Ort.InferenceSession;
  readonly #ort: typeof Ort;
  readonly width: number;
  readonly classes: number;
  /** Live inputs against the training distributions (when the manifest has a baseline). */
  readonly drift: DriftTracker | null;

  private constructor(
    manifest: ModelManifest,
    session: Ort.InferenceSession,
    ort: typeof Ort,
    drift_every: number,
  ) {
    this.manifest = manifest;
    this.#session = session;
    this.#ort = ort;
    this.width = manifest.features.length;
    this.classes = manifest.classes.length;
    this.drift = manifest.drift_baseline
      ? new DriftTracker(manifest.drift_baseline, manifest.features, drift_every)
      : null;
  }

  /** Loads and checks `<dir>/<name>/v<version>.*`; throws a ModelError saying what is wrong. */
  static async load(
    dir: string,
    name: string,
    version: string,
    options: { intra_op_threads: number; drift_sample_every?: number },
  ): Promise<LoadedModel> {
    const what = `model ${name} v${version}`;
    // Both are parts of a path: a name such as "../x" would reach outside `dir`.
    if (!PLAIN.test(name) || !PLAIN.test(version)) {
      throw new ModelError(`Cannot load ${what}: a name and a version are plain names`);
    }
    const base = `${dir}/${name}/v${version}`;
    const manifest = checkManifest(await readJson(`${base}.manifest.json`, what), name, version);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(`${dir}/${name}/${manifest.file}`);
    } catch (err) {
      throw new ModelError(`Cannot load ${what}: ${(err as Error).message}`);
    }
    const hash = await sha256(bytes);
    if (hash !== manifest.sha256) {
      throw new ModelError(
        `Cannot load ${what}: ${manifest.file} has SHA-256 ${hash}, the manifest says ${manifest.sha256}`,
      );
    }
    let ort: typeof Ort;
    try {
      ort = await onnxruntime();
    } catch (err) {
      throw new ModelError(`Cannot load ${what}: onnxruntime-node: ${(err as Error).message}`);
    }
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.intra_op_threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      });
    } catch (err) {
      throw new ModelError(
        `Cannot load ${what}: onnxruntime refused it: ${(err as Error).message}`,
      );
    }
    let model: LoadedModel;
    try {
      model = new LoadedModel(manifest, session, ort, options.drift_sample_every ?? 1);
    } catch (err) {
      await session.release().catch(() => {});
      throw new ModelError(`Cannot load ${what}: ${(err as Error).message}`);
    }
    try {
      if (!session.inputNames.includes(manifest.input.name)) {
        throw new ModelError(
          `Cannot load ${what}: it has inputs ${
            session.inputNames.join(", ")
          }, not ${manifest.input.name}`,
        );
      }
      if (!session.outputNames.includes(manifest.output.name)) {
        throw new ModelError(
          `Cannot load ${what}: it has outputs ${
            session.outputNames.join(", ")
          }, not ${manifest.output.name}`,
        );
      }
      const fixtures = await readFixtures(`${base}.fixtures.json`, what);
      await model.#check(fixtures, what);
    } catch (err) {
      await session.release().catch(() => {});
      throw err;
    }
    return model;
  }

  /** Scores `n` rows laid out one after another; returns `n × classes` probabilities. */
  async run(rows: Float32Array, n: number): Promise<Float32Array> {
    const input = new this.#ort.Tensor("float32", rows.subarray(0, n * this.width), [
      n,
      this.width,
    ]);
    const out = await this.#session.run({ [this.manifest.input.name]: input }, [
      this.manifest.output.name,
    ]);
    const t = out[this.manifest.output.name];
    if (!t || !(t.data instanceof Float32Array) || t.data.length !== n * this.classes) {
      throw new ModelError(
        `Model ${this.manifest.name} v${this.manifest.version} gave ${t?.dims.join("×")} ` +
          `instead of ${n}×${this.classes} probabilities`,
      );
    }
    return t.data;
  }

  /** Frees the session (after its last batch). */
  release(): Promise<void> {
    return this.#session.release();
  }

  async #check(fixtures: Fixtures | null, what: string): Promise<void> {
    if (!fixtures) {
      await this.run(new Float32Array(this.width), 1); // shapes only
      return;
    }
    const n = fixtures.rows.length;
    const rows = new Float32Array(n * this.width);
    fixtures.rows.forEach((r, i) => {
      if (r.length !== this.width) {
        throw new ModelError(`Cannot load ${what}: fixture row ${i} has ${r.length} values`);
      }
      r.forEach((v, j) => rows[i * this.width + j] = fixtureValue(v));
    });
    const got = await this.run(rows, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < this.classes; j++) {
        const want = fixtures.probabilities[i]?.[j];
        const diff = Math.abs((want ?? NaN) - got[i * this.classes + j]!);
        if (!(diff <= FIXTURE_TOLERANCE)) {
          throw new ModelError(
            `Cannot load ${what}: fixture row ${i}, class ${this.manifest.classes[j]}: ` +
              `${got[i * this.classes + j]} here, ${want} when trained`,
          );
        }
      }
    }
  }
}

/** How soon waiting rows are scored, shared by a service's batchers. */
interface Pace {
  eager: boolean;
}

/** Row after row of one model's requests, scored together. */
class Batcher {
  model: LoadedModel;
  #o: ModelSettings;
  #telemetry: ModelTelemetry;
  #rows: Float32Array;
  #waiting: { resolve: (p: Float32Array) => void; reject: (e: unknown) => void }[] = [];
  #queued: Float32Array[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Batches running now (a swap waits for them before freeing the old session). */
  running = new Set<Promise<void>>();
  /** A candidate version scored beside this one, its answers only compared. */
  shadow: LoadedModel | null = null;
  /** The shadow's rows so far: agreeing, disagreeing, failed. */
  shadowCounts = { agree: 0, disagree: 0, error: 0 };

  #pace: Pace;
  /** A flush is due at the end of the current task (eager). */
  #soon = false;

  constructor(model: LoadedModel, o: ModelSettings, telemetry: ModelTelemetry, pace: Pace) {
    this.model = model;
    this.#o = o;
    this.#telemetry = telemetry;
    this.#pace = pace;
    this.#rows = new Float32Array(o.max_batch_rows * model.width);
  }

  /** Rows asked for and not yet answered (waiting or in a running batch). */
  #pending = 0;

  score(features: Float32Array): Promise<Float32Array> {
    const m = this.model.manifest;
    if (features.length !== this.model.width) {
      return Promise.reject(
        new ModelError(
          `Cannot score with model ${m.name}: ${features.length} features given, ${this.model.width} expected`,
        ),
      );
    }
    if (this.#pending >= this.#o.max_queued_rows) {
      return Promise.reject(
        new ModelError(
          `Cannot score with model ${m.name}: ${this.#pending} rows already wait (VIGIL_MODELS_MAX_QUEUED_ROWS)`,
        ),
      );
    }
    this.#pending++;
    const { promise, resolve, reject } = Promise.withResolvers<Float32Array>();
    this.#queued.push(features);
    this.#waiting.push({ resolve, reject });
    if (this.#queued.length >= this.#o.max_batch_rows) this.flush();
    else if (!this.#pace.eager) this.#timer ??= setTimeout(() => this.flush(), this.#o.max_wait_ms);
    else if (!this.#soon) {
      this.#soon = true;
      queueMicrotask(() => {
        this.#soon = false;
        this.flush();
      });
    }
    return promise;
  }

  #countClasses(model: LoadedModel, probs: Float32Array, n: number): void {
    const k = model.classes;
    const counts = new Array<number>(k).fill(0);
    for (let r = 0; r < n; r++) counts[argmax(probs, r, k)]!++;
    counts.forEach((c, j) => {
      if (c > 0) this.#telemetry.predictions(model.manifest.name, model.manifest.classes[j]!, c);
    });
  }

  /** Scores a batch with the shadow too, and counts how often the two agree. */
  async #compare(
    model: LoadedModel,
    probs: Float32Array,
    shadow: LoadedModel,
    input: Float32Array,
    n: number,
  ): Promise<void> {
    const counts = { agree: 0, disagree: 0, error: 0 };
    try {
      const theirs = await shadow.run(input, n);
      for (let r = 0; r < n; r++) {
        const mine = model.manifest.classes[argmax(probs, r, model.classes)];
        const other = shadow.manifest.classes[argmax(theirs, r, shadow.classes)];
        counts[mine === other ? "agree" : "disagree"]++;
      }
    } catch {
      counts.error = n;
    }
    const v = shadow.manifest.version;
    for (const result of ["agree", "disagree", "error"] as const) {
      this.shadowCounts[result] += counts[result];
      if (counts[result] > 0) {
        this.#telemetry.shadowed(model.manifest.name, v, result, counts[result]);
      }
    }
  }

  /** Runs what waits now, in batches of at most `max_batch_rows`. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    while (this.#queued.length > 0) {
      const n = Math.min(this.#queued.length, this.#o.max_batch_rows);
      const rows = this.#queued.splice(0, n);
      const waiting = this.#waiting.splice(0, n);
      const input = this.running.size === 0 ? this.#rows : new Float32Array(n * this.model.width);
      rows.forEach((r, i) => input.set(r, i * this.model.width));
      const model = this.model;
      model.drift?.observe(input, n, model.width);
      const started = performance.now();
      const run = model.run(input, n).then((probs) => {
        this.#telemetry.inferenceBatch(
          model.manifest.name,
          model.manifest.version,
          n,
          (performance.now() - started) / 1000,
        );
        const k = model.classes;
        this.#pending -= n;
        this.#countClasses(model, probs, n);
        waiting.forEach((w, i) => w.resolve(probs.slice(i * k, (i + 1) * k)));
        const shadow = this.shadow;
        if (shadow) return this.#compare(model, probs, shadow, input.slice(0, n * model.width), n);
      }, (err) => {
        this.#pending -= n;
        this.#telemetry.inferenceFailed?.(model.manifest.name, model.manifest.version, n);
        for (const w of waiting) w.reject(err);
      });
      this.running.add(run);
      run.finally(() => this.running.delete(run));
    }
  }
}

/** The models this process serves: the active version of each, behind `Inference`. */
export class ModelService implements Inference {
  #o: ModelSettings;
  #telemetry: ModelTelemetry;
  #active = new Map<string, Batcher>();
  #pace: Pace = { eager: false };
  /** Loads in progress, one per model at a time. */
  #loading = new Map<string, Promise<LoadedModel>>();

  constructor(o: ModelSettings, telemetry: ModelTelemetry = noModelTelemetry) {
    this.#o = o;
    this.#telemetry = telemetry;
  }

  /**
   * Loads a version and makes it the active one, atomically: rows already waiting are
   * scored by the version they were queued for, later ones by the new one; the old session
   * is freed after its last batch. A version that fails its checks is refused (ModelError)
   * and the active one keeps serving.
   */
  async activate(name: string, version: string): Promise<ModelManifest> {
    if (this.#loading.has(name)) {
      throw new ModelError(`Cannot load model ${name} v${version}: another load of it is running`);
    }
    const loading = LoadedModel.load(this.#o.dir, name, version, this.#o);
    this.#loading.set(name, loading);
    let model: LoadedModel;
    try {
      model = await loading;
    } finally {
      this.#loading.delete(name);
    }
    const old = this.#active.get(name);
    this.#active.set(name, new Batcher(model, this.#o, this.#telemetry, this.#pace));
    this.#telemetry.modelActivated(name, version);
    if (old) {
      old.flush();
      await Promise.all(old.running);
      await old.model.release().catch(() => {});
      await old.shadow?.release().catch(() => {});
    }
    return model.manifest;
  }

  /**
   * Loads a candidate version (with the same checks) and scores every batch with it too,
   * beside the active one: only their agreement is counted; actors get the active answers.
   */
  async shadow(name: string, version: string): Promise<ModelManifest> {
    const b = this.#active.get(name);
    if (!b) throw new ModelError(`Cannot shadow model ${name}: no version of it is active`);
    const candidate = await LoadedModel.load(this.#o.dir, name, version, this.#o);
    if (candidate.width !== b.model.width) {
      await candidate.release();
      throw new ModelError(
        `Cannot shadow model ${name} v${version}: it reads ${candidate.width} features, the active one ${b.model.width}`,
      );
    }
    const old = b.shadow;
    b.shadow = candidate;
    b.shadowCounts = { agree: 0, disagree: 0, error: 0 };
    if (old) {
      await Promise.all(b.running);
      await old.release().catch(() => {});
    }
    return candidate.manifest;
  }

  /** Stops shadow scoring of a model; false if there was none. */
  async unshadow(name: string): Promise<boolean> {
    const b = this.#active.get(name);
    const old = b?.shadow;
    if (!b || !old) return false;
    b.shadow = null;
    await Promise.all(b.running);
    await old.release().catch(() => {});
    return true;
  }

  /** The shadow version of a model and its agreement so far, or null. */
  shadowOf(
    name: string,
  ): { version: string; agree: number; disagree: number; error: number } | null {
    const b = this.#active.get(name);
    if (!b?.shadow) return null;
    return { version: b.shadow.manifest.version, ...b.shadowCounts };
  }

  /** The active version's manifest, or null. */
  manifest(name: string): ModelManifest | null {
    return this.#active.get(name)?.model.manifest ?? null;
  }

  /** Each active model's drift: rows seen and each feature's PSI against training. */
  drift(): {
    model: string;
    version: string;
    rows: number;
    features: { feature: string; psi: number }[];
  }[] {
    return [...this.#active].flatMap(([name, b]) => {
      const d = b.model.drift;
      return d
        ? [{ model: name, version: b.model.manifest.version, rows: d.rows, features: d.psi() }]
        : [];
    });
  }

  /** The models served: name → active version. */
  list(): Record<string, string> {
    return Object.fromEntries([...this.#active].map(([n, b]) => [n, b.model.manifest.version]));
  }

  infer(model: string, features: Float32Array): Promise<Float32Array> {
    const b = this.#active.get(model);
    if (!b) return Promise.reject(new ModelError(`Cannot score: model ${model} is not loaded`));
    return b.score(features);
  }

  /**
   * Eager: rows are scored as soon as the task that asked for them yields, instead of
   * after up to `max_wait_ms` for more. A replay sets it: it feeds events as fast as it
   * can, and a turn waiting for a score holds its actor, whose next flow would otherwise
   * wait out the timer again.
   */
  set eager(on: boolean) {
    this.#pace.eager = on;
  }

  get eager(): boolean {
    return this.#pace.eager;
  }

  /** The settings the service was made with (where it loads models from, its limits). */
  get settings(): ModelSettings {
    return this.#o;
  }

  /** The active version of each model, by name. */
  activeVersions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, b] of this.#active) out[name] = b.model.manifest.version;
    return out;
  }

  /** Scores what waits, waits for every batch, frees every session. */
  async close(): Promise<void> {
    for (const b of this.#active.values()) b.flush();
    await Promise.all([...this.#active.values()].flatMap((b) => [...b.running]));
    for (const b of this.#active.values()) {
      await b.model.release().catch(() => {});
      await b.shadow?.release().catch(() => {});
    }
    this.#active.clear();
  }
}

/** The versions present for a model (`v<version>.manifest.json`), oldest first. */
export async function versionsOf(dir: string, name: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/${name}`)) {
      const m = /^v(.+)\.manifest\.json$/.exec(e.name);
      if (m) out.push(m[1]!);
    }
  } catch {
    return [];
  }
  return out.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

/** The most likely class of row `r` of `k`-wide probabilities. */
function argmax(probs: Float32Array, r: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (probs[r * k + j]! > probs[r * k + best]!) best = j;
  return best;
}

function fixtureValue(v: number | string | null): number {
  if (v === null) return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return v as number;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new ModelError(`Cannot load ${what}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelError(`Cannot load ${what}: ${path} is not JSON: ${(err as Error).message}`);
  }
}

async function readFixtures(path: string, what: string): Promise<Fixtures | null> {
  try {
    await Deno.stat(path);
  } catch {
    return null;
  }
  const f = await readJson(path, what) as Partial<Fixtures>;
  if (!Array.isArray(f.rows) || !Array.isArray(f.probabilities)) {
    throw new ModelError(`Cannot load ${what}: ${path} needs "rows" and "probabilities"`);
  }
  return f as Fixtures;
}

function checkManifest(value: unknown, name: string, version: string): ModelManifest {
  const what = `model ${name} v${version}`;
  const m = value as Partial<ModelManifest>;
  const fail = (why: string): never => {
    throw new ModelError(`Cannot load ${what}: its manifest ${why}`);
  };
  if (typeof m !== "object" || m === null) fail("is not an object");
  if (m.name !== name) fail(`names ${JSON.stringify(m.name)}`);
  if (m.version !== version) fail(`says version ${JSON.stringify(m.version)}`);
  if (typeof m.file !== "string" || m.file.includes("/")) fail("needs a file name");
  if (typeof m.sha256 !== "string") fail("needs the file's sha256");
  if (!Array.isArray(m.features) || m.features.length === 0) fail("needs features");
  if (!Array.isArray(m.classes) || m.classes.length === 0) fail("needs classes");
  if (m.input?.dtype !== "float32" || typeof m.input.name !== "string") {
    fail("needs a float32 input");
  }
  if (m.input!.shape?.[1] !== m.features!.length) {
    fail(`has input width ${m.input!.shape?.[1]} for ${m.features!.length} features`);
  }
  if (m.output?.dtype !== "float32" || typeof m.output.name !== "string") {
    fail("needs a float32 output");
  }
  if (m.output!.shape?.[1] !== m.classes!.length) {
    fail(`has output width ${m.output!.shape?.[1]} for ${m.classes!.length} classes`);
  }
  if (typeof m.thresholds?.default !== "number") fail("needs a default threshold");
  return m as ModelManifest;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}
