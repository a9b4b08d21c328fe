/**
 * A ticket counts the messages of one input batch that are still being handled, so
 * that the batch's offsets are committed only once every one of them is done.
 *
 * @module
 */

/** Outstanding work of one batch. */
export class Ticket {
  /**
   * True for a batch read again only to rebuild state (its effects were made durable
   * before): alerts raised while handling it are not published again.
   */
  readonly replay: boolean;
  #pending = 0;
  #resolve: (() => void) | undefined;
  #promise: Promise<void> | undefined;

  constructor(options: { replay?: boolean } = {}) {
    this.replay = options.replay ?? false;
  }

  /** One more message (or follow-up message) belongs to this batch. */
  add(n = 1): void {
    this.#pending += n;
  }

  /** One message of this batch is done. */
  done(): void {
    if (--this.#pending === 0 && this.#resolve) {
      this.#resolve();
      this.#resolve = undefined;
      this.#promise = undefined;
    }
  }

  /** Messages still being handled. */
  get pending(): number {
    return this.#pending;
  }

  /** Resolves once nothing is pending (at once if nothing is). */
  settled(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    this.#promise ??= new Promise<void>((resolve) => this.#resolve = resolve);
    return this.#promise;
  }
}
