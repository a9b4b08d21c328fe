/**
 * Vigil's command line.
 *
 *   deno task start                       the whole system in one process
 *   deno task replay --input F.jsonl      the actors over a recorded file
 *   deno task simulate --output F.jsonl   simulated traffic with attacks
 *   deno run main.ts config               every configuration variable and its value
 *
 * @module
 */

import { type PartitionerName, placementOf } from "./actors/placement.ts";
import { type Config, MIN_SIMULATED_USERS } from "./config/defaults.ts";
import { ConfigError, loadConfig, settings } from "./config/load.ts";
import { maskUri, shownValue } from "./config/secrets.ts";
import { createClusterApp } from "./api/cluster_app.ts";
import { AuthConfigError, Authenticator, type UserEntry } from "./api/auth.ts";
import { addUser, readUsersFile } from "./api/users_file.ts";
import { MemoryStore } from "./io/memory_store.ts";
import { Cluster } from "./supervisors/cluster.ts";
import type { Log } from "./io/log.ts";
import type { Store } from "./io/store.ts";
import {
  Args,
  checkReadable,
  checkWritable,
  CommandError,
  fileProblem,
  UsageError,
} from "./engine/args.ts";
import { rollupRange } from "./engine/rollup_job.ts";
import { log } from "./engine/logger.ts";
import { linesOfFile, type LineSource, replayManifest } from "./engine/replay.ts";
import { replayThreaded as replayLines } from "./engine/replay_parallel.ts";
import { VigilSystem } from "./engine/system.ts";
import { incidentsOf } from "./engine/incidents.ts";
import type { Suppression } from "./engine/suppressions.ts";
import { loadModels, SERVED_MODELS } from "./engine/served_models.ts";
import { ModelService } from "./models/service.ts";
import { FLOW_MODEL } from "./actors/source.ts";
import { flowCsvReader, type FlowRow } from "./io/flow_csv.ts";
import { flowsOf, ROTATION, type Scenario, SCENARIOS, Simulator } from "./sim/simulator.ts";
import { formatQuality, quality } from "./sim/quality.ts";
import { type HttpFront, serveWithTimeouts } from "./io/http_server.ts";
import { appOf } from "./api/system_app.ts";
import { Progress } from "./engine/progress.ts";

