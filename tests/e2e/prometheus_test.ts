/**
 * The operations files checked against the real tools (Debian's Prometheus 2.42,
 * Alertmanager 0.25, promtool and amtool, fetched by `deno task test`): the Prometheus and
 * Alertmanager configs and the alert rules with their unit tests; then a real Prometheus
 * scraping `deno task start` under its simulated traffic, evaluating every alert rule.
 * Needs --allow-all.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { panelQueries } from "../../tools/dashboards.ts";
import { kafkaBrokers, mongoUri, unique } from "../integration/servers.ts";
import { bin, type Prometheus, RULES, startPrometheus } from "./prometheus.ts";
import { get, startProcess, waitFor } from "./workers.ts";

const TOKEN = "e2e-token-prometheus-0123456789";

const DEPLOY = new URL("../../deploy/", import.meta.url).pathname;

/** Runs a tool: its exit code and what it printed. */
async function run(tool: string, args: string[], stdin?: string) {
  const child = new Deno.Command(bin(tool), {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const d = new TextDecoder();
  return { code: out.code, out: d.decode(out.stdout) + d.decode(out.stderr) };
}

Deno.test("promtool and amtool pass the Prometheus config, the alert rules (linted) and their unit tests, and the Alertmanager config, which routes critical alerts to the pager; a broken rule fails", async () => {
  const checks: [string, string[]][] = [
    ["promtool", ["check", "config", `${DEPLOY}prometheus/prometheus.yml`]],
    ["promtool", ["check", "rules", "--lint=all", "--lint-fatal", RULES]],
    ["promtool", ["test", "rules", `${DEPLOY}prometheus/tests/vigil_test.yml`]],
    ["amtool", ["check-config", `${DEPLOY}alertmanager/alertmanager.yml`]],
  ];
  for (const [tool, args] of checks) {
    const r = await run(tool, args);
    assert.equal(r.code, 0, `${tool} ${args.join(" ")}:\n${r.out}`);
  }
  const tests = await run("promtool", [
    "test",
    "rules",
    `${DEPLOY}prometheus/tests/vigil_test.yml`,
  ]);
  assert.match(tests.out, /SUCCESS/);
  // Alertmanager routes each alert by its severity: critical ones page, the rest go to
  // the operators' receiver (amtool resolves the route from the config).
  const groups = parse(await Deno.readTextFile(RULES)).groups as {
    rules: { alert?: string; record?: string; labels?: { severity: string } }[];
  }[];
  const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined) as {
    alert: string;
    labels: { severity: string };
  }[];
  assert.equal(alerts.length, 17);
  for (const a of alerts) {
    const receiver = a.labels.severity === "critical" ? "pager" : "operators";
    const r = await run("amtool", [
      "config",
      "routes",
      "test",
      `--config.file=${DEPLOY}alertmanager/alertmanager.yml`,
      `--verify.receivers=${receiver}`,
      `alertname=${a.alert}`,
      `severity=${a.labels.severity}`,
    ]);
    assert.equal(r.code, 0, `${a.alert} (${a.labels.severity}) should reach ${receiver}: ${r.out}`);
  }
  // The checks can fail: a rule with a broken expression is refused.
  const dir = await Deno.makeTempDir();
  try {
    const broken = (await Deno.readTextFile(RULES)).replace(
      'up{job="vigil"} == 0',
      'up{job="vigil" == 0',
    );
    await Deno.writeTextFile(`${dir}/broken.yml`, broken);
    const r = await run("promtool", ["check", "rules", `${dir}/broken.yml`]);
    assert.notEqual(r.code, 0, r.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

interface PromRule {
  name: string;
  type: "alerting" | "recording";
  query: string;
  health: string;
  lastError?: string;
}

Deno.test({
  name:
    "Prometheus scrapes deno task start on Kafka and MongoDB under simulated traffic: promtool check metrics passes the scrape, every alert rule evaluates without error over series that exist, and every dashboard panel's query returns data",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  // A webhook receiver, so the notifier's figures exist too.
  let notified = 0;
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.text();
    notified++;
    return new Response("ok");
  });
  const id = unique("prom");
  const vigil = startProcess({
    ADMIN_TOKEN: TOKEN,
    VIGIL_SIMULATOR_BACKFILL_S: "900",
    // On Kafka and MongoDB, so the consumer's figures (lag, commits, rebalances) and the
    // checkpoints' exist.
    KAFKA_BROKERS: kafkaBrokers(),
    MONGODB_URI: mongoUri(),
    VIGIL_IO_TOPIC_PREFIX: `${id}.`,
    VIGIL_IO_MONGODB_DATABASE: id,
    VIGIL_IO_KAFKA_GROUP: id,
    VIGIL_IO_CHECKPOINT_INTERVAL_MS: "1000",
    // The raw archive (on by default with MongoDB) is not what this checks, and on
    // mongo-java-server it costs about 130 µs an event (measured): off.
    VIGIL_IO_ARCHIVE_RAW_EVENTS: "false",
    VIGIL_NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${receiver.addr.port}/alerts`,
  });
  const dir = await Deno.makeTempDir();
  let prometheus: Prometheus | null = null;
  try {
    const scrape = await waitFor(
      "Vigil's metrics with alerts in them",
      120_000,
      async () => {
        const r = await get(`${vigil.base}/metrics`);
        return r?.status === 200 && /^vigil_alerts_total\{/m.test(r.text) ? r.text : undefined;
      },
      vigil.exited,
      () => vigil.stderr().slice(-4_000),
    );
    // One invalid event, dead-lettered.
    const bad = await fetch(`${vigil.base}/api/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify([{ kind: "auth", type: "login_failure" }]),
    });
    assert.equal(bad.status, 202, await bad.text());
    const lint = await run("promtool", ["check", "metrics"], scrape);
    assert.equal(lint.code, 0, lint.out);
    assert.equal(lint.out.trim(), "", "no lint problem in the exposition");

    const prom = prometheus = await startPrometheus(dir, new URL(vigil.base).host);
    const { api, query } = prom;
    const exited = () => prom.exited();
    // Every rule evaluated (health "ok", not "unknown" or "err") over a few scrapes.
    const rules = await waitFor(
      "every rule evaluated",
      60_000,
      async () => {
        const up = await query('up{job="vigil"}');
        if (up?.data?.result?.[0]?.value?.[1] !== "1") return undefined;
        const r = await get(`${api}/rules`);
        if (r?.status !== 200) return undefined;
        const all: PromRule[] = JSON.parse(r.text).data.groups.flatMap((g: { rules: PromRule[] }) =>
          g.rules
        );
        return all.length > 0 && all.every((x) => x.health === "ok") ? all : undefined;
      },
      () => exited() || vigil.exited(),
      () => vigil.stderr().slice(-2_000),
    );
    // A live brute force on a user of its own now and then, so the user family's latency
    // series moves within the rate window even when the simulator's traffic raised none of
    // its alerts in the last minutes (ip and click alerts are judged apart).
    let provoked = 0;
    const provoke = async () => {
      if (Date.now() - provoked < 10_000) return;
      provoked = Date.now();
      const user = `prom-${provoked}`;
      const failures = Array.from({ length: 5 }, (_, i) => ({
        kind: "auth",
        type: "login_failure",
        user_id: user,
        ip: "203.0.113.77",
        event_id: `${user}-f${i}`,
        timestamp: new Date(provoked).toISOString(),
      }));
      const r = await fetch(`${vigil.base}/api/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(failures),
      });
      assert.equal(r.status, 202, await r.text());
    };
    const alerts = rules.filter((r) => r.type === "alerting");
    const recorded = new Set(rules.filter((r) => r.type === "recording").map((r) => r.name));
    assert.deepEqual(alerts.map((r) => r.name).sort(), [
      "VigilActorRestartStorm",
      "VigilAlertFlood",
      "VigilAlertLatencyHigh",
      "VigilAlertLatencySlaBreached",
      "VigilConsumerLagHigh",
      "VigilErrorLogsHigh",
      "VigilHighIntrusionRate",
      "VigilInferenceErrors",
      "VigilIngestStalled",
      "VigilModelDriftHigh",
      "VigilNoEventsIngested",
      "VigilRollupFailed",
      "VigilRollupLate",
      "VigilRuleOverAlertBudget",
      "VigilTransactionDeclinesHigh",
      "VigilTransactionSuccessRateLow",
      "VigilWorkerDown",
    ]);
    for (const rule of rules) {
      const q = await query(rule.query);
      assert.equal(q?.status, "success", `${rule.name}: ${JSON.stringify(q)}`);
      // The recorded series each rule reads are rules of the file (checked below as rules).
      const reads = rule.query.match(/\bvigil:[a-z0-9_:]+/g) ?? [];
      for (const name of reads) {
        assert.ok(recorded.has(name), `${rule.name}: no rule records ${name}`);
      }
      // Without its thresholds, the expression returns data: it watches live series. A
      // recording rule has none; an alert over recorded series is watched through them.
      if (rule.type === "alerting" && reads.length > 0) continue;
      const open = rule.type === "recording"
        ? rule.query
        : rule.query.replace(/\s(==|>=|<=|>|<)\s+[0-9.]+/g, " > -Inf");
      if (rule.type === "alerting") {
        assert.notEqual(open, rule.query, `${rule.name}: no threshold found in ${rule.query}`);
      }
      const data = await waitFor(
        `data for ${rule.name}`,
        60_000,
        async () => {
          const r = await query(open);
          if (r?.status === "success" && r.data.result.length > 0) return r.data.result;
          await provoke();
          return undefined;
        },
        () => exited() || vigil.exited(),
        () => open,
      );
      assert.ok(data.length > 0);
      // Each series the expression reads is there (so the rule watches something real).
      const metrics = new Set(rule.query.match(/\b(?:vigil_[a-z_]+|up)\b/g) ?? []);
      assert.ok(metrics.size > 0, rule.query);
      for (const m of metrics) {
        // Over the last 5 minutes: a scrape that timed out on a busy machine marks every
        // series stale for a moment, and an instant query would find none.
        const c = await query(`count(last_over_time({__name__="${m}"}[5m]))`);
        assert.ok(Number(c?.data?.result?.[0]?.value?.[1]) > 0, `${rule.name}: no series ${m}`);
      }
    }
    // Every dashboard panel's query parses and returns data (Grafana's variables set to a
    // 1 m rate window and every worker).
    const panels = panelQueries().map((x) => ({
      ...x,
      expr: x.expr.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".+"),
    }));
    let empty: string[] = [];
    await waitFor(
      "data for every dashboard panel",
      120_000,
      async () => {
        empty = [];
        for (const p of panels) {
          const r = await query(p.expr);
          assert.equal(r?.status, "success", `${p.board} / ${p.panel}: ${JSON.stringify(r)}`);
          if ((r.data.result as unknown[]).length === 0) empty.push(`${p.board} / ${p.panel}`);
        }
        return empty.length === 0 ? true : undefined;
      },
      () => exited() || vigil.exited(),
      () => `no data yet: ${empty.join("; ")}`,
    );
    assert.ok(notified > 0, "the webhook was called");
  } finally {
    await receiver.shutdown();
    await prometheus?.stop();
    if (!vigil.exited()) vigil.child.kill("SIGTERM");
    await vigil.status;
    await vigil.stdoutDone;
    await vigil.stderrDone;
    await Deno.remove(dir, { recursive: true });
  }
});
