import assert from "node:assert/strict";
import { type Config, defaults } from "../../config/defaults.ts";
import { ConfigError, loadConfig } from "../../config/load.ts";
import { outOfRange, PARAM_RANGES } from "../../config/ranges.ts";
import { RuleError, RULES, Rules } from "../../engine/rules.ts";

const fresh = () => structuredClone(defaults) as Config;

Deno.test("PARAM_RANGES gives every rule parameter a range, and every default lies within it", () => {
  const paths = new Set(RULES.flatMap((r) => r.params));
  assert.deepEqual([...PARAM_RANGES.keys()].sort(), [...paths].sort());
  const sections = defaults as unknown as Record<string, Record<string, number>>;
  for (const [path, range] of PARAM_RANGES) {
    const [section, name] = path.split(".") as [string, string];
    assert.equal(outOfRange(sections[section]![name]!, range), null, path);
  }
});

Deno.test("Rules.change() refuses a parameter outside its range, saying the range, and changes nothing", () => {
  const c = fresh();
  const rules = new Rules(c);
  const refused = (rule: string, params: Record<string, unknown>, message: RegExp) =>
    assert.throws(() => rules.change(rule, { params }), (err: unknown) => {
      assert.ok(err instanceof RuleError, String(err));
      assert.match(err.message, message);
      return true;
    });
  refused(
    "auth.brute_force",
    { brute_force_failures: 1e308 },
    /^Cannot set brute_force_failures to 1e\+308: it must be a whole number from 1 to 1000$/,
  );
  refused("auth.brute_force", { brute_force_failures: 2.5 }, /a whole number from 1 to 1000/);
  refused("auth.brute_force", { brute_force_failures: 0 }, /a whole number from 1 to 1000/);
  refused("svc.high_cpu", { high_cpu_percent: 101 }, /a number from 0 to 100$/);
  refused("user.account_takeover", { max_payees: 1e9 }, /from 1 to 256/);
  refused("tx.large_amount", { large_amount_cap: 1e308 }, /from 0 to 1000000000000000$/);
  refused("svc.metric_anomaly", { anomaly_min_methods: 5 }, /from 1 to 4/);
  assert.deepEqual(c, defaults, "nothing changed");
  assert.equal(
    rules.change("auth.brute_force", { params: { brute_force_failures: 1_000 } })!
      .params.brute_force_failures,
    1_000,
  );
  assert.equal(
    rules.change("svc.high_cpu", { params: { high_cpu_percent: 99.5 } })!
      .params.high_cpu_percent,
    99.5,
  );
});

Deno.test("loadConfig() refuses a rule parameter outside its range from the environment", () => {
  assert.throws(
    () => loadConfig({ VIGIL_TX_LARGE_AMOUNT_CAP: "1e308" }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message === "Cannot use VIGIL_TX_LARGE_AMOUNT_CAP=1e+308: it must be a number from 0 " +
          "to 1000000000000000",
  );
  assert.throws(() => loadConfig({ VIGIL_SVC_MAX_METRICS: "100000" }), /from 1 to 256/);
  assert.equal(loadConfig({ VIGIL_SVC_MAX_METRICS: "256" }).svc.max_metrics, 256);
});
