/**
 * A small command-line parser: `--name value`, `--name=value` and bare `--flag`.
 *
 * @module
 */

/** A flag that cannot be used. */
export class UsageError extends Error {}

/** Parsed flags. */
export class Args {
  #values = new Map<string, string>();
  #used = new Set<string>();

  constructor(argv: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (!a.startsWith("--")) throw new UsageError(`Unexpected argument "${a}"`);
      const eq = a.indexOf("=");
      if (eq > 0) this.#values.set(a.slice(2, eq), a.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) {
        this.#values.set(a.slice(2), argv[++i]!);
      } else this.#values.set(a.slice(2), "true");
    }
  }

  /** A string flag. */
  string(name: string): string | undefined {
    this.#used.add(name);
    return this.#values.get(name);
  }

  /** A number flag. */
  number(name: string, fallback: number): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const n = Number(v.replaceAll("_", ""));
    if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`);
    return n;
  }

  /** A boolean flag. */
  flag(name: string): boolean {
    return this.string(name) === "true";
  }

  /** Fails on flags nobody asked for (typos). */
  checkAllUsed(): void {
    for (const k of this.#values.keys()) {
      if (!this.#used.has(k)) throw new UsageError(`Unknown flag --${k}`);
    }
  }
}
