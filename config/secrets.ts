/**
 * Which settings are secrets, and how a value is shown where people read it (logs,
 * `main.ts config`): a secret as `***`, and the password in any URI (a MongoDB connection
 * string, a webhook URL with credentials) and password-like URI options as `***`.
 *
 * @module
 */

import type { Setting } from "./load.ts";

/** What a hidden value is shown as. */
export const MASK = "***";

/** Settings whose whole value is a secret. */
const SECRET_PATHS: ReadonlySet<string> = new Set([
  "io.kafka_sasl_password",
  "notify.webhook_secret",
  // An incoming-webhook URL is its own credential.
  "notify.slack_url",
]);

/** `scheme://user:password@` at the start of a URI. */
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^/?#]*@/i;
/** URI options whose value is a secret (`tlsCertificateKeyFilePassword=…`, `token=…`). */
const SECRET_OPTION = /([?&][^=&#]*(?:password|secret|token)[^=&#]*=)[^&#]*/gi;

/**
 * `text` with the password of a URI in it, and the values of its password-like options,
 * replaced by `***`.
 *
 * @example
 * ```ts
 * import { maskUri } from "./secrets.ts";
 * maskUri("mongodb://vigil:s3cret@db:27017/vigil?tls=true"); // "mongodb://vigil:***@db:27017/vigil?tls=true"
 * ```
 */
export function maskUri(text: string): string {
  return text.replace(USER_INFO, `$1:${MASK}@`).replace(SECRET_OPTION, `$1${MASK}`);
}

/** Whether a setting's whole value is a secret. */
export function isSecret(path: string): boolean {
  return SECRET_PATHS.has(path);
}

/** A setting's value as it may be shown: a set secret as `***`, URIs without passwords. */
export function shownValue(s: Setting): string {
  if (typeof s.value !== "string") return String(s.value);
  if (isSecret(s.path) && s.value !== "") return MASK;
  return maskUri(s.value);
}
