/**
 * The errors the system throws that its callers tell apart (the API answers 404 and 503
 * with `Retry-After`).
 *
 * @module
 */

/** Something asked for that is not there (404). */
export class NotFound extends Error {}

/** Something that cannot be done now, but may be in `retry_after_s` (503 with `Retry-After`). */
export class Unavailable extends Error {
  constructor(message: string, readonly retry_after_s: number) {
    super(message);
    this.name = "Unavailable";
  }
}
