/**
 * The deployment files agree with each other and with Vigil (they cannot run here: no
 * Docker engine, no cluster): docker-compose's services, mounts and discovery names,
 * the Kubernetes manifests' probes, ports, settings and autoscaling, and the Dockerfile.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { defaults } from "../../config/defaults.ts";
import { settings } from "../../config/load.ts";

const DEPLOY = new URL("../../deploy/", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, DEPLOY));
// deno-lint-ignore no-explicit-any
type Doc = any;

/** The variables Vigil reads: every setting, and the short names of the contract. */
const VARIABLES = new Set([
  ...settings().map((s) => s.variable),
  "KAFKA_BROKERS",
  "MONGODB_URI",
  "ADMIN_TOKEN",
  "HOST",
  "PORT",
]);

Deno.test("docker-compose: Kafka, MongoDB, three workers, Prometheus, Alertmanager and Grafana, wired to each other and to files that exist", async () => {
  const compose: Doc = parse(await read("docker-compose.yml"), { merge: true });
  const services = compose.services;
  assert.deepEqual(Object.keys(services).sort(), [
    "alertmanager",
    "grafana",
    "kafka",
    "mongo",
    "prometheus",
    "worker1",
    "worker2",
    "worker3",
  ]);
  // Kafka keeps its log where its volume is, and formats it with a fixed cluster id.
  const kafka = services.kafka;
  assert.ok(kafka.volumes.includes(`kafka-data:${kafka.environment.KAFKA_LOG_DIRS}`));
  assert.match(kafka.environment.CLUSTER_ID, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(kafka.environment.KAFKA_ADVERTISED_LISTENERS, "PLAINTEXT://kafka:9092");
  const workers = ["worker1", "worker2", "worker3"];
  for (const w of workers) {
    const s = services[w];
    assert.deepEqual(s.command, ["worker"]);
    assert.equal(s.build.dockerfile, "Dockerfile");
    assert.equal(s.environment.KAFKA_BROKERS, "kafka:9092");
    assert.match(s.environment.MONGODB_URI, /@mongo:27017\//);
    assert.match(s.environment.ADMIN_TOKEN, /\$\{ADMIN_TOKEN:\?/, "the token comes from outside");
    for (const name of Object.keys(s.environment)) assert.ok(VARIABLES.has(name), name);
    assert.ok(s.ports.every((p: string) => p.startsWith("127.0.0.1:")), "published on loopback");
  }
  // Every file mounted from here exists.
  for (const [name, s] of Object.entries<Doc>(services)) {
    for (const v of s.volumes ?? []) {
      const source = String(v).split(":")[0]!;
      if (!source.startsWith("./")) continue;
      await Deno.stat(new URL(source, DEPLOY)).catch(() => assert.fail(`${name}: ${source}`));
    }
  }
  // Prometheus scrapes the workers by their service names and alerts the Alertmanager.
  const prom: Doc = parse(await read("prometheus/prometheus.yml"));
  const job = prom.scrape_configs.find((j: Doc) => j.job_name === "vigil");
  assert.deepEqual(job.static_configs[0].targets, workers.map((w) => `${w}:8080`));
  assert.deepEqual(prom.alerting.alertmanagers[0].static_configs[0].targets, ["alertmanager:9093"]);
  assert.ok(services.prometheus.volumes.includes("./prometheus/rules:/etc/prometheus/rules:ro"));
  assert.deepEqual(prom.rule_files, ["rules/*.yml"]);
  // Grafana reads that Prometheus, and the dashboards where they are mounted.
  const ds: Doc = parse(await read("grafana/provisioning/datasources/prometheus.yml"));
  assert.equal(ds.datasources[0].url, "http://prometheus:9090");
  assert.equal(ds.datasources[0].uid, "prometheus");
  const boards: Doc = parse(await read("grafana/provisioning/dashboards/vigil.yml"));
  const path = boards.providers[0].options.path;
  assert.ok(services.grafana.volumes.includes(`./grafana/dashboards:${path}:ro`));
});

Deno.test("Kubernetes: workers probed on /health and /ready, scraped on their port, set by known variables, scaled on lag up to the partitions", async () => {
  const docs: Doc[] = [];
  for await (const e of Deno.readDir(new URL("k8s/", DEPLOY))) {
    if (!e.name.endsWith(".yaml")) continue;
    for (const d of parseAllDocuments(await read(`k8s/${e.name}`))) {
      assert.deepEqual(d.errors, [], e.name);
      docs.push(d.toJS());
    }
  }
  const of = (kind: string) => docs.find((d) => d.kind === kind);
  const deployment = of("Deployment"), service = of("Service");
  const config = of("ConfigMap"), secret = of("Secret");
  const pod = deployment.spec.template;
  const c = pod.spec.containers[0];
  assert.deepEqual(c.args, ["worker"]);
  assert.equal(c.readinessProbe.httpGet.path, "/ready");
  assert.equal(c.livenessProbe.httpGet.path, "/health");
  const port = c.ports.find((p: Doc) => p.name === "http").containerPort;
  assert.equal(String(port), pod.metadata.annotations["prometheus.io/port"]);
  assert.equal(c.env.find((e: Doc) => e.name === "PORT").value, String(port));
  assert.equal(c.env.find((e: Doc) => e.name === "HOST").value, "0.0.0.0");
  for (const name of [...Object.keys(config.data), ...Object.keys(secret.stringData)]) {
    assert.ok(VARIABLES.has(name), `${name} is not a variable Vigil reads`);
  }
  assert.ok(!("ADMIN_TOKEN" in config.data), "secrets are not in the ConfigMap");
  // The Service and the ServiceMonitor select the pods.
  assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
  const monitor = of("ServiceMonitor");
  assert.deepEqual(monitor.spec.selector.matchLabels, service.metadata.labels);
  assert.equal(monitor.spec.endpoints[0].path, "/metrics");
  // The autoscaler: on a metric Vigil exports, never past the partition count.
  const hpa = of("HorizontalPodAutoscaler");
  assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
  const partitions = Number(config.data.VIGIL_RUNTIME_PARTITIONS ?? defaults.runtime.partitions);
  assert.ok(hpa.spec.maxReplicas <= partitions, `${hpa.spec.maxReplicas} > ${partitions}`);
  const metrics = await Deno.readTextFile(new URL("../../io/metrics.ts", import.meta.url));
  const metric = hpa.spec.metrics[0].pods.metric.name;
  assert.ok(metrics.includes(`name: "${metric}"`), `${metric} is not a Vigil metric`);
});

Deno.test("Dockerfile: a pinned Deno 2 base, dependencies cached at build, a numeric non-root user, a health check", async () => {
  const text = await Deno.readTextFile(new URL("../../Dockerfile", import.meta.url));
  const from = text.match(/^FROM denoland\/deno:(\S+)$/m);
  assert.equal(from?.[1], Deno.version.deno, "the same Deno as the tests");
  assert.match(text, /deno install --frozen/);
  assert.match(text, /deno cache --frozen main\.ts/);
  assert.match(text, /^USER [1-9][0-9]*$/m);
  assert.match(text, /^HEALTHCHECK .*\/health/ms);
});
