/**
 * A small command-line parser (`--name value`, `--name=value` and bare `--flag`), and
 * the checks commands make of what they are given: numbers in range, files that can be
 * read or written. What the user got wrong is an error of its own, which `main.ts`
 * prints as one line, with no stack.
 *
 * @module
 */

/** A flag or value that cannot be used (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A command that cannot go on: a file it cannot read or write, a port in use (exit 1). */
export class CommandError extends Error {
  override name = "CommandError";
}

/** What a number flag may be. */
export interface NumberRange {
  /** Smallest value allowed. */
  min?: number;
  /** Largest value allowed. */
  max?: number;
  /** Values must be larger than this. */
  above?: number;
  /** Whole numbers only. */
  integer?: boolean;
}

/** Parsed flags. */
export class Args {
  /** Flag → value; null for a bare flag. */
  #values = new Map<string, string | null>();
  #used = new Set<string>();

  constructor(argv: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (!a.startsWith("--") || a === "--") throw new UsageError(`Unexpected argument "${a}"`);
      const eq = a.indexOf("=");
      if (eq > 0) this.#values.set(a.slice(2, eq), a.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) {
        this.#values.set(a.slice(2), argv[++i]!);
      } else this.#values.set(a.slice(2), null);
    }
  }

  /** A string flag; a bare one (no value) is refused. */
  string(name: string): string | undefined {
    this.#used.add(name);
    const v = this.#values.get(name);
    if (v === null) throw new UsageError(`--${name} needs a value`);
    return v;
  }

  /**
   * A number flag, checked against `range`.
   *
   * @example
   * ```ts
   * import { Args } from "./args.ts";
   * new Args(["--users", "500"]).number("users", 100, { min: 1, integer: true }); // 500
   * ```
   */
  number(name: string, fallback: number, range: NumberRange = {}): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const n = v.trim() === "" ? NaN : Number(v.replaceAll("_", ""));
    const fits = Number.isFinite(n) && (!range.integer || Number.isInteger(n)) &&
      (range.min === undefined || n >= range.min) &&
      (range.max === undefined || n <= range.max) &&
      (range.above === undefined || n > range.above);
    if (!fits) throw new UsageError(`--${name} must be ${describe(range)}, got "${v}"`);
    return n;
  }

  /** A boolean flag: bare, `true` or `false`. */
  flag(name: string): boolean {
    this.#used.add(name);
    const v = this.#values.get(name);
    if (v === undefined || v === "false") return false;
    if (v === null || v === "true") return true;
    throw new UsageError(`--${name} takes no value, got "${v}"`);
  }

  /** Fails on flags nobody asked for (typos). */
  checkAllUsed(): void {
    for (const k of this.#values.keys()) {
      if (!this.#used.has(k)) throw new UsageError(`Unknown flag --${k}`);
    }
  }
}

function describe(r: NumberRange): string {
  const kind = r.integer ? "a whole number" : "a number";
  const bounds: string[] = [];
  if (r.above !== undefined) bounds.push(`above ${r.above}`);
  if (r.min !== undefined && r.max !== undefined) bounds.push(`from ${r.min} to ${r.max}`);
  else if (r.min !== undefined) bounds.push(`of at least ${r.min}`);
  else if (r.max !== undefined) bounds.push(`of at most ${r.max}`);
  return [kind, ...bounds].join(" ");
}

/** Why a path cannot be used, in words, from the error a file operation threw. */
export function fileProblem(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file or directory";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (err instanceof Deno.errors.NotADirectory) return "a part of the path is not a directory";
  return (err as Error).message.split("\n")[0]!;
}

/** Throws a CommandError unless `path` (given as `--flag`) is a file that can be read. */
export async function checkReadable(flag: string, path: string): Promise<void> {
  const fail = (why: string): never => {
    throw new CommandError(`Cannot read --${flag} ${path}: ${why}`);
  };
  try {
    const info = await Deno.stat(path);
    if (info.isDirectory) fail("it is a directory");
    (await Deno.open(path, { read: true })).close();
  } catch (err) {
    if (err instanceof CommandError) throw err;
    fail(fileProblem(err));
  }
}

/**
 * Throws a CommandError unless `path` (given as `--flag`) can be written: not a
 * directory, in a directory that exists. Nothing is created.
 */
export async function checkWritable(flag: string, path: string): Promise<void> {
  const fail = (why: string): never => {
    throw new CommandError(`Cannot write --${flag} ${path}: ${why}`);
  };
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  try {
    const info = await Deno.stat(path).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    });
    if (info?.isDirectory) fail("it is a directory");
    if (!(await Deno.stat(dir)).isDirectory) fail(`${dir} is not a directory`);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    fail(err instanceof Deno.errors.NotFound ? `no directory ${dir}` : fileProblem(err));
  }
}
