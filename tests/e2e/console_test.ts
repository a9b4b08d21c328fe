/**
 * The console in a real browser (issue 15, "Tests"): headless Chromium from Debian's
 * package (scripts/ensure-chromium.sh) driven by playwright-core, against `deno task start`.
 * An analyst signs in, sees the queue fill from the live stream, opens a brute-force
 * incident, resolves it as a false positive and sees the rule's precision change; a viewer
 * sees no change buttons and the API refuses a change; the admin signs in with the token
 * printed at start and sees today's trends. axe-core finds no serious or critical violation on any screen, and a
 * screenshot of each is kept in .cache/test-output/console/. Needs --allow-all.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import axeSource from "axe-core/axe.min.js" with { type: "text" };
import { get, startProcess, toolPath, waitFor } from "./workers.ts";

const ROOT = new URL("../../", import.meta.url);
const OUT = new URL(".cache/test-output/console/", ROOT);
const ANALYST = "console-analyst-token-0123";
const VIEWER = "console-viewer-token-0123";

/** The serious and critical accessibility violations axe-core finds on the page. */
async function axeProblems(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) {
    await page.evaluate(axeSource); // by the driver: the page's CSP allows no inline script
  }
  return await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const page = globalThis as any;
    const r = await page.axe.run(page.document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v: { impact: string }) => v.impact === "serious" || v.impact === "critical")
      .map((v: { id: string; impact: string; nodes: { target: string[] }[] }) =>
        `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`
      );
  });
}

/** Checks the screen with axe-core and keeps its screenshot. */
async function screen(page: Page, name: string): Promise<void> {
  await page.waitForLoadState("networkidle").catch(() => {});
  assert.deepEqual(await axeProblems(page), [], `accessibility of the ${name} screen`);
  await page.screenshot({ path: new URL(`${name}.png`, OUT).pathname, fullPage: true });
}

async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/#/queue`);
  await page.fill("#token", token);
  await page.click("form button[type=submit]");
  await page.waitForSelector("header.top nav");
}

async function signOut(page: Page): Promise<void> {
  await page.click("header.top button");
  await page.waitForSelector("#token");
}

/** The precision the rules screen shows for a rule. */
async function precisionShown(page: Page, base: string, rule: string): Promise<string> {
  await page.goto(`${base}/#/rules`);
  const cell = page.locator(`tr[data-rule="${rule}"] td.precision`);
  await cell.waitFor();
  return (await cell.textContent())!.trim();
}

