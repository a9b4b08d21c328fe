/**
 * Vigil's command line.
 *
 *   deno task start                       the whole system in one process
 *   deno task replay --input F.jsonl      the actors over a recorded file
 *   deno task simulate --output F.jsonl   simulated traffic with attacks
 *   deno run main.ts config               every configuration variable and its default
 *
 * @module
 */

import type { Config } from "./config/defaults.ts";
import { ConfigError, loadConfig, settings } from "./config/load.ts";
import { createClusterApp } from "./api/cluster_app.ts";
import { Cluster } from "./supervisors/cluster.ts";
import type { Log } from "./io/log.ts";
import type { Store } from "./io/store.ts";
import { Args, UsageError } from "./engine/args.ts";
import { log } from "./engine/logger.ts";
import { linesOf, linesOfFile } from "./engine/replay.ts";
import { replayThreaded as replayLines } from "./engine/replay_parallel.ts";
import { VigilSystem } from "./engine/system.ts";
import { loadModels } from "./engine/served_models.ts";
import { ModelService } from "./models/service.ts";
import { FLOW_MODEL } from "./actors/source.ts";
import { flowCsvReader, type FlowRow } from "./io/flow_csv.ts";
import { flowsOf, type Scenario, SCENARIOS, Simulator } from "./sim/simulator.ts";
import { formatQuality, quality } from "./sim/quality.ts";

const HELP = `Vigil: real-time behaviour and intrusion detection.

Commands:
  start                         run everything in one process (embedded log and store, simulator, API)
  worker                        one member of a consumer group on Kafka (KAFKA_BROKERS, MONGODB_URI)
  cluster [--workers N]         supervise N workers: restarts, scaling (/api/v1/cluster), SD file
  replay --input FILE.jsonl [--output alerts.jsonl] [--dead-letters FILE.jsonl]
  simulate [--output FILE.jsonl | --to http://127.0.0.1:8080 --token T] [--events N]
           [--users N] [--seed N] [--rate EVENTS_PER_S] [--start ISO] [--attack-interval-s N]
           [--scenarios brute_force,guess_then_success] [--truth truth.jsonl] [--realtime]
           [--ops]  services' metrics and logs, page views, their incidents, payment incidents
           [--flows]  network flows too (from the flow model's class prototypes), with flow attacks, scans and floods
           [--report] [--report-json FILE]  replay it and print the detection quality per rule
  import-flows --input FLOWS.csv [--output FILE.jsonl] [--dead-letters FILE.jsonl]
           [--src-ip IP] [--dst-ip IP] [--time ISO]
                                raw CICFlowMeter CSV (CICIDS2017 layouts) → flow events
  config                        list every configuration variable with its default
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const args = new Args(rest);
  switch (command) {
    case "start":
      args.checkAllUsed();
      return await start(false);
    case "worker":
      args.checkAllUsed();
      return await start(true);
    case "cluster":
      return await cluster(args);
    case "replay":
      return await replay(args);
    case "simulate":
      return await simulate(args);
    case "import-flows":
      return await importFlows(args);
    case "config":
      for (const s of settings()) console.log(`${s.variable}=${s.value}`);
      return 0;
    case undefined:
    case "help":
    case "--help":
      console.log(HELP);
      return 0;
    default:
      console.error(`Unknown command "${command}".\n\n${HELP}`);
      return 2;
  }
}

/**
 * Runs the system. A worker is one member of a consumer group on Kafka: it needs
 * `KAFKA_BROKERS`, and runs no simulator unless `VIGIL_SIMULATOR_ENABLED` says so.
 */
async function start(worker: boolean): Promise<number> {
  const env = Deno.env.toObject();
  const config = loadConfig(env);
  if (worker) {
    if (config.io.kafka_brokers === "") {
      throw new ConfigError("A worker needs KAFKA_BROKERS (and MONGODB_URI for a shared store)");
    }
    if (env.VIGIL_SIMULATOR_ENABLED === undefined) config.simulator.enabled = false;
  }
  let token = Deno.env.get("ADMIN_TOKEN") ?? "";
  if (token === "") {
    token = randomToken();
    log("info", "ADMIN_TOKEN is not set; generated one for this run", { admin_token: token });
  }
  const system = new VigilSystem({ config, token, ...await connectIo(config) });
  if (config.alerts_stdout) {
    system.outbox.listen((alerts) => {
      for (const a of alerts) console.log(JSON.stringify(a));
    });
  }
  await system.start();
  const server = Deno.serve({
    hostname: config.api.host,
    port: config.api.port,
    onListen: ({ hostname, port }) =>
      log("info", "Vigil is running", {
        api: `http://${hostname}:${port}`,
        simulator: config.simulator.enabled,
        partitions: config.runtime.partitions,
      }),
  }, system.app.fetch);
  const done = Promise.withResolvers<number>();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "Stopping", { signal });
    await system.stop();
    await server.shutdown();
    log("info", "Stopped cleanly", { alerts_published: system.outbox.published });
    done.resolve(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void shutdown(signal));
  }
  // A worker whose cluster supervisor died (even by SIGKILL) stops too, leaving no orphan.
  const supervisor = Number(Deno.env.get("VIGIL_SUPERVISOR_PID") ?? "0");
  if (supervisor > 0) {
    const watch = setInterval(() => {
      if (Deno.ppid !== supervisor) {
        clearInterval(watch);
        void shutdown("supervisor gone");
      }
    }, 1_000);
    done.promise.then(() => clearInterval(watch));
  }
  return await done.promise;
}

