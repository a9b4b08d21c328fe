import assert from "node:assert/strict";
import { LOGIN_FEATURES, LOGIN_MODEL } from "../../actors/rules/login_risk.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { linesOf, replay } from "../../engine/replay.ts";
import { ModelService } from "../../models/service.ts";
import { SCENARIOS, Simulator } from "../../sim/simulator.ts";

const MODELS = new URL("../../models", import.meta.url).pathname;

Deno.test("The login-risk model loads with its manifest: the actors' features in order, parity with Python on the fixtures", async () => {
  const models = new ModelService({ ...defaults.models, dir: MODELS });
  try {
    // activate() refuses a model whose fixture rows differ from Python's by more than 1e-5.
    const m = await models.activate(LOGIN_MODEL, "2");
    assert.deepEqual(m.features, [...LOGIN_FEATURES]);
    assert.deepEqual(m.classes, ["benign", "risky"]);
    assert.equal(m.benign_class, "benign");
    const held = m.held_out as Record<string, { recall: Record<string, number> }>;
    assert.ok(held.credential_stuffing, "a scenario is kept out of training and reported");
  } finally {
    await models.close();
  }
});

Deno.test("Replay with the login-risk model finds the simulated account takeovers among a day of logins, with few false alerts", async () => {
  const models = new ModelService({ ...defaults.models, dir: MODELS });
  await models.activate(LOGIN_MODEL, "2");
  try {
    // Not the training simulation (seed 11): another seed, other users, another month.
    const sim = new Simulator({
      seed: 99,
      users: 2_000,
      start_ms: Date.UTC(2026, 2, 2),
      events_per_second: 1,
      attack_interval_s: 60,
      scenarios: SCENARIOS, // each scenario as often
    });
    const events = [...sim.until(Date.UTC(2026, 2, 3))];
    const text = events.map((e) => JSON.stringify(e)).join("\n");
    const config = structuredClone(defaults) as Config;
    const r = await replay(linesOf(text), config, models);

    const risky = new Map<string, string>(); // event id → scenario
    for (const t of sim.truths) {
      for (const l of t.risky_logins ?? []) risky.set(l.event_id, t.scenario);
    }
    const alerts = r.alerts.filter((a) => a.rule === "auth.risky_login");
    const found = new Set(alerts.map((a) => a.event_ids[0]!));
    const recall = (scenario: string) => {
      const ids = [...risky].filter(([, s]) => s === scenario).map(([id]) => id);
      return { n: ids.length, share: ids.filter((id) => found.has(id)).length / ids.length };
    };
    const takeover = recall("account_takeover");
    const guessed = recall("guess_then_success");
    const stuffed = recall("credential_stuffing"); // never trained on
    const travel = recall("impossible_travel");
    for (const x of [takeover, guessed, travel]) assert.ok(x.n >= 150, `${x.n} rows`);
    // One stuffing attack in three gets in.
    assert.ok(stuffed.n >= 50, `${stuffed.n} stuffing rows`);
    assert.ok(takeover.share >= 0.95, `account takeover recall ${takeover.share}`);
    assert.ok(guessed.share >= 0.95, `guess-then-success recall ${guessed.share}`);
    assert.ok(stuffed.share >= 0.85, `credential stuffing (held out) recall ${stuffed.share}`);
    assert.ok(travel.share >= 0.95, `impossible travel recall ${travel.share}`);

    // The owner's first login after an intruder's is measured from the intruder's place and
    // device: it looks like the way back, and is alerted as part of the incident (the
    // model is not trained on it either way). Any other alert on a benign login is false.
    const returns = new Set<string>();
    const intruded = new Set<string>();
    for (const e of events) {
      if (e.type !== "login_success") continue;
      const user = String(e.user_id), id = String(e.event_id);
      if (risky.has(id)) intruded.add(user);
      else if (intruded.delete(user)) returns.add(id);
    }
    const logins = events.filter((e) => e.type === "login_success").length;
    const benign = alerts.filter((a) => !risky.has(a.event_ids[0]!));
    const falseAlerts = benign.filter((a) => !returns.has(a.event_ids[0]!)).length;
    assert.ok(benign.length > falseAlerts, "owners' returns are alerted");
    assert.ok(
      falseAlerts <= 0.001 * logins,
      `${falseAlerts} false alerts among ${logins} logins (at most 1 per 1,000)`,
    );

    // Every alert's level is the one its risk falls in, and says what to do.
    // (its severity one step below the level: a model's score alone is a suspicion).
    const levels = [
      [config.auth.risky_login_high, "high", "block", "medium"],
      [config.auth.risky_login_medium, "medium", "step_up", "low"],
      [config.auth.risky_login_low, "low", "allow", "info"],
    ] as const;
    for (const a of alerts) {
      const [, level, action, severity] = levels.find(([t]) => a.score! >= t)!;
      assert.equal(a.severity, severity);
      assert.equal(a.evidence.level, level);
      assert.equal(a.evidence.action, action);
      assert.equal(a.model, "login_risk@2");
      assert.deepEqual(Object.keys(a.evidence.features as object), [...LOGIN_FEATURES]);
    }
    assert.ok(alerts.some((a) => a.evidence.level === "high"), "some at the block level");
  } finally {
    await models.close();
  }
});
