/**
 * Fault drill: `main.ts cluster` scaled from 1 to 3 workers and back to 1 through its API
 * during a stream of every event kind; the alert ids in MongoDB must still equal the
 * replay's, each once. Produced once by kcat with librdkafka's default partitioner to
 * workers told so (`VIGIL_IO_KAFKA_PRODUCER_PARTITIONER=crc32`: nothing is moved), and
 * once by kafkajs to workers placing by murmur2.
 *
 * @module
 */

import assert from "node:assert/strict";
import { kafkaBrokers, kcatBin, mongoUri, unique } from "../integration/servers.ts";
import {
  assertAlertsMatch,
  type Client,
  client,
  drillConfig,
  drillProducer,
  drillStore,
  expectedAlertIds,
  misplacedRecords,
  placedBy,
  placementEnv,
  produceAll,
  simulatedStream,
  vigilPlacement,
  workerEnv,
} from "./drill.ts";
import { freePort, until } from "./workers.ts";

const ROOT = new URL("../../", import.meta.url);
const TOKEN = "scale-drill";

for (const who of ["kcat", "kafkajs"] as const satisfies readonly Client[]) {
  Deno.test({
    name: `cluster scaled 1 → 3 → 1 during a stream produced by ${who}: ` +
      "MongoDB holds exactly the replay's alerts",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => scaleDrill(who),
  });
}

async function scaleDrill(who: Client): Promise<void> {
  const partitioner = who === "kcat" ? "crc32" : "murmur2";
  const lines = await simulatedStream(
    80_000,
    31,
    placedBy(who),
    vigilPlacement(partitioner),
  );
  const expectedIds = await expectedAlertIds(lines, drillConfig(placementEnv(partitioner)));
  const prefix = `${unique("scale")}.`;
  const database = unique("scale");
  const port = freePort();
  const basePort = 20_000 + Math.floor(Math.random() * 20_000);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "cluster", "--workers", "1"],
    cwd: ROOT,
    env: {
      ...workerEnv(partitioner, prefix, database),
      PORT: String(port),
      ADMIN_TOKEN: TOKEN,
      VIGIL_CLUSTER_WORKER_BASE_PORT: String(basePort),
    },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Kept as it comes, so a failure can show what was said so far (the workers, children
  // of the cluster, hold the pipe open after it is gone).
  let saidSoFar = "";
  const stderr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) saidSoFar += decoder.decode(chunk, { stream: true });
    return saidSoFar;
  })();
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${port}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    });
  const workersReady = async (n: number) => {
    const r = await api("/api/v1/cluster").catch(() => null);
    if (!r || r.status !== 200) return undefined;
    const body = await r.json();
    const owned = body.workers.flatMap((w: { partitions: number[] | null }) => w.partitions ?? []);
    return body.size === n &&
        body.workers.every((w: { partitions: unknown }) => w.partitions !== null) &&
        owned.length === 12
      ? body
      : undefined;
  };
  const kafka = client(kafkaBrokers());
  const producer = await drillProducer(who, kcatBin(), kafkaBrokers(), prefix);
  const store = await drillStore(mongoUri(), database);
  try {
    await until("one worker owning every partition", () => workersReady(1));
    await produceAll(producer, lines, async (sent) => {
      if (sent === 20_000 || sent === 50_000) {
        const n = sent === 20_000 ? 3 : 1;
        const r = await api("/api/v1/cluster", {
          method: "POST",
          body: JSON.stringify({ workers: n }),
        });
        assert.equal(r.status, 202, await r.text());
        const spread = await until(`${n} workers sharing the partitions`, () => workersReady(n));
        if (n === 3) {
          for (const w of spread.workers) {
            assert.ok(w.partitions.length > 0, `worker ${w.slot} owns none`);
          }
        }
      }
    });
    await assertAlertsMatch(store, kafka, `${prefix}alerts`, expectedIds);
    // Placed where the workers place them: nothing moved.
    const last = await until("one worker", () => workersReady(1));
    assert.equal(await misplacedRecords(last.workers[0].port), 0);
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    const said = await stderr;
    assert.match(said, /Cluster stopped/);
    // Partitions that moved were restored from checkpoints, not re-read from the start.
    assert.match(said, /Partition restored from its checkpoint/);
  } catch (err) {
    // Show what the cluster said; its workers stop by themselves once it is gone.
    child.kill("SIGKILL");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const said = await Promise.race([
      stderr,
      new Promise<string>((r) => timer = setTimeout(() => r(saidSoFar || "(no stderr)"), 5_000)),
    ]);
    clearTimeout(timer);
    throw new Error(`${(err as Error).message}\n--- cluster stderr ---\n${said.slice(-4000)}`);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already stopped
    }
    await child.status;
    await producer.close();
    await store.close();
  }
}
