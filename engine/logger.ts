/**
 * Structured logs: one JSON object per line on stderr (stdout is kept for alerts when
 * they are written there).
 *
 * @module
 */

const encoder = new TextEncoder();

/** Writes one log line. */
export function log(
  level: "info" | "warn" | "error",
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}