Deno.test({
  name: "console in Chromium: an analyst works an incident to resolved; a viewer changes nothing",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await Deno.mkdir(OUT, { recursive: true });
  const started = startProcess({
    // No ADMIN_TOKEN: the one printed at start is the admin's, as a person would use it.
    ANALYST_TOKEN: ANALYST,
    VIEWER_TOKEN: VIEWER,
    VIGIL_SIMULATOR_BACKFILL_S: "0",
    VIGIL_SIMULATOR_ATTACK_INTERVAL_S: "10",
    VIGIL_IO_ARCHIVE_RAW_EVENTS: "true",
    // Today's counts only (the history of a default start takes minutes of a core).
    VIGIL_SIMULATOR_HISTORY_DAYS: "0",
  });
  const { child, base, status, exited } = started;
  const tail = () => started.stderr().slice(-3_000);
  const browser = await chromium.launch({
    executablePath: await toolPath("VIGIL_TEST_CHROMIUM", "ensure-chromium.sh"),
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  try {
    await waitFor(
      "GET /ready",
      30_000,
      async () => {
        const r = await get(`${base}/ready`);
        return r?.status === 200 ? r : undefined;
      },
      exited,
      tail,
    );
    const printed = /ADMIN_TOKEN is not set; generated one for this run: (\S+)/.exec(
      started.stderr(),
    );
    assert.ok(printed, `the admin token is printed at start:\n${tail()}`);

    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    // A wrong token is refused on the page.
    await page.goto(`${base}/`);
    await page.fill("#token", "not-a-token");
    await page.click("form button[type=submit]");
    await page.waitForSelector("text=That token is not valid");
    await screen(page, "sign-in");

    // The analyst: the queue fills from the live stream (a row the stream added is fresh).
    await signIn(page, base, ANALYST);
    await page.waitForSelector("header.top .live.on", { timeout: 10_000 });
    await page.waitForSelector("table.queue tbody tr.fresh", { timeout: 40_000 });
    const row = page.locator("table.queue tbody tr", { hasText: "auth.brute_force" }).first();
    await row.waitFor({ timeout: 40_000 });
    await screen(page, "queue");

    const rule = "auth.brute_force";
    const before = await precisionShown(page, base, rule);

    // Its incident: the timeline shows the alert against its threshold and the failed logins.
    await page.goto(`${base}/#/queue`);
    const link = page.locator("table.queue tbody tr", { hasText: rule }).first().locator("a")
      .first();
    await link.click();
    await page.waitForSelector(".timeline .t-alert");
    await page.waitForSelector(".timeline .t-event", { timeout: 10_000 });
    assert.match(await page.locator(".measures").first().textContent() ?? "", /failures in window/);
    assert.ok(await page.locator(".timeline .t-event").count() >= 5, "the five failed logins");
    const incidentId = /#\/incident\/(.+)$/.exec(page.url())![1]!;
    await screen(page, "incident");

    // Acknowledge, then resolve as a false positive with a note.
    await page.click("button:has-text('Acknowledge')");
    await page.waitForSelector(".said:has-text('Acknowledged')");
    await page.check("input[name=label][value=false_positive]");
    await page.fill(
      "form.resolve textarea[name=note]",
      "The user's own retries after a password change",
    );
    await page.click("form.resolve button[type=submit]");
    await page.waitForSelector(".said:has-text('Resolved')");
    assert.match(
      await page.locator("table.fields").first().textContent() ?? "",
      /resolved \(false positive\)/,
    );
    await screen(page, "incident-resolved");

    // The rule's precision changed.
    let after = "";
    await waitFor(
      "the rule's precision to change",
      15_000,
      async () => {
        after = await precisionShown(page, base, rule);
        return after !== before ? after : undefined;
      },
      exited,
      tail,
    );
    assert.match(after, /^\d+\.\d %$/, `precision shown: ${after}`);
    await screen(page, "rules");

    // The entity behind it.
    await page.goto(`${base}/#/incident/${incidentId}`);
    await page.locator(".entities a").first().click();
    await page.waitForSelector("h2:has-text('Current state')");
    await screen(page, "entity");
    await signOut(page);

    // The viewer: no change buttons anywhere, and the API refuses a change.
    await signIn(page, base, VIEWER);
    await page.goto(`${base}/#/incident/${incidentId}`);
    await page.waitForSelector(".timeline");
    assert.equal(await page.locator("section.actions").count(), 0, "no actions for a viewer");
    assert.ok(await page.locator("text=Your role reads only").count() === 1);
    await page.goto(`${base}/#/rules`);
    await page.waitForSelector("table.rules tbody tr");
    assert.equal(await page.locator("form.change, details summary").count(), 0);
    await page.goto(`${base}/#/system`);
    await page.waitForSelector("h2:has-text('Dead letters')");
    assert.equal(await page.locator("button:has-text('Re-drive')").count(), 0);
    const refused = await page.evaluate(async (id) => {
      const s = await (await fetch("/auth/session")).json();
      const r = await fetch(`/api/v1/incidents/${id}`, {
        method: "PATCH",
        headers: {
          "content-type": "application/json",
          "x-csrf-token": s.csrf_token,
          "if-match": '"0"',
        },
        body: JSON.stringify({ status: "acknowledged" }),
      });
      return { role: s.role, status: r.status, error: (await r.json()).error };
    }, incidentId);
    assert.deepEqual(refused.role, "viewer");
    assert.equal(refused.status, 403);
    assert.match(refused.error, /needs the analyst role/);
    await signOut(page);

    // The admin, with the printed token: models and the system, with their changes.
    await signIn(page, base, printed[1]!);
    await page.goto(`${base}/#/models`);
    await page.waitForSelector("article.model button:has-text('Activate')");
    await screen(page, "models");
    await page.goto(`${base}/#/system`);
    await page.waitForSelector("button:has-text('Re-drive')");
    await screen(page, "system");

    // Trends: today's logins per day and per hour, from the roll-up job's first run.
    await page.goto(`${base}/#/trends`);
    const today = page.locator("table[aria-label='Per day'] tbody tr", {
      hasText: new Date().toISOString().slice(0, 10),
    });
    await today.waitFor();
    const logins = Number((await today.locator("td").first().textContent())!.replaceAll(",", ""));
    assert.ok(logins > 0, `today's logins shown: ${logins}`);
    assert.ok(await page.locator("figure .uplot canvas").count() === 1, "the hourly chart");
    assert.match(
      await page.locator("table.fields", { hasText: "roll-up job" }).textContent() ?? "",
      /outcome\s*ok/,
    );
    await screen(page, "trends");
    assert.deepEqual(errors, [], "no script error on the page");
  } finally {
    await browser.close();
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      if (exited()) break;
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
      await Promise.race([status, new Promise((r) => setTimeout(r, 15_000))]);
    }
    await started.stdoutDone;
    await started.stderrDone;
  }
});
