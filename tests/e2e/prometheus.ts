/**
 * A real Prometheus (from Debian, `scripts/ensure-prometheus.sh`) for the e2e tests: the
 * shipped rules loaded, one Vigil target scraped and rules evaluated every second.
 *
 * @module
 */

import { freePort, get } from "./workers.ts";

/** The shipped alert rules. */
export const RULES = new URL("../../deploy/prometheus/rules/vigil.yml", import.meta.url).pathname;

/** A tool of the Prometheus set-up (prometheus, promtool, alertmanager, amtool). */
export function bin(tool: string): string {
  const dir = Deno.env.get("VIGIL_TEST_PROMETHEUS_BIN");
  if (!dir) {
    throw new Error(
      'VIGIL_TEST_PROMETHEUS_BIN is not set: run the tests through "deno task test", which fetches Prometheus',
    );
  }
  return `${dir}/${tool}`;
}

/** One series of an instant query's answer. */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query's answer as Prometheus gives it (`data` with `status` "success"). */
export interface QueryAnswer {
  status: string;
  data: { result: Sample[] };
}

/** A running Prometheus. */
export interface Prometheus {
  readonly child: Deno.ChildProcess;
  /** Its HTTP API base (`…/api/v1`). */
  readonly api: string;
  /** Whether it has exited. */
  exited(): boolean;
  /** An instant query's parsed answer (null: no answer). */
  query(q: string): Promise<QueryAnswer | null>;
  /** Stops it and waits for it. */
  stop(): Promise<void>;
}

/** Starts Prometheus in `dir` scraping `target` (host:port) every second, with the shipped rules. */
export async function startPrometheus(dir: string, target: string): Promise<Prometheus> {
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/prometheus.yml`,
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      `rule_files: ["${RULES}"]`,
      "scrape_configs:",
      "  - job_name: vigil",
      `    static_configs: [{ targets: ["${target}"] }]`,
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(bin("prometheus"), {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  const api = `http://127.0.0.1:${port}/api/v1`;
  return {
    child,
    api,
    exited: () => exited,
    query: async (q) => {
      const r = await get(`${api}/query?query=${encodeURIComponent(q)}`);
      return r ? JSON.parse(r.text) : null;
    },
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      await child.status;
    },
  };
}
