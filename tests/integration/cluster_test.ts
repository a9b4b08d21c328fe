import { Authenticator } from "../../api/auth.ts";
import { MemoryStore } from "../../io/memory_store.ts";
import type { AuditEntry } from "../../engine/audit.ts";
import assert from "node:assert/strict";
import { createClusterApp } from "../../api/cluster_app.ts";
import { type ClusterSettings, defaults } from "../../config/defaults.ts";
import { Cluster } from "../../supervisors/cluster.ts";

const quiet = () => {};

function settings(over: Partial<ClusterSettings> = {}): ClusterSettings {
  return {
    ...defaults.cluster,
    worker_base_port: 19101,
    restart_backoff_min_ms: 20,
    restart_backoff_max_ms: 50,
    ...over,
  };
}

/** A stand-in worker: a shell that sleeps (or exits at once with `exit_code`). */
function shellSpawn(behaviour: (slot: number) => string) {
  return (slot: number) =>
    new Deno.Command("bash", { args: ["-c", behaviour(slot)], stdout: "null", stderr: "null" })
      .spawn();
}

async function until(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("Cluster restarts a worker that dies, scales up and down, and keeps the SD file", async () => {
  const dir = await Deno.makeTempDir();
  const sd_file = `${dir}/targets.json`;
  const cluster = new Cluster({
    settings: settings({ sd_file }),
    spawn: shellSpawn(() => "exec sleep 60"),
    host: "127.0.0.1",
    onFatal: () => assert.fail("must not give up"),
    log: quiet,
  });
  try {
    await cluster.scale(2);
    assert.deepEqual(cluster.list().map((w) => [w.slot, w.port, w.status]), [
      [0, 19101, "running"],
      [1, 19102, "running"],
    ]);
    const targets = JSON.parse(await Deno.readTextFile(sd_file));
    assert.deepEqual(targets[0].targets, ["127.0.0.1:19101", "127.0.0.1:19102"]);

    const pid = cluster.list()[1]!.pid!;
    Deno.kill(pid, "SIGKILL");
    await until(
      "the restart",
      () => cluster.list()[1]!.restarts === 1 && cluster.list()[1]!.status === "running",
    );
    assert.notEqual(cluster.list()[1]!.pid, pid);

    await cluster.scale(3);
    assert.equal(cluster.list().length, 3);
    await cluster.scale(1);
    assert.deepEqual(cluster.list().map((w) => w.slot), [0]);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(sd_file))[0].targets, ["127.0.0.1:19101"]);
    await assert.rejects(() => cluster.scale(0), RangeError);
    await assert.rejects(() => cluster.scale(1000), RangeError);
  } finally {
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Cluster gives up on a worker that keeps crashing past its intensity", async () => {
  const fatal: string[] = [];
  const cluster = new Cluster({
    settings: settings({ max_restarts: 3, restart_window_ms: 60_000 }),
    spawn: shellSpawn((slot) => slot === 0 ? "exit 3" : "exec sleep 60"),
    host: "127.0.0.1",
    onFatal: (r) => fatal.push(r),
    log: quiet,
  });
  try {
    await cluster.scale(2);
    await until("giving up", () => fatal.length > 0);
    assert.match(fatal[0]!, /Worker 0 exited 4 times within 60000 ms \(last exit code 3\)/);
    assert.equal(cluster.list()[0]!.status, "failed");
    assert.equal(
      cluster.list()[0]!.restarts,
      3,
      "three restarts allowed, the fourth exit gives up",
    );
    assert.equal(cluster.list()[1]!.status, "running");
  } finally {
    await cluster.stop();
  }
});

Deno.test("createClusterApp() lists and scales workers behind a token and its role, and audits the scaling", async () => {
  const cluster = new Cluster({
    settings: settings(),
    spawn: shellSpawn(() => "exec sleep 60"),
    host: "127.0.0.1",
    onFatal: () => {},
    log: quiet,
  });
  const app = createClusterApp(cluster, {
    auth: new Authenticator({ tokens: { admin: "t", viewer: "v" }, cache_entries: 10 }),
    token: "t",
    host: "127.0.0.1",
    audit: new MemoryStore({ max_alerts: 1, max_dead_letters: 1 }),
  });
  const auth = { authorization: "Bearer t", "content-type": "application/json" };
  const viewer = { authorization: "Bearer v", "content-type": "application/json" };
  try {
    await cluster.scale(1);
    assert.equal((await app.request("/api/v1/cluster")).status, 401);
    assert.equal((await app.request("/api/v1/cluster", { headers: viewer })).status, 200);
    const refused = await app.request("/api/v1/cluster", {
      method: "POST",
      headers: viewer,
      body: '{"workers":2}',
    });
    assert.equal(refused.status, 403, "a viewer does not scale");
    assert.equal(cluster.size, 1);
    const list = await (await app.request("/api/v1/cluster", { headers: auth })).json();
    assert.equal(list.size, 1);
    assert.equal(list.workers[0].metrics, "http://127.0.0.1:19101/metrics");
    assert.equal(list.workers[0].partitions, null, "a stand-in worker has no API to ask");
    const scaled = await app.request("/api/v1/cluster", {
      method: "POST",
      headers: auth,
      body: '{"workers":2}',
    });
    assert.equal(scaled.status, 202);
    assert.equal((await scaled.json()).size, 2);
    const audit = await (await app.request("/api/v1/audit", { headers: auth })).json();
    assert.deepEqual(
      audit.entries.map((e: AuditEntry) => [e.principal, e.action, e.before, e.after]),
      [["admin", "cluster.scale", { size: 1 }, { size: 2 }]],
    );
    assert.equal((await app.request("/api/v1/audit", { headers: viewer })).status, 403);
    for (
      const [body, status] of [["{", 400], ['{"workers":"two"}', 400], [
        '{"workers":0}',
        400,
      ]] as const
    ) {
      const r = await app.request("/api/v1/cluster", { method: "POST", headers: auth, body });
      assert.equal(r.status, status, body);
      assert.ok((await r.json()).error);
    }
    assert.equal((await app.request("/ready")).status, 200);
    const metrics = await (await app.request("/metrics")).text();
    assert.match(metrics, /vigil_cluster_workers\{status="running"\} 2/);
  } finally {
    await cluster.stop();
  }
});
