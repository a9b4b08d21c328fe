import assert from "node:assert/strict";
import { loadConfig, settings } from "../../config/load.ts";
import { maskUri, shownValue } from "../../config/secrets.ts";

Deno.test("maskUri() hides the password of a URI and password-like options", () => {
  const cases: [string, string][] = [
    [
      "mongodb://vigil:s3cr%40t@db:27017/vigil?tls=true&tlsCAFile=/etc/vigil/ca.pem",
      "mongodb://vigil:***@db:27017/vigil?tls=true&tlsCAFile=/etc/vigil/ca.pem",
    ],
    [
      "mongodb://u:p@a:27017,b:27017/?replicaSet=rs&tlsCertificateKeyFilePassword=k3y",
      "mongodb://u:***@a:27017,b:27017/?replicaSet=rs&tlsCertificateKeyFilePassword=***",
    ],
    ["mongodb+srv://u:p@cluster.example.net/", "mongodb+srv://u:***@cluster.example.net/"],
    ["https://hooks.example.net/x?token=abc&a=1", "https://hooks.example.net/x?token=***&a=1"],
    [
      "mongodb://127.0.0.1:27017/?directConnection=true",
      "mongodb://127.0.0.1:27017/?directConnection=true",
    ],
    ["mongodb://user@db/", "mongodb://user@db/"],
    ["", ""],
  ];
  for (const [uri, shown] of cases) assert.equal(maskUri(uri), shown, uri);
});

Deno.test("shownValue() hides every secret setting and URI password", () => {
  const config = loadConfig({
    KAFKA_SASL_MECHANISM: "PLAIN",
    KAFKA_SASL_USERNAME: "vigil",
    KAFKA_SASL_PASSWORD: "kafka-pw",
    MONGODB_URI: "mongodb://vigil:mongo-pw@db:27017/vigil",
    VIGIL_NOTIFY_WEBHOOK_SECRET: "hmac-key",
    VIGIL_NOTIFY_SLACK_URL: "https://hooks.slack.com/services/T0/B0/slack-token",
    VIGIL_NOTIFY_ALERTMANAGER_URL: "http://am:am-pw@alertmanager:9093",
  });
  const shown = new Map(settings(config).map((s) => [s.variable, shownValue(s)]));
  const text = [...shown].map(([k, v]) => `${k}=${v}`).join("\n");
  for (const secret of ["kafka-pw", "mongo-pw", "hmac-key", "slack-token", "am-pw"]) {
    assert.doesNotMatch(text, new RegExp(secret), secret);
  }
  assert.equal(shown.get("VIGIL_IO_KAFKA_SASL_PASSWORD"), "***");
  assert.equal(shown.get("VIGIL_IO_KAFKA_SASL_USERNAME"), "vigil");
  assert.equal(shown.get("VIGIL_IO_MONGODB_URI"), "mongodb://vigil:***@db:27017/vigil");
  assert.equal(shown.get("VIGIL_NOTIFY_ALERTMANAGER_URL"), "http://am:***@alertmanager:9093");
  assert.equal(shown.get("VIGIL_IO_KAFKA_CONNECT_BACKOFF_MAX_MS"), "30000");
  // An unset secret is shown empty, so one sees it is not set.
  assert.equal(shownValue(settings().find((s) => s.path === "io.kafka_sasl_password")!), "");
});
