import assert from "node:assert/strict";
import { dashboards, panelQueries } from "../../tools/dashboards.ts";

const DIR = new URL("../../deploy/grafana/dashboards/", import.meta.url);

Deno.test("the committed Grafana dashboards are what tools/dashboards.ts writes", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(DIR)) if (e.name.endsWith(".json")) files.push(e.name);
  const written = dashboards();
  assert.deepEqual(files.sort(), written.map((d) => d.file).sort());
  for (const d of written) {
    assert.equal(
      await Deno.readTextFile(new URL(d.file, DIR)),
      d.text,
      `${d.file} differs: run deno run --allow-write tools/dashboards.ts`,
    );
  }
});

Deno.test("every dashboard panel has a query, each on the chosen workers, none labelled by user, IP or flow", () => {
  const queries = panelQueries();
  assert.ok(queries.length >= 40, `${queries.length} queries`);
  const boards = new Set(queries.map((x) => x.board));
  assert.deepEqual([...boards].sort(), [
    "vigil-actors",
    "vigil-detections",
    "vigil-inference",
    "vigil-kafka",
    "vigil-kpis",
    "vigil-overview",
    "vigil-runtime",
  ]);
  for (const { panel, expr } of queries) {
    assert.match(expr, /instance=~"\$instance"/, `${panel}: ${expr}`);
    assert.doesNotMatch(expr, /\b(user_id|ip|flow_id|src_ip)\b/, `${panel}: ${expr}`);
  }
});