/** What `main.ts help` prints: every command and its flags. */
export const HELP = `Vigil: real-time behaviour and intrusion detection.

Commands:
  start                         run everything in one process (embedded log and store, simulator, API)
  worker                        one member of a consumer group on Kafka (KAFKA_BROKERS, MONGODB_URI)
  cluster [--workers N]         supervise N workers: restarts, scaling (/api/v1/cluster), SD file
  replay --input FILE.jsonl [--output alerts.jsonl] [--dead-letters FILE.jsonl]
         [--manifest FILE.json]  what the alerts depend on: model versions, IP database
         [--incidents incidents.jsonl]  the alerts' incidents too, sorted by id
         [--suppressions FILE.jsonl]  judge with these suppressions (as GET /api/v1/suppressions lists them)
  simulate [--output FILE.jsonl | --to http://127.0.0.1:8080 --token T] [--events N]
           [--users N] [--seed N] [--rate EVENTS_PER_S] [--start ISO] [--attack-interval-s N]
           [--scenarios brute_force,guess_then_success] [--truth truth.jsonl] [--realtime]
           [--ops]  services' metrics and logs, page views, their incidents, payment incidents
           [--flows]  network flows too (from the flow model's class prototypes), with flow attacks, scans and floods
           [--report] [--report-json FILE]  replay it and print the detection quality per rule
  import-flows --input FLOWS.csv [--output FILE.jsonl] [--dead-letters FILE.jsonl]
           [--src-ip IP] [--dst-ip IP] [--time ISO]
                                raw CICFlowMeter CSV (CICIDS2017 layouts) → flow events
  add-user --name NAME --role viewer|analyst|admin --file users.json [--replace]
                                a principal for the API and console: prints its token once,
                                keeps only its scrypt hash (the file of VIGIL_API_USERS_FILE)
  aggregate --from TIME --to TIME
                                roll up the raw archive and the alerts of MongoDB
                                (MONGODB_URI) per hour and per day over a range (ISO-8601
                                or epoch ms), as the scheduled job does: a back-fill
  config                        list every configuration variable with its value (the
                                environment's, else the default; secrets as ***)
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
    case "add-user":
      return await addUserCommand(args);
    case "aggregate":
      return await aggregate(args);
    case "config":
      args.checkAllUsed();
      for (const s of settings(loadConfig(Deno.env.toObject()))) {
        console.log(`${s.variable}=${shownValue(s)}`);
      }
      return 0;
    case undefined:
    case "help":
    case "--help":
      console.log(HELP);
      return 0;
    default:
      throw new UsageError(`Unknown command "${command}"; the commands are ${COMMANDS.join(", ")}`);
  }
}

const COMMANDS = [
  "start",
  "worker",
  "cluster",
  "replay",
  "simulate",
  "import-flows",
  "add-user",
  "aggregate",
  "config",
  "help",
];

/**
 * Listens on the API's address behind the read timeouts (`io/http_server.ts`); a port
 * in use, or an address that cannot be had, is a CommandError.
 */
function listen(
  config: Config,
  handler: (req: Request) => Response | Promise<Response>,
): HttpFront {
  const { host, port } = config.api;
  try {
    return serveWithTimeouts({
      hostname: host,
      port,
      header_timeout_ms: config.api.header_timeout_ms,
      body_timeout_ms: config.api.body_timeout_ms,
      idle_timeout_ms: config.api.idle_timeout_ms,
    }, handler);
  } catch (err) {
    const why = err instanceof Deno.errors.AddrInUse
      ? "the address is in use (set PORT to another port)"
      : err instanceof Deno.errors.AddrNotAvailable
      ? "no such address on this machine (set HOST)"
      : fileProblem(err);
    throw new CommandError(`Cannot listen on ${host}:${port}: ${why}`);
  }
}

/**
 * Shows a generated admin token once, on the terminal's stderr as plain text: never
 * through the JSON logger, whose lines are collected and kept.
 */
function showGeneratedToken(token: string, forWhat: string): void {
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      `ADMIN_TOKEN is not set; generated one for ${forWhat}: ${token}\n`,
    ),
  );
  log("info", `ADMIN_TOKEN is not set; generated one for ${forWhat} (shown on stderr, not logged)`);
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
  } else if (
    config.simulator.enabled && config.io.kafka_brokers === "" &&
    env.VIGIL_RUNTIME_MAX_RESIDENT_ACTORS === undefined
  ) {
    // The one-process demo on the embedded log and store.
    config.runtime.max_resident_actors = config.simulator.max_resident_actors;
  }
  if (
    !worker && config.io.mongodb_uri === "" && env.VIGIL_IO_ARCHIVE_RAW_EVENTS === undefined
  ) {
    // The embedded store counts every event in its roll-ups and keeps the newest raw.
    config.io.archive_raw_events = true;
  }
  // The principals, then the port: either wrong stops the command before anything started.
  const access = await accessOf(env, config);
  let serve: (req: Request) => Response | Promise<Response> = () =>
    Response.json({ error: "Vigil is starting" }, { status: 503 });
  const server = listen(config, (req) => serve(req));
  let token = Deno.env.get("ADMIN_TOKEN") ?? "";
  if (token === "") {
    token = randomToken();
    showGeneratedToken(token, "this run");
  }
  const system = new VigilSystem({ config, token, ...access, ...await connectIo(config) });
  if (config.alerts_stdout) {
    system.outbox.listen((alerts) => {
      for (const a of alerts) console.log(JSON.stringify(a));
    });
  }
  // Served before the system starts, so /ready says why while Kafka cannot be reached.
  serve = appOf(system).fetch;
  log("info", "Vigil is running", {
    api: `http://${server.addr.hostname}:${server.addr.port}`,
    simulator: config.simulator.enabled,
    partitions: config.runtime.partitions,
  });
  if (!worker) {
    // For the person at the terminal, beside the JSON log.
    Deno.stderr.writeSync(new TextEncoder().encode(
      `Console: http://${server.addr.hostname}:${server.addr.port}/ (sign in with the token)\n`,
    ));
  }
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
  await system.start();
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
  const workers = args.number("workers", config.cluster.workers, {
    min: 1,
    max: config.cluster.max_workers,
    integer: true,
  });
  args.checkAllUsed();
  if (config.io.kafka_brokers === "") {
    throw new ConfigError(
      "A cluster of workers needs KAFKA_BROKERS (and MONGODB_URI for a shared store)",
    );
  }
  const access = await accessOf(env, config);
  // Its files are read here too, so a worker never starts only to fail on them.
  (await import("./io/kafka_connection.ts")).kafkaConnection(config.io);
  let serve: (req: Request) => Response | Promise<Response> = () =>
    Response.json({ error: "The cluster is starting" }, { status: 503 });
  const server = listen(config, (req) => serve(req));
  let token = env.ADMIN_TOKEN ?? "";
  if (token === "") {
    token = randomToken();
    showGeneratedToken(token, "the cluster and its workers");
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
  const app = createClusterApp(supervisor, {
    auth: new Authenticator({
      tokens: { admin: token, ...access.tokens },
      users: access.users,
      cache_entries: config.api.auth_cache_entries,
    }),
    token,
    host: config.api.host,
    audit: new MemoryStore({
      max_alerts: 1,
      max_dead_letters: 1,
      max_audit: config.api.memory_store_max_audit,
    }),
  });
  serve = app.fetch;
  log("info", "Cluster supervisor is running", {
    api: `http://${server.addr.hostname}:${server.addr.port}`,
    workers,
  });
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

/** ANALYST_TOKEN, VIEWER_TOKEN and the users file: the principals beside ADMIN_TOKEN. */
async function accessOf(
  env: Record<string, string>,
  config: Config,
): Promise<{ tokens: { analyst?: string; viewer?: string }; users: UserEntry[] }> {
  const tokens: { analyst?: string; viewer?: string } = {};
  if (env.ANALYST_TOKEN) tokens.analyst = env.ANALYST_TOKEN;
  if (env.VIEWER_TOKEN) tokens.viewer = env.VIEWER_TOKEN;
  try {
    const users = await readUsersFile(config.api.users_file);
    // Checks the tokens together (one token, one principal) before anything starts.
    new Authenticator({
      tokens: { admin: env.ADMIN_TOKEN ?? "", ...tokens },
      users,
      cache_entries: 0,
    });
    return { tokens, users };
  } catch (err) {
    if (err instanceof AuthConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

/** `add-user`: a new principal in a users file; its token is printed once. */
async function addUserCommand(args: Args): Promise<number> {
  const name = args.string("name");
  const role = args.string("role");
  const file = args.string("file");
  const replace = args.flag("replace");
  args.checkAllUsed();
  if (!name || !role || !file) {
    throw new UsageError("add-user needs --name NAME, --role viewer|analyst|admin and --file FILE");
  }
  let token: string;
  try {
    token = await addUser(file, name, role, replace);
  } catch (err) {
    if (err instanceof AuthConfigError) throw new UsageError(err.message);
    throw new CommandError(`Cannot write ${file}: ${fileProblem(err)}`);
  }
  console.log(`Added ${name} (${role}) to ${file}. Its token, shown only now:\n${token}`);
  return 0;
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
    // Loaded only when used: the client libraries read the environment as they load.
    const { KafkaLog } = await import("./io/kafka_log.ts");
    const { kafkaConnection } = await import("./io/kafka_connection.ts");
    const connection = kafkaConnection(io);
    out.log = new KafkaLog({
      ...connection,
      // Keyed records that name no partition go where the producers would put them.
      placement: placementOf(io.kafka_producer_partitioner as PartitionerName),
      session_timeout_ms: io.kafka_session_timeout_ms,
      max_request_bytes: io.kafka_max_request_bytes,
    });
    const { sasl, tls } = connection;
    log("info", "Using Kafka", {
      brokers: connection.brokers,
      tls: tls === undefined ? false : tls.cert === undefined ? "on" : "mutual",
      sasl: sasl ? `${sasl.mechanism.toUpperCase()} as ${sasl.username}` : "none",
    });
    if (sasl?.mechanism === "plain" && !tls) {
      log("warn", "SASL PLAIN without TLS sends the password in the clear: set KAFKA_TLS=true");
    }
  }
  if (io.mongodb_uri !== "") {
    const { MongoStore } = await import("./io/mongo_store.ts");
    out.store = await MongoStore.connect({
      uri: io.mongodb_uri,
      database: io.mongodb_database,
      timeout_ms: io.store_timeout_ms,
      dead_letter_retention_s: io.dead_letter_retention_s,
      archive_retention_s: io.archive_retention_s,
      max_incident_members: config.alerts.max_incident_members,
    });
    log("info", "Using MongoDB", { uri: maskUri(io.mongodb_uri), database: io.mongodb_database });
  }
  return out;
}

/** Suppressions from a JSON-lines file, one as GET /api/v1/suppressions lists it per line. */
async function readSuppressions(path: string): Promise<Suppression[]> {
  await checkReadable("suppressions", path);
  const out: Suppression[] = [];
  const lines = (await Deno.readTextFile(path)).split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let s: Partial<Suppression>;
    try {
      s = JSON.parse(line);
    } catch {
      throw new UsageError(`--suppressions ${path}:${i + 1} is not JSON`);
    }
    const times = [s?.starts_at, s?.expires_at].map((t) => Date.parse(String(t)));
    if (typeof s?.id !== "string" || times.some((t) => !Number.isFinite(t))) {
      throw new UsageError(
        `--suppressions ${path}:${i + 1} is not a suppression (id, starts_at, expires_at)`,
      );
    }
    out.push({
      rule: null,
      entity_type: null,
      entity_key: null,
      cidr: null,
      incident_id: null,
      ...s,
    } as Suppression);
  });
  return out;
}

/** `aggregate --from --to`: the roll-up job by hand, over a range, on MongoDB. */
async function aggregate(args: Args): Promise<number> {
  const time = (name: string) => {
    const text = args.string(name);
    if (text === undefined) {
      throw new UsageError(`aggregate needs --${name} (ISO-8601 or epoch ms)`);
    }
    const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(ms)) {
      throw new UsageError(`--${name} must be ISO-8601 or epoch milliseconds, not "${text}"`);
    }
    return ms;
  };
  const from = time("from"), to = time("to");
  args.checkAllUsed();
  if (!(from < to)) throw new UsageError("--from must be before --to");
  const config = loadConfig(Deno.env.toObject());
  if (config.io.mongodb_uri === "") {
    throw new UsageError("aggregate rolls up MongoDB's archive: set MONGODB_URI");
  }
  const { store } = await connectIo({ ...config, io: { ...config.io, kafka_brokers: "" } });
  if (!store) throw new CommandError("MongoDB could not be opened");
  const progress = new Progress("aggregate", { unit: "days" });
  progress.stage(
    `rolling up ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`,
    (to - from) / 86_400_000,
  );
  try {
    const run = await rollupRange(store, from, to, `aggregate:${Deno.pid}`);
    progress.done(`${run.rows} rows`);
    const line =
      `${run.outcome}: ${run.from} to ${run.to}, ${run.rows} rows in ${run.duration_ms} ms`;
    if (run.outcome === "failed") throw new CommandError(`${line}: ${run.error}`);
    console.log(line);
    return 0;
  } finally {
    await store.close();
  }
}

