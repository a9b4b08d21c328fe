/**
 * What each notification target is sent, written for its format. Alerts carry what the
 * events said (a `user_id`, a service name, evidence from the input), so every field is
 * escaped for the format it lands in: Slack mrkdwn turns `<!channel>` into a mention and
 * `<https://…|text>` into a link, so `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`;
 * Alertmanager labels and annotations get no control characters and a bounded length;
 * the generic webhook's JSON is JSON-encoded as it is.
 *
 * @module
 */

import type { NotifySettings } from "../config/defaults.ts";
import type { Alert, Severity } from "../events/types.ts";

/** What a target sends: URL, body and headers for a batch of alerts. */
export interface Target {
  name: "slack" | "webhook" | "alertmanager";
  min_severity: Severity;
  request(
    alerts: readonly Alert[],
  ): Promise<{ url: string; body: string; headers: Record<string, string> }>;
}

/** Longest field (entity key, rule…) put in a summary, in characters. */
const MAX_FIELD_CHARS = 200;
/** Longest Alertmanager label value. */
const MAX_LABEL_CHARS = 256;
/** Longest Alertmanager annotation. */
const MAX_ANNOTATION_CHARS = 4_096;
/** Evidence shown in one Slack block, before escaping. */
const MAX_SLACK_EVIDENCE_CHARS = 500;

/** `text` cut to `max` characters (code points), with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = [...text];
  return points.length <= max ? text : points.slice(0, max - 1).join("") + "…";
}

/**
 * Text that Slack's mrkdwn shows as it is: no mention (`<!channel>`, `<@U…>`), link
 * (`<url|label>`) or entity can be formed.
 *
 * @example
 * ```ts
 * import { slackEscape } from "./notify_targets.ts";
 * slackEscape("<!channel> <https://evil.example|Click here>");
 * // "&lt;!channel&gt; &lt;https://evil.example|Click here&gt;"
 * ```
 */
export function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * A value for an Alertmanager label or annotation: control characters (C0, DEL, C1, and
 * the Unicode line and paragraph separators) removed, at most `max` characters.
 *
 * @example
 * ```ts
 * import { alertmanagerValue } from "./notify_targets.ts";
 * alertmanagerValue("alice\nseverity=\"none\"", 256); // 'aliceseverity="none"'
 * ```
 */
export function alertmanagerValue(text: string, max: number): string {
  // deno-lint-ignore no-control-regex
  return clip(text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ""), max);
}

/**
 * A one-line summary of an alert for people, each field from the input passed through
 * `field` (the target's escaping) after it is cut to a bounded length.
 */
export function summary(a: Alert, field: (text: string) => string = (t) => t): string {
  const f = (text: string) => field(clip(text, MAX_FIELD_CHARS));
  const entity = `${f(a.entity.type)} ${f(a.entity.key)}`;
  const score = a.score !== undefined ? ` (score ${a.score})` : "";
  return `[${a.severity.toUpperCase()}] ${f(a.rule)} on ${entity}${score} at ${f(a.timestamp)}`;
}

/** One Slack section: the summary in bold, the alert id and the start of the evidence. */
function slackBlock(a: Alert): string {
  const evidence = clip(JSON.stringify(a.evidence), MAX_SLACK_EVIDENCE_CHARS);
  return `*${summary(a, slackEscape)}*\n\`${slackEscape(clip(a.alert_id, MAX_FIELD_CHARS))}\` ${
    slackEscape(evidence)
  }`;
}

/** One alert as Alertmanager's v2 API takes it. */
function alertmanagerAlert(a: Alert) {
  const label = (text: string) => alertmanagerValue(text, MAX_LABEL_CHARS);
  const note = (text: string) => alertmanagerValue(text, MAX_ANNOTATION_CHARS);
  return {
    labels: {
      alertname: label(a.rule),
      severity: label(a.severity),
      entity_type: label(a.entity.type),
      entity_key: label(a.entity.key),
      alert_id: label(a.alert_id),
    },
    annotations: { summary: note(summary(a)), evidence: note(JSON.stringify(a.evidence)) },
    startsAt: a.timestamp,
  };
}

/** The targets the settings name (none: notifications are off). */
export function targetsOf(s: NotifySettings): Target[] {
  const out: Target[] = [];
  if (s.slack_url) {
    out.push({
      name: "slack",
      min_severity: s.slack_min_severity as Severity,
      request: (alerts) =>
        Promise.resolve({
          url: s.slack_url,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            text: alerts.map((a) => summary(a, slackEscape)).join("\n"),
            blocks: alerts.slice(0, 20).map((a) => ({
              type: "section",
              text: { type: "mrkdwn", text: slackBlock(a) },
            })),
          }),
        }),
    });
  }
  if (s.webhook_url) {
    out.push({
      name: "webhook",
      min_severity: s.webhook_min_severity as Severity,
      request: async (alerts) => {
        const body = JSON.stringify({ alerts });
        const ts = String(Math.floor(Date.now() / 1000));
        const headers: Record<string, string> = {
          "content-type": "application/json",
          "x-vigil-timestamp": ts,
        };
        if (s.webhook_secret) {
          headers["x-vigil-signature"] = `sha256=${await hmac(s.webhook_secret, `${ts}.${body}`)}`;
        }
        return { url: s.webhook_url, body, headers };
      },
    });
  }
  if (s.alertmanager_url) {
    out.push({
      name: "alertmanager",
      min_severity: s.alertmanager_min_severity as Severity,
      request: (alerts) =>
        Promise.resolve({
          url: new URL("/api/v2/alerts", s.alertmanager_url).toString(),
          headers: { "content-type": "application/json" },
          body: JSON.stringify(alerts.map(alertmanagerAlert)),
        }),
    });
  }
  return out;
}

/** HMAC-SHA256 of `text` under `key`, hex. */
export async function hmac(key: string, text: string): Promise<string> {
  const enc = new TextEncoder();
  const k = await crypto.subtle.importKey(
    "raw",
    enc.encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(text)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}
