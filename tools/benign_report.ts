/**
 * Prints how often each rule fires on benign traffic (`sim/benign_check.ts`):
 *
 * ```sh
 * deno run -A tools/benign_report.ts [--users=2000] [--days=5] [--warmup=2] [--seed=14] [--models] [--no-flows] [--no-ops] [--show=RULE]
 * ```
 *
 * `--models` loads the login-risk and flow models from `models/` (FFI), so that
 * `auth.risky_login` and `flow.*` take part; `--show=RULE` prints that rule's alerts.
 *
 * @module
 */

import { FLOW_MODEL } from "../actors/source.ts";
import { LOGIN_MODEL } from "../actors/rules/login_risk.ts";
import { defaults } from "../config/defaults.ts";
import { ModelService } from "../models/service.ts";
import { benignEvents, benignOptions } from "../sim/benign.ts";
import { countAlerts } from "../sim/benign_check.ts";

const arg = (name: string) => Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
const o = benignOptions(Object.fromEntries(
  Object.entries({
    users: num("users"),
    days: num("days"),
    warmup_days: num("warmup"),
    seed: num("seed"),
    flows: Deno.args.includes("--no-flows") ? false : undefined,
    ops: Deno.args.includes("--no-ops") ? false : undefined,
  }).filter(([, v]) => v !== undefined),
));

let models: ModelService | null = null;
if (Deno.args.includes("--models")) {
  models = new ModelService({
    ...defaults.models,
    dir: new URL("../models", import.meta.url).pathname,
  });
  await models.activate(LOGIN_MODEL, "2");
  await models.activate(FLOW_MODEL, "1");
}
try {
  const t0 = performance.now();
  const events = benignEvents(o);
  const t1 = performance.now();
  const r = await countAlerts(events, o, undefined, models);
  const kinds = new Map<string, number>();
  for (const e of events) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  console.log(
    `${r.events} events (${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")}), ` +
      `${r.invalid} invalid; ${o.users} users, ${o.warmup_days} + ${o.days} days, seed ${o.seed}; ` +
      `generated in ${Math.round(t1 - t0)} ms, replayed in ${
        Math.round(performance.now() - t1)
      } ms`,
  );
  console.log("rule | alerts | per 1,000 users per day | entities | severities");
  for (const x of r.rules) {
    console.log(
      `${x.rule} | ${x.alerts} | ${x.per_1000_users_per_day} | ${x.entities} | ${
        x.severities.join(",")
      }`,
    );
  }
  const show = arg("show");
  if (show) {
    for (const a of r.alerts.filter((a) => a.rule === show).slice(0, 20)) {
      console.log(JSON.stringify({ t: a.timestamp, e: a.entity.key, ev: a.evidence }));
    }
  }
} finally {
  await models?.close();
}