/** Worker permissions: the same as `deno task start`'s. */
const WORKER_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
  "--allow-ffi",
];

/** Runs the cluster supervisor with its API on HOST:PORT and workers on the ports after `worker_base_port`. */
async function cluster(args: Args): Promise<number> {
  const env = Deno.env.toObject();
  const config = loadConfig(env);
  const workers = args.number("workers", config.cluster.workers);
  args.checkAllUsed();
  if (config.io.kafka_brokers === "") {
    throw new ConfigError(
      "A cluster of workers needs KAFKA_BROKERS (and MONGODB_URI for a shared store)",
    );
  }
  let token = env.ADMIN_TOKEN ?? "";
  if (token === "") {
    token = randomToken();
    log("info", "ADMIN_TOKEN is not set; generated one for the cluster and its workers", {
      admin_token: token,
    });
  }
  const mainPath = new URL(import.meta.url).pathname;
  const done = Promise.withResolvers<number>();
  const supervisor = new Cluster({
    settings: config.cluster,
    host: config.api.host,
    log,
    spawn: (slot, port) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", ...WORKER_PERMISSIONS, mainPath, "worker"],
        env: {
          ...env,
          ADMIN_TOKEN: token,
          PORT: String(port),
          VIGIL_WORKER_SLOT: String(slot),
          VIGIL_SUPERVISOR_PID: String(Deno.pid),
        },
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn(),
    onFatal: (reason) => {
      log("error", "The cluster supervisor gives up", { reason });
      supervisor.stop().finally(() => done.resolve(1));
    },
  });
  await supervisor.scale(workers);
  const app = createClusterApp(supervisor, { token, host: config.api.host });
  const server = Deno.serve({
    hostname: config.api.host,
    port: config.api.port,
    onListen: ({ hostname, port }) =>
      log("info", "Cluster supervisor is running", { api: `http://${hostname}:${port}`, workers }),
  }, app.fetch);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      log("info", "Stopping the cluster", { signal });
      supervisor.stop().then(() => done.resolve(0));
    });
  }
  const code = await done.promise;
  await server.shutdown();
  log("info", "Cluster stopped", { code });
  return code;
}

