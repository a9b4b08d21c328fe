/**
 * Progress of a long command (`replay`, `simulate`, `aggregate`) on stderr: on an
 * interactive terminal one line rewritten in place (done, rate, time left), at most five
 * times a second; otherwise (a pipe, a log file, CI) one line as each stage begins and one
 * when it ends, so a log is not flooded.
 *
 * @module
 */

/** Where progress goes: stderr by default. */
export interface ProgressOut {
  writeSync(bytes: Uint8Array): number;
  isTerminal(): boolean;
}

/** What is counted. */
export type ProgressUnit = "bytes" | "events" | "days";

const encoder = new TextEncoder();

/** Progress of one command. */
export class Progress {
  readonly #what: string;
  readonly #unit: ProgressUnit;
  readonly #out: ProgressOut;
  readonly #tty: boolean;
  readonly #now: () => number;
  readonly #every_ms: number;
  #total: number | null;
  #done = 0;
  #stage = "";
  #stageAt: number;
  #began: number;
  #shownAt = -Infinity;
  #shown = false;

  constructor(
    what: string,
    o: {
      unit: ProgressUnit;
      total?: number;
      out?: ProgressOut;
      now?: () => number;
      every_ms?: number;
    },
  ) {
    this.#what = what;
    this.#unit = o.unit;
    this.#total = o.total ?? null;
    this.#out = o.out ?? Deno.stderr;
    this.#tty = this.#out.isTerminal();
    this.#now = o.now ?? (() => performance.now());
    this.#every_ms = o.every_ms ?? 200;
    this.#began = this.#stageAt = this.#now();
  }

  /** A stage begins (`reading`, `writing`): a line of its own when not on a terminal. */
  stage(name: string, total?: number): void {
    this.#stage = name;
    this.#stageAt = this.#now();
    if (total !== undefined) this.#total = total;
    if (this.#tty) this.#show(true);
    else {this.#line(
        `${this.#what}: ${name}${this.#total !== null ? ` (${this.#amount(this.#total)})` : ""}`,
      );}
  }

  /** `n` more done. */
  advance(n: number): void {
    this.#done += n;
    if (this.#tty) this.#show(false);
  }

  /** The command ended: its summary on a line of its own. */
  done(summary: string): void {
    const s = ((this.#now() - this.#began) / 1000).toFixed(1);
    if (this.#tty && this.#shown) this.#write("\r\x1b[2K");
    this.#line(`${this.#what}: done in ${s} s${summary ? `: ${summary}` : ""}`);
  }

  /** The line a terminal shows now. */
  status(): string {
    const elapsed = (this.#now() - this.#stageAt) / 1000;
    const rate = elapsed > 0 ? this.#done / elapsed : 0;
    const parts = [
      this.#total !== null && this.#total > 0
        ? `${this.#amount(this.#done)} of ${this.#amount(this.#total)} (${
          Math.min(100, Math.floor(100 * this.#done / this.#total))
        } %)`
        : this.#amount(this.#done),
    ];
    if (rate > 0) parts.push(`${this.#amount(rate)}/s`);
    if (this.#total !== null && rate > 0 && this.#done < this.#total) {
      parts.push(`${Math.ceil((this.#total - this.#done) / rate)} s left`);
    }
    return `${this.#what}${this.#stage ? ` ${this.#stage}` : ""}: ${parts.join(" · ")}`;
  }

  #show(force: boolean): void {
    const now = this.#now();
    if (!force && now - this.#shownAt < this.#every_ms) return;
    this.#shownAt = now;
    this.#shown = true;
    this.#write(`\r\x1b[2K${this.status()}`);
  }

  #line(text: string): void {
    this.#write(text + "\n");
  }

  #write(text: string): void {
    try {
      this.#out.writeSync(encoder.encode(text));
    } catch {
      // stderr closed: progress is not worth failing the command for
    }
  }

  #amount(n: number): string {
    if (this.#unit === "bytes") {
      const mb = n / 1e6;
      return mb >= 1_000 ? `${(mb / 1_000).toFixed(2)} GB` : `${mb.toFixed(1)} MB`;
    }
    return `${Math.round(n).toLocaleString("en-US")} ${this.#unit}`;
  }
}
