/**
 * Test helper: waiting for something that happens asynchronously.
 *
 * @module
 */

/** Polls `probe` every `every_ms` until it returns a value, for at most `ms`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 5_000,
  every_ms = 20,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every_ms));
  }
}
