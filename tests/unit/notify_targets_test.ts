import assert from "node:assert/strict";
import { defaults } from "../../config/defaults.ts";
import type { Alert } from "../../events/types.ts";
import { alertmanagerValue, clip, slackEscape, targetsOf } from "../../io/notify_targets.ts";

const HOSTILE = "<!channel> <https://evil.example|Click here> & <@U123>";

function alert(over: Partial<Alert> = {}): Alert {
  return {
    alert_id: "a-1",
    rule: "auth.brute_force",
    severity: "critical",
    entity: { type: "user", key: HOSTILE },
    timestamp: "2026-01-05T08:00:00.000Z",
    detected_at: "2026-01-05T08:00:01.000Z",
    evidence: { user_agent: "<!here> <mailto:x@evil.example|mail>", failures: 5 },
    event_ids: ["e1"],
    mode: "enforce",
    ...over,
  };
}

/** The bodies every target sends for `alerts`, by target name. */
async function bodies(alerts: Alert[]): Promise<Record<string, string>> {
  const targets = targetsOf({
    ...defaults.notify,
    slack_url: "http://127.0.0.1:1/slack",
    webhook_url: "http://127.0.0.1:1/hook",
    alertmanager_url: "http://127.0.0.1:1",
  });
  const out: Record<string, string> = {};
  for (const t of targets) out[t.name] = (await t.request(alerts)).body;
  return out;
}

Deno.test("slackEscape() leaves no <, > or raw & for mrkdwn to make a mention or link of", () => {
  assert.equal(
    slackEscape(HOSTILE),
    "&lt;!channel&gt; &lt;https://evil.example|Click here&gt; &amp; &lt;@U123&gt;",
  );
  assert.equal(slackEscape("&lt;"), "&amp;lt;", "an entity in the input stays text");
});

Deno.test("Slack payload: a hostile user_id and evidence reach the text and blocks escaped, never as <!channel> or a link", async () => {
  const slack = JSON.parse((await bodies([alert()])).slack!);
  const texts = [slack.text, ...slack.blocks.map((b: { text: { text: string } }) => b.text.text)];
  for (const text of texts) {
    assert.doesNotMatch(text, /[<>]/, text);
    assert.doesNotMatch(text, /&(?!amp;|lt;|gt;)/, `every & is an entity: ${text}`);
  }
  assert.match(slack.text, /on user &lt;!channel&gt; &lt;https:\/\/evil\.example\|Click here&gt;/);
  assert.match(slack.blocks[0].text.text, /&lt;!here&gt; &lt;mailto:/, "evidence too");
});

Deno.test("Slack payload: a field of 100,000 characters is cut, so the message stays within Slack's limits", async () => {
  const slack = JSON.parse(
    (await bodies([alert({ entity: { type: "user", key: "x".repeat(100_000) } })])).slack!,
  );
  assert.ok(slack.text.length < 400, `${slack.text.length} characters`);
  assert.match(slack.text, /x…/);
  assert.ok(slack.blocks[0].text.text.length < 3_000, "a section's text is at most 3,000");
});

Deno.test("alertmanagerValue() removes control characters and bounds the length", () => {
  assert.equal(
    alertmanagerValue('alice\n\r\tseverity="none"\u0000\u007f\u0085\u2028', 256),
    'aliceseverity="none"',
  );
  assert.equal(alertmanagerValue("y".repeat(1_000), 256).length, 256);
  assert.equal(clip("ab😀cd", 4), "ab😀…", "cut by code points, not halves of a pair");
});

Deno.test("Alertmanager payload: labels and annotations carry no control characters and are bounded", async () => {
  const key = `mallory\n${"k".repeat(5_000)}`;
  const [am] = JSON.parse(
    (await bodies([alert({
      entity: { type: "user", key },
      evidence: { note: "line1\nline2\u0000", big: "z".repeat(10_000) },
    })])).alertmanager!,
  );
  for (const [name, v] of Object.entries({ ...am.labels, ...am.annotations })) {
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(v as string, /[\u0000-\u001f\u007f-\u009f]/, name);
  }
  for (const v of Object.values(am.labels)) assert.ok((v as string).length <= 256);
  assert.ok(am.labels.entity_key.startsWith("mallorykkk"));
  assert.ok(am.annotations.evidence.length <= 4_096);
  assert.equal(am.labels.alertname, "auth.brute_force");
});

Deno.test("Webhook payload: the alert goes as JSON, exactly as it is", async () => {
  const a = alert();
  assert.deepEqual(JSON.parse((await bodies([a])).webhook!), { alerts: [a] });
});