function randomToken(): string {
  return [...crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** Kafka and MongoDB when configured; otherwise the embedded log and store. */
async function connectIo(config: Config): Promise<{ log?: Log; store?: Store }> {
  const io = config.io;
  const out: { log?: Log; store?: Store } = {};
  if (io.kafka_brokers !== "") {
    const brokers = io.kafka_brokers.split(",").map((b) => b.trim()).filter((b) => b !== "");
    // Loaded only when used: the client libraries read the environment as they load.
    const { KafkaLog } = await import("./io/kafka_log.ts");
    out.log = new KafkaLog({
      brokers,
      client_id: io.kafka_client_id,
      session_timeout_ms: io.kafka_session_timeout_ms,
      max_request_bytes: io.kafka_max_request_bytes,
    });
    log("info", "Using Kafka", { brokers });
  }
  if (io.mongodb_uri !== "") {
    const { MongoStore } = await import("./io/mongo_store.ts");
    out.store = await MongoStore.connect({
      uri: io.mongodb_uri,
      database: io.mongodb_database,
      timeout_ms: io.store_timeout_ms,
      dead_letter_retention_s: io.dead_letter_retention_s,
      archive_retention_s: io.archive_retention_s,
    });
    log("info", "Using MongoDB", { database: io.mongodb_database });
  }
  return out;
}

async function replay(args: Args): Promise<number> {
  const input = args.string("input");
  const output = args.string("output");
  const deadOut = args.string("dead-letters");
  args.checkAllUsed();
  if (!input) throw new UsageError("replay needs --input FILE.jsonl");
  const config = loadConfig(Deno.env.toObject());
  // Flows and logins are scored as a live worker scores them, by the newest models.
  const models = new ModelService(config.models);
  await loadModels(models, config.models.dir);
  const lines = linesOfFile(input, undefined, config.max_event_bytes);
  const r = await replayLines(lines, config, models).finally(() => models.close());
  const text = r.alerts.map((a) => JSON.stringify(a) + "\n").join("");
  if (output) await Deno.writeTextFile(output, text);
  else await Deno.stdout.write(new TextEncoder().encode(text));
  if (deadOut) {
    await Deno.writeTextFile(
      deadOut,
      r.dead_letters.map((d) => JSON.stringify(d) + "\n").join(""),
    );
  }
  log("info", "Replay done", {
    events: r.events,
    invalid: r.invalid,
    late: r.late,
    alerts: r.alerts.length,
    sorted_first: r.sorted,
    threads: r.threads,
    events_per_second: Math.round(r.events / (r.ms / 1000)),
  });
  return 0;
}

/**
 * Raw CICFlowMeter CSV → flow events as JSON lines (stdout or `--output`); rows that cannot
 * be read go, with their line number and the reason, to `--dead-letters` (or stderr).
 */
async function importFlows(args: Args): Promise<number> {
  const input = args.string("input");
  const output = args.string("output");
  const deadOut = args.string("dead-letters");
  const src_ip = args.string("src-ip");
  const dst_ip = args.string("dst-ip");
  const timeText = args.string("time");
  args.checkAllUsed();
  if (!input) throw new UsageError("import-flows needs --input FLOWS.csv");
  const timestamp_ms = timeText ? Date.parse(timeText) : Date.now();
  if (!Number.isFinite(timestamp_ms)) {
    throw new UsageError(`--time must be ISO-8601, got "${timeText}"`);
  }
  const name = input.slice(input.lastIndexOf("/") + 1);
  const enc = new TextEncoder();
  const out = output
    ? await Deno.open(output, { write: true, create: true, truncate: true })
    : null;
  const dead = deadOut
    ? await Deno.open(deadOut, { write: true, create: true, truncate: true })
    : null;
  let read: ((line: string, lineNo: number) => FlowRow) | null = null;
  let lineNo = 0, events = 0, rejected = 0;
  let pending: string[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const bytes = enc.encode(pending.join(""));
    pending = [];
    if (out) await out.write(bytes);
    else await Deno.stdout.write(bytes);
  };
  try {
    for await (const chunk of linesOfFile(input)()) {
      for (const line of chunk) {
        lineNo++;
        if (read === null) {
          read = flowCsvReader(line, {
            source: name,
            timestamp_ms,
            ...(src_ip ? { src_ip } : {}),
            ...(dst_ip ? { dst_ip } : {}),
          });
          continue;
        }
        if (line.trim() === "") continue;
        const row = read(line, lineNo);
        if (row.ok) {
          events++;
          pending.push(JSON.stringify(row.event) + "\n");
          if (pending.length >= 1_000) await flush();
        } else {
          rejected++;
          const letter = JSON.stringify({
            source: `${name}:${lineNo}`,
            reason: row.reason,
            raw: row.raw,
          });
          if (dead) await dead.write(enc.encode(letter + "\n"));
          else console.error(letter);
        }
      }
    }
    await flush();
  } finally {
    out?.close();
    dead?.close();
  }
  if (read === null) throw new UsageError(`${input} is empty`);
  log("info", "Flows imported", { events, rejected });
  return 0;
}

async function simulate(args: Args): Promise<number> {
  const config = loadConfig(Deno.env.toObject());
  const s = config.simulator;
  const startText = args.string("start");
  const start_ms = startText ? Date.parse(startText) : Date.UTC(2026, 0, 5, 8);
  if (!Number.isFinite(start_ms)) {
    throw new UsageError(`--start must be ISO-8601, got "${startText}"`);
  }
  const scenarios = (args.string("scenarios") ?? SCENARIOS.join(",")).split(",") as Scenario[];
  for (const sc of scenarios) {
    if (!SCENARIOS.includes(sc)) {
      throw new UsageError(`Unknown scenario "${sc}"; known: ${SCENARIOS.join(", ")}`);
    }
  }
  const rate = args.number("rate", s.events_per_second);
  const count = args.number("events", 100_000);
  const realtime = args.flag("realtime");
  const report = args.flag("report");
  const reportJson = args.string("report-json");
  const withFlows = args.flag("flows");
  // The models: for the report's replay, and the flow model's class prototypes for flows.
  const models = report || reportJson || withFlows ? new ModelService(config.models) : null;
  if (models) await loadModels(models, config.models.dir);
  const flows = withFlows
    ? flowsOf(models?.manifest(FLOW_MODEL) ?? null, s.flows_per_second || 5)
    : null;
  if (withFlows && !flows) {
    models?.close();
    throw new UsageError(
      `--flows needs a flow model with class prototypes in ${config.models.dir}`,
    );
  }
  const sim = new Simulator({
    seed: args.number("seed", s.seed),
    users: args.number("users", s.users),
    start_ms: realtime ? Date.now() : start_ms,
    events_per_second: rate,
    attack_interval_s: args.number("attack-interval-s", s.attack_interval_s),
    scenarios,
    ...(args.flag("ops") ? { ops: { clicks_per_second: s.clicks_per_second || 5 } } : {}),
    ...(flows ? { flows } : {}),
  });
  const output = args.string("output");
  const to = args.string("to");
  const token = args.string("token") ?? Deno.env.get("ADMIN_TOKEN") ?? "";
  const truthOut = args.string("truth");
  args.checkAllUsed();
  if (report || reportJson) {
    return await qualityRun(sim, count, config, models!, reportJson).finally(() => models!.close());
  }
  models?.close();
  if (!output && !to) {
    throw new UsageError(
      "simulate needs --output FILE.jsonl, --to http://HOST:PORT, or --report",
    );
  }
  const encoder = new TextEncoder();
  const file = output
    ? await Deno.open(output, { write: true, create: true, truncate: true })
    : null;
  let sent = 0;
  let last_ms = -Infinity;
  const chunk = realtime ? Math.max(1, Math.round(rate / 10)) : 5_000;
  while (sent < count) {
    const until = realtime ? Date.now() : Infinity;
    const events = sim.take(Math.min(chunk, count - sent), until);
    if (events.length > 0) {
      const body = events.map((e) => JSON.stringify(e)).join("\n") + "\n";
      if (file) await file.write(encoder.encode(body));
      if (to) await post(to, token, body);
      sent += events.length;
      last_ms = Date.parse(events[events.length - 1]!.timestamp);
    }
    if (realtime) await new Promise((r) => setTimeout(r, 100));
  }
  file?.close();
  if (truthOut) {
    await Deno.writeTextFile(
      truthOut,
      // Every attack begun in the file; one cut off by its end is marked incomplete (it may
      // or may not be detectable yet).
      sim.truths.filter((t) => Date.parse(t.start) <= last_ms)
        .map((t) => JSON.stringify({ ...t, complete: Date.parse(t.end) <= last_ms }) + "\n")
        .join(""),
    );
  }
  log("info", "Simulated", { events: sent, attacks: sim.truths.length });
  return 0;
}

/**
 * The detection quality report: `count` simulated events through replay (with the newest
 * models), measured against their ground truth per rule.
 */
async function qualityRun(
  sim: Simulator,
  count: number,
  config: Config,
  models: ModelService,
  jsonOut: string | undefined,
): Promise<number> {
  const events = sim.take(count);
  const last_ms = Date.parse(events[events.length - 1]!.timestamp);
  const truths = sim.truths.filter((t) => Date.parse(t.start) <= last_ms)
    .map((t) => ({ ...t, complete: Date.parse(t.end) <= last_ms }));
  const text = events.map((e) => JSON.stringify(e)).join("\n");
  const r = await replayLines(linesOf(text), config, models);
  const q = quality(events, truths, r.alerts);
  console.log(formatQuality(q));
  if (jsonOut) await Deno.writeTextFile(jsonOut, JSON.stringify(q, null, 1) + "\n");
  return 0;
}

async function post(base: string, token: string, body: string): Promise<void> {
  const res = await fetch(new URL("/api/v1/events", base), {
    method: "POST",
    headers: { "content-type": "application/x-ndjson", authorization: `Bearer ${token}` },
    body,
  });
  const text = await res.text();
  if (res.status !== 202) {
    throw new Error(`POST ${base}/api/v1/events answered ${res.status}: ${text}`);
  }
}

if (import.meta.main) {
  // A client library's stray rejection (a reconnect racing a shutdown, say) is logged; the
  // process goes on, and its supervisor or the readiness probe judges its health.
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log("error", "Unhandled rejection", { error: String(e.reason) });
  });
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      console.error(`${err.message}\n\n${HELP}`);
      Deno.exit(2);
    }
    throw err;
  }
}
