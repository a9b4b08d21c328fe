/**
 * Real servers for the integration tests, started on loopback by the project itself:
 * Apache Kafka 3.9 (single-node KRaft, broker jars from Maven Central) and a MongoDB
 * wire-protocol server (mongo-java-server from Maven Central, data in an H2 file so it
 * survives a restart). Jars are fetched once into `.cache/` and reused.
 *
 * Needs Java 17 and Maven (`mvn`) on the machine, and --allow-run --allow-read
 * --allow-write --allow-net --allow-env.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;
const CACHE = `${ROOT}.cache`;
const MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";
/** A fixed cluster id, so that formatting is repeatable. */
const CLUSTER_ID = "VmlnaWxUZXN0Q2x1c3Rlcg";

/** A server process started here. */
export interface Server {
  /** How clients reach it (`host:port` for Kafka, a URI for MongoDB). */
  readonly address: string;
  /** Its log file (stdout and stderr of the server process). */
  readonly log: string;
  /** Stops it (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Starts it again on the same address and data (after `stop`). */
  restart(): Promise<void>;
}

/** Fetches the jars of `tool` into `.cache/<tool>/libs` unless they are there for this pom. */
export async function ensureJars(tool: "kafka" | "mongo"): Promise<string> {
  const libs = `${CACHE}/${tool}/libs`;
  const pom = `${ROOT}tools/${tool}/pom.xml`;
  const stamp = `${libs}/.pom`;
  const wanted = await Deno.readTextFile(pom);
  try {
    if (await Deno.readTextFile(stamp) === wanted) return libs;
  } catch {
    // not fetched yet
  }
  await Deno.remove(libs, { recursive: true }).catch(() => {});
  await run("mvn", [
    "-q",
    "-B",
    "-f",
    pom,
    `${MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies`,
    "-DincludeScope=runtime",
    `-DoutputDirectory=${libs}`,
  ]);
  await Deno.writeTextFile(stamp, wanted);
  return libs;
}

/** Options of a Kafka broker. */
export interface KafkaOptions {
  port: number;
  controller_port: number;
  /** A name for its data and log folder under `.cache/kafka/`. */
  name: string;
  /** More listeners beside PLAINTEXT and CONTROLLER (name → security protocol and port). */
  listeners?: Record<string, { protocol: string; port: number }>;
  /** More broker properties (after the committed ones, so they win). */
  properties?: Record<string, string>;
  /** More arguments to `StorageTool format` (e.g. `--add-scram` credentials). */
  format_args?: string[];
}

/** Starts a fresh single-node Kafka broker (its data folder is wiped first). */
export async function startKafka(o: KafkaOptions): Promise<Server> {
  const libs = await ensureJars("kafka");
  const dir = `${CACHE}/kafka/${o.name}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const base = await Deno.readTextFile(`${ROOT}tools/kafka/server.properties`);
  const extra = Object.entries(o.listeners ?? {});
  const advertised = [
    `PLAINTEXT://127.0.0.1:${o.port}`,
    ...extra.map(([name, l]) => `${name}://127.0.0.1:${l.port}`),
  ];
  const props = base
    .replace(
      /^controller\.quorum\.voters=.*$/m,
      `controller.quorum.voters=1@127.0.0.1:${o.controller_port}`,
    )
    .replace(
      /^listeners=.*$/m,
      `listeners=${[...advertised, `CONTROLLER://127.0.0.1:${o.controller_port}`].join(",")}`,
    )
    .replace(/^advertised\.listeners=.*$/m, `advertised.listeners=${advertised.join(",")}`)
    .replace(
      /^listener\.security\.protocol\.map=.*$/m,
      (line) => [line, ...extra.map(([name, l]) => `${name}:${l.protocol}`)].join(","),
    )
    .replace(/^log\.dirs=.*$/m, `log.dirs=${dir}/data`) +
    Object.entries(o.properties ?? {}).map(([k, v]) => `${k}=${v}\n`).join("");
  await Deno.writeTextFile(`${dir}/server.properties`, props);
  const java = [
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
    `-Dlog4j.configuration=file:${ROOT}tools/kafka/log4j.properties`,
    "-cp",
    `${libs}/*`,
  ];
  await run("java", [
    ...java,
    "kafka.tools.StorageTool",
    "format",
    "-t",
    CLUSTER_ID,
    "-c",
    `${dir}/server.properties`,
    ...o.format_args ?? [],
  ]);
  const start = () =>
    spawnUntil(
      "java",
      [...java, "kafka.Kafka", `${dir}/server.properties`],
      `${dir}/broker.log`,
      /Kafka Server started/,
      60_000,
    );
  let proc = await start();
  return {
    address: `127.0.0.1:${o.port}`,
    log: `${dir}/broker.log`,
    stop: () => proc.stop(),
    restart: async () => {
      proc = await start();
    },
  };
}

/** Options of a MongoDB wire-protocol server. */
export interface MongoOptions {
  port: number;
  name: string;
}

/** Starts a fresh MongoDB wire-protocol server (its data file is wiped first). */
export async function startMongo(o: MongoOptions): Promise<Server> {
  const libs = await ensureJars("mongo");
  const dir = `${CACHE}/mongo/${o.name}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const start = () =>
    spawnUntil(
      "java",
      [
        // H2 holds whole checkpoint chunks (4 M chars) in memory while it writes them. With
        // 256 MB a CI run saw H2 close its store ("This store is closed") after the drills;
        // a local drill run measured 191 MB of the old generation in use (jstat).
        "-Xmx1g",
        "-cp",
        `${libs}/*`,
        `${ROOT}tools/mongo/MongoServerMain.java`,
        "127.0.0.1",
        String(o.port),
        `${dir}/data.mv`,
      ],
      `${dir}/server.log`,
      /^READY /m,
      60_000,
    );
  let proc = await start();
  return {
    address: `mongodb://127.0.0.1:${o.port}/?directConnection=true`,
    log: `${dir}/server.log`,
    stop: () => proc.stop(),
    restart: async () => {
      proc = await start();
    },
  };
}

interface Running {
  stop(): Promise<void>;
}

/** Spawns a process with its output in `logFile`, resolving once the log matches `ready`. */
async function spawnUntil(
  cmd: string,
  args: string[],
  logFile: string,
  ready: RegExp,
  timeout_ms: number,
): Promise<Running> {
  // A restart must not see the previous run's readiness line.
  await Deno.remove(logFile).catch(() => {});
  // The shell sends both streams to the log file; `exec` makes the server the child itself.
  const child = new Deno.Command("bash", {
    args: ["-c", 'exec "$@" > "$LOG" 2>&1', "server", cmd, ...args],
    env: { LOG: logFile },
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const text = await Deno.readTextFile(logFile).catch(() => "");
    if (ready.test(text)) break;
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      await status;
      throw new Error(`${cmd} did not get ready (see ${logFile}):\n${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => {
          if (!exited) child.kill("SIGKILL");
        }, 15_000);
        await status;
        clearTimeout(timer);
      }
    },
  };
}

/** Runs a command to its end; fails with its output when it fails. */
export async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const dec = new TextDecoder();
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${dec.decode(out.stdout)}${
        dec.decode(out.stderr)
      }`,
    );
  }
}
