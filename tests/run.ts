/**
 * The test runner behind `deno task test` (and `deno task ok` with `--fast`).
 *
 * Pure tests (behaviours, supervisors, the simulation harness, the API in memory) run
 * with no permission at all; integration tests run with the permissions they need.
 * It prints one closing line `N passed, N failed` summed over every suite, and exits
 * non-zero when anything failed.
 *
 * @module
 */

import { type Server, startKafka, startMongo } from "../tools/servers.ts";

interface Suite {
  name: string;
  paths: string[];
  permissions: string[];
  /** Whether it needs the real Kafka and MongoDB servers. */
  servers?: boolean;
  /** Whether `--fast` (`deno task ok`) runs it too. */
  fast?: boolean;
}

const SUITES: Suite[] = [
  { name: "pure", paths: ["tests/unit", "tests/sim", "tests/api"], permissions: [], fast: true },
  {
    // The committed models through onnxruntime-node (a native library: FFI).
    name: "models",
    paths: ["tests/models"],
    permissions: ["--allow-read", "--allow-write", "--allow-ffi", "--allow-env=VIGIL_DATA_DIR"],
    fast: true,
  },
  {
    // The commands as subprocesses, and the HTTP front over raw sockets on loopback.
    name: "cli",
    paths: ["tests/cli"],
    permissions: [
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
    ],
    fast: true,
  },
  {
    name: "integration",
    paths: ["tests/integration", "tests/e2e"],
    permissions: ["--allow-all"],
    servers: true,
  },
];

/**
 * What a set-up script prints: Prometheus, promtool, Alertmanager and amtool from Debian
 * (scripts/ensure-prometheus.sh), kcat with librdkafka (scripts/ensure-kcat.sh),
 * confluent-kafka-python (scripts/ensure-confluent-kafka.sh), headless Chromium for the
 * console's browser test (scripts/ensure-chromium.sh), and schemathesis, which fuzzes the
 * OpenAPI document (scripts/ensure-schemathesis.sh).
 */
async function ensure(script: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${script} failed`);
  return new TextDecoder().decode(out.stdout).trim();
}

const fast = Deno.args.includes("--fast");
const deno = Deno.execPath();
let passed = 0;
let failed = 0;
let broken = false;

const servers: Server[] = [];
for (const suite of SUITES) {
  if (fast && !suite.fast) continue;
  const env: Record<string, string> = {};
  if (suite.servers) {
    console.log(
      "Starting Kafka and the MongoDB wire-protocol server, and fetching Prometheus, kcat, confluent-kafka-python, Chromium and schemathesis, for the integration tests",
    );
    try {
      const [kafka, mongo] = await Promise.all([
        startKafka({ port: 39092, controller_port: 39093, name: "test" }),
        startMongo({ port: 37017, name: "test" }),
      ]);
      servers.push(kafka, mongo);
      env.VIGIL_TEST_KAFKA_BROKERS = kafka.address;
      env.VIGIL_TEST_MONGODB_URI = mongo.address;
      env.VIGIL_TEST_PROMETHEUS_BIN = await ensure("scripts/ensure-prometheus.sh");
      env.VIGIL_TEST_KCAT = await ensure("scripts/ensure-kcat.sh");
      env.VIGIL_TEST_CONFLUENT_PYTHON = await ensure("scripts/ensure-confluent-kafka.sh");
      env.VIGIL_TEST_CHROMIUM = await ensure("scripts/ensure-chromium.sh");
      env.VIGIL_TEST_SCHEMATHESIS = await ensure("scripts/ensure-schemathesis.sh");
    } catch (err) {
      console.error(`Cannot start the test servers: ${(err as Error).message}`);
      broken = true;
      continue;
    }
  }
  const cmd = new Deno.Command(deno, {
    args: ["test", ...suite.permissions, ...suite.paths],
    env,
    stdout: "piped",
    stderr: "inherit",
  });
  const child = cmd.spawn();
  const decoder = new TextDecoder();
  let tail = "";
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    await Deno.stdout.write(chunk);
    tail = (tail + text).slice(-4096);
  }
  const status = await child.status;
  const summary = /(?:ok|FAILED) \| (\d+) passed[^|]*\| (\d+) failed/.exec(stripAnsi(tail));
  if (summary) {
    passed += Number(summary[1]);
    failed += Number(summary[2]);
  } else {
    console.error(`The ${suite.name} suite printed no summary (exit ${status.code})`);
    broken = true;
  }
  if (!status.success && (!summary || Number(summary[2]) === 0)) broken = true;
  if (!status.success && suite.servers) await showServerErrors(servers);
}

await Promise.all(servers.map((s) => s.stop()));
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 || broken ? 1 : 0);

/** Prints the errors the test servers logged, so that a failed CI run says what they saw. */
async function showServerErrors(list: Server[]): Promise<void> {
  for (const server of list) {
    const text = await Deno.readTextFile(server.log).catch(() => "");
    const lines = text.split("\n");
    const errors = lines.filter((line, i) =>
      /ERROR|Exception|Error:|FATAL/.test(line) &&
      !/Connection reset|exception for client/.test(line + (lines[i + 1] ?? ""))
    );
    if (errors.length === 0) continue;
    console.error(`Errors in ${server.log} (last 40 of ${errors.length}):`);
    for (const line of errors.slice(-40)) console.error(`  ${line.slice(0, 300)}`);
  }
}

function stripAnsi(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}
