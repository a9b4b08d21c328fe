import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";
import { VigilSystem } from "../../engine/system.ts";
import { scratch, variant } from "./scratch.ts";
import { appOf } from "../../api/system_app.ts";

const TOKEN = "models-token";
const FLOW = "flow_classifier";

async function call(system: VigilSystem, path: string, body?: unknown, token = TOKEN) {
  const res = await appOf(system).request(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

Deno.test("Hot reload through the API: start serves the newest version, a good one swaps in, a bad one is refused and the active keeps serving", async () => {
  const dir = await scratch();
  await variant(dir, "2");
  const config = loadConfig({});
  config.models.dir = dir;
  config.models.drift_sample_every = 1; // every row in the drift counts below
  const system = new VigilSystem({ config, token: TOKEN });
  await system.start({ simulate: false });
  try {
    let r = await call(system, "/api/v1/models");
    assert.equal(r.status, 200);
    assert.equal(r.json.models[0].name, FLOW);
    assert.equal(r.json.models[0].active, "2", "start loads the newest version");
    assert.deepEqual(r.json.models[0].versions, ["1", "2"]);
    assert.equal(r.json.models[0].manifest.features, 52);

    r = await call(system, `/api/v1/models/${FLOW}/activate`, { version: "1" });
    assert.deepEqual([r.status, r.json], [200, { name: FLOW, version: "1", previous: "2" }]);

    await variant(dir, "3", { onnx: (b) => b.slice(0, 500) });
    r = await call(system, `/api/v1/models/${FLOW}/activate`, { version: "3" });
    assert.equal(r.status, 422);
    assert.match(r.json.error, /Cannot load model flow_classifier v3: onnxruntime refused it/);
    assert.equal(r.json.active, "unchanged");
    assert.equal(system.models.manifest(FLOW)?.version, "1");
    const scores = await system.models.infer(FLOW, new Float32Array(52));
    assert.equal(scores.length, 7, "v1 still serves");

    r = await call(system, `/api/v1/models/${FLOW}/activate`, { version: "9" });
    assert.equal(r.status, 404);
    assert.match(r.json.error, /No model flow_classifier v9/);
    r = await call(system, `/api/v1/models/${FLOW}/activate`, { version: "../etc" });
    assert.equal(r.status, 400);
    r = await call(system, `/api/v1/models/${FLOW}/activate`, "{not json");
    assert.equal(r.status, 400);
    r = await call(system, `/api/v1/models/${FLOW}/activate`, { version: "1" }, "wrong");
    assert.equal(r.status, 401);

    r = await call(system, `/api/v1/models/${FLOW}/shadow`, { version: "2" });
    assert.deepEqual([r.status, r.json], [200, { name: FLOW, shadow: "2" }]);
    await system.models.infer(FLOW, new Float32Array(52));
    for (let i = 0; i < 100 && (system.models.shadowOf(FLOW)?.agree ?? 0) === 0; i++) {
      await new Promise((res) => setTimeout(res, 10));
    }
    r = await call(system, "/api/v1/models");
    assert.deepEqual(r.json.models[0].shadow, { version: "2", agree: 1, disagree: 0, error: 0 });
    r = await call(system, `/api/v1/models/${FLOW}/shadow`, { version: "3" });
    assert.equal(r.status, 422, "a broken candidate is refused");
    const res = await appOf(system).request(`/api/v1/models/${FLOW}/shadow`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.deepEqual([res.status, await res.json()], [200, { name: FLOW, shadow: null }]);

    const metrics = await system.metrics.text();
    assert.match(metrics, /vigil_model_active\{model="flow_classifier",version="1"\} 1/);
    assert.doesNotMatch(metrics, /version="2"\} 1/, "only the active version is 1");
    assert.match(
      metrics,
      /vigil_model_drift_psi\{model="flow_classifier",feature="Flow Duration"\} \d/,
    );
    assert.match(metrics, /vigil_model_drift_rows\{model="flow_classifier"\} 2/);
    assert.match(
      metrics,
      /vigil_model_shadow_rows_total\{model="flow_classifier",version="2",result="agree"\} 1/,
    );
  } finally {
    await system.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A model name is checked against the served models: a path out of the models folder loads nothing, even where a model waits there", async () => {
  const dir = await scratch();
  // A valid model beside the folder, its manifest naming it by the path that reaches it.
  const outside = `${dir}-evil`;
  const evil = `../${outside.slice(outside.lastIndexOf("/") + 1)}`;
  await Deno.mkdir(outside);
  for (const f of ["v1.onnx", "v1.fixtures.json"]) {
    await Deno.copyFile(`${dir}/${FLOW}/${f}`, `${outside}/${f}`);
  }
  const m = JSON.parse(await Deno.readTextFile(`${dir}/${FLOW}/v1.manifest.json`));
  await Deno.writeTextFile(`${outside}/v1.manifest.json`, JSON.stringify({ ...m, name: evil }));
  await Deno.mkdir(`${dir}/custom`); // in the folder, but not a model the engine serves
  for (const f of ["v1.onnx", "v1.fixtures.json"]) {
    await Deno.copyFile(`${dir}/${FLOW}/${f}`, `${dir}/custom/${f}`);
  }
  await Deno.writeTextFile(
    `${dir}/custom/v1.manifest.json`,
    JSON.stringify({ ...m, name: "custom" }),
  );
  const config = loadConfig({});
  config.models.dir = dir;
  const system = new VigilSystem({ config, token: TOKEN });
  await system.start({ simulate: false });
  try {
    const r = await call(system, `/api/v1/models/${encodeURIComponent(evil)}/activate`, {
      version: "1",
    });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.error, /Cannot use model name/);
    const custom = await call(system, "/api/v1/models/custom/activate", { version: "1" });
    assert.deepEqual([custom.status, custom.json.error], [
      404,
      "No model custom; known: flow_classifier, login_risk",
    ]);
    await assert.rejects(system.models.activate(evil, "1"), /a name and a version are plain/);
    assert.deepEqual(system.models.list(), { [FLOW]: "1" }, "nothing else was loaded");
    const listed = await call(system, "/api/v1/models");
    assert.deepEqual(listed.json.models.map((x: { name: string }) => x.name), [FLOW]);
  } finally {
    await system.stop();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