async function replay(args: Args): Promise<number> {
  const input = args.string("input");
  const output = args.string("output");
  const deadOut = args.string("dead-letters");
  const manifestOut = args.string("manifest");
  const incidentsOut = args.string("incidents");
  const suppressionsIn = args.string("suppressions");
  args.checkAllUsed();
  if (!input) throw new UsageError("replay needs --input FILE.jsonl");
  await checkReadable("input", input);
  if (output) await checkWritable("output", output);
  if (deadOut) await checkWritable("dead-letters", deadOut);
  if (manifestOut) await checkWritable("manifest", manifestOut);
  if (incidentsOut) await checkWritable("incidents", incidentsOut);
  const suppressions = suppressionsIn ? await readSuppressions(suppressionsIn) : [];
  const config = loadConfig(Deno.env.toObject());
  // Flows and logins are scored as a live worker scores them, by the newest models.
  const models = new ModelService(config.models);
  await loadModels(models, config.models.dir);
  const progress = new Progress("replay", { unit: "bytes" });
  progress.stage("reading", (await Deno.stat(input)).size);
  const lines = linesOfFile(input, undefined, config.max_event_bytes, (n) => progress.advance(n));
  const manifest = replayManifest(config, models, SERVED_MODELS);
  const r = await replayLines(lines, config, models, suppressions).finally(() => models.close());
  progress.done(
    `${r.events.toLocaleString("en-US")} events, ${r.alerts.length.toLocaleString("en-US")} alerts`,
  );
  if (manifestOut) await Deno.writeTextFile(manifestOut, JSON.stringify(manifest, null, 2) + "\n");
  const text = r.alerts.map((a) => JSON.stringify(a) + "\n").join("");
  if (output) await Deno.writeTextFile(output, text);
  else await Deno.stdout.write(new TextEncoder().encode(text));
  if (deadOut) {
    await Deno.writeTextFile(
      deadOut,
      r.dead_letters.map((d) => JSON.stringify(d) + "\n").join(""),
    );
  }
  if (incidentsOut) {
    const incidents = incidentsOf(r.alerts, config.alerts);
    await Deno.writeTextFile(incidentsOut, incidents.map((i) => JSON.stringify(i) + "\n").join(""));
  }
  log("info", "Replay done", {
    events: r.events,
    invalid: r.invalid,
    late: r.late,
    alerts: r.alerts.length,
    sorted_first: r.sorted,
    threads: r.threads,
    events_per_second: Math.round(r.events / (r.ms / 1000)),
    manifest,
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
  await checkReadable("input", input);
  if (output) await checkWritable("output", output);
  if (deadOut) await checkWritable("dead-letters", deadOut);
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
  if (read === null) throw new CommandError(`Cannot import --input ${input}: it is empty`);
  log("info", "Flows imported", { events, rejected });
  return 0;
}

async function simulate(args: Args): Promise<number> {
  const config = loadConfig(Deno.env.toObject());
  const s = config.simulator;
  const seed = args.number("seed", s.seed, { integer: true });
  const users = args.number("users", s.users, { min: MIN_SIMULATED_USERS, integer: true });
  const attackInterval = args.number("attack-interval-s", s.attack_interval_s, { min: 0 });
  const ops = args.flag("ops");
  const output = args.string("output");
  const to = args.string("to");
  const token = args.string("token") ?? Deno.env.get("ADMIN_TOKEN") ?? "";
  const truthOut = args.string("truth");
  const startText = args.string("start");
  const start_ms = startText ? Date.parse(startText) : Date.UTC(2026, 0, 5, 8);
  if (!Number.isFinite(start_ms)) {
    throw new UsageError(`--start must be ISO-8601, got "${startText}"`);
  }
  const named = args.string("scenarios");
  const scenarios = named ? named.split(",") as Scenario[] : ROTATION;
  for (const sc of scenarios) {
    if (!SCENARIOS.includes(sc)) {
      throw new UsageError(`Unknown scenario "${sc}"; known: ${SCENARIOS.join(", ")}`);
    }
  }
  const rate = args.number("rate", s.events_per_second, { above: 0 });
  const count = args.number("events", 100_000, { min: 1, integer: true });
  const realtime = args.flag("realtime");
  const report = args.flag("report");
  const reportJson = args.string("report-json");
  const withFlows = args.flag("flows");
  args.checkAllUsed();
  if (!output && !to && !report && !reportJson) {
    throw new UsageError(
      "simulate needs --output FILE.jsonl, --to http://HOST:PORT, or --report",
    );
  }
  if (to !== undefined && !/^https?:\/\/[^/]/.test(to)) {
    throw new UsageError(`--to must be an http:// or https:// address, got "${to}"`);
  }
  for (
    const [flag, path] of [["output", output], ["truth", truthOut], ["report-json", reportJson]]
  ) {
    if (path) await checkWritable(flag!, path);
  }
  if (to) await checkReachable(to);
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
    seed,
    users,
    start_ms: realtime ? Date.now() : start_ms,
    events_per_second: rate,
    attack_interval_s: attackInterval,
    scenarios,
    ...(ops ? { ops: { clicks_per_second: s.clicks_per_second || 5 } } : {}),
    ...(flows ? { flows } : {}),
  });
  if (report || reportJson) {
    return await qualityRun(sim, count, config, models!, reportJson).finally(() => models!.close());
  }
  models?.close();
  const encoder = new TextEncoder();
  const file = output
    ? await Deno.open(output, { write: true, create: true, truncate: true })
    : null;
  let sent = 0;
  let last_ms = -Infinity;
  const chunk = realtime ? Math.max(1, Math.round(rate / 10)) : 5_000;
  const progress = new Progress("simulate", { unit: "events" });
  progress.stage(to ? `posting to ${to}` : "writing", count);
  while (sent < count) {
    const until = realtime ? Date.now() : Infinity;
    const events = sim.take(Math.min(chunk, count - sent), until);
    if (events.length > 0) {
      const body = events.map((e) => JSON.stringify(e)).join("\n") + "\n";
      if (file) await file.write(encoder.encode(body));
      if (to) await post(to, token, body);
      sent += events.length;
      progress.advance(events.length);
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
  progress.done(`${sent.toLocaleString("en-US")} events, ${sim.truths.length} attacks`);
  log("info", "Simulated", { events: sent, attacks: sim.truths.length });
  return 0;
}

/** Simulated events the quality report hands the replay at a time. */
const REPORT_CHUNK = 10_000;

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
  // In chunks: a million events with their flow features are longer than a string can be.
  const lines: LineSource = function* () {
    for (let i = 0; i < events.length; i += REPORT_CHUNK) {
      yield events.slice(i, i + REPORT_CHUNK).map((e) => JSON.stringify(e));
    }
  };
  const r = await replayLines(lines, config, models);
  const q = quality(events, truths, r.alerts);
  console.log(formatQuality(q));
  if (jsonOut) await Deno.writeTextFile(jsonOut, JSON.stringify(q, null, 1) + "\n");
  return 0;
}

/** Throws a CommandError unless something answers HTTP at `base` (before any event is made). */
async function checkReachable(base: string): Promise<void> {
  try {
    const res = await fetch(new URL("/health", base), { signal: AbortSignal.timeout(5_000) });
    await res.body?.cancel();
  } catch (err) {
    throw new CommandError(`Cannot reach --to ${base}: ${networkProblem(err)}`);
  }
}

async function post(base: string, token: string, body: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(new URL("/api/v1/events", base), {
      method: "POST",
      headers: { "content-type": "application/x-ndjson", authorization: `Bearer ${token}` },
      body,
    });
  } catch (err) {
    throw new CommandError(`Cannot post events to ${base}: ${networkProblem(err)}`);
  }
  const text = await res.text();
  if (res.status !== 202) {
    const reason = oneLine(text).slice(0, 300);
    throw new CommandError(`POST ${base}/api/v1/events answered ${res.status}: ${reason}`);
  }
}

/** What went wrong with a request, in a few words. */
function networkProblem(err: unknown): string {
  const text = `${(err as Error).message} ${String((err as Error).cause ?? "")}`;
  if (/refused/i.test(text)) return "connection refused (is Vigil running there?)";
  if (err instanceof DOMException && err.name === "TimeoutError") return "no answer within 5 s";
  return oneLine((err as Error).message);
}

/** Text on one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/**
 * The line to print for an error the user can act on (a flag, a value, a file, a port),
 * with its exit code; null for anything else (a bug: its stack is shown).
 */
function userError(err: unknown): { line: string; code: number } | null {
  if (err instanceof UsageError || err instanceof ConfigError) {
    return { line: `${oneLine(err.message)} (deno run main.ts help lists the commands)`, code: 2 };
  }
  if (err instanceof CommandError) return { line: oneLine(err.message), code: 1 };
  const deno = Deno.errors;
  if (
    err instanceof deno.NotFound || err instanceof deno.PermissionDenied ||
    err instanceof deno.IsADirectory || err instanceof deno.NotADirectory ||
    err instanceof deno.AddrInUse || err instanceof deno.ConnectionRefused ||
    err instanceof deno.NotCapable
  ) {
    return { line: oneLine(`Cannot go on: ${err.message}`), code: 1 };
  }
  return null;
}

if (import.meta.main) {
  if (["start", "worker", "cluster"].includes(Deno.args[0] ?? "")) {
    // In a long-running process, a client library's stray rejection (a reconnect racing
    // a shutdown, say) is logged; the process goes on, and its supervisor or the
    // readiness probe judges its health. A one-shot command fails on one instead.
    globalThis.addEventListener("unhandledrejection", (e) => {
      e.preventDefault();
      log("error", "Unhandled rejection", { error: String(e.reason) });
    });
  }
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    const user = userError(err);
    if (user === null) console.error(err);
    else console.error(user.line);
    code = user?.code ?? 1;
  }
  Deno.exit(code);
}
