/**
 * schemathesis (from PyPI) against the OpenAPI document `deno task start` serves: it
 * generates requests from the document for every operation (examples, boundary values,
 * random data, and sequences that use what one answer returned in the next request), and
 * checks that no answer is a 5xx, each answer's status, content type, headers and body are
 * the ones the document gives for it, a request the document forbids is refused, an
 * undeclared method gets 405, and the auth it asks for is enforced.
 *
 * Left out: `positive_data_acceptance` (every request the document allows must be taken).
 * The document cannot say what some handlers also refuse, with a 400 and a message: an
 * opaque paging cursor that names nothing held, two parameters that go together
 * (`entity_type` with `entity_key`), a rule's own parameter names.
 *
 * @module
 */

import assert from "node:assert/strict";
import { get, startProcess, toolPath, waitFor } from "./workers.ts";

const TOKEN = "e2e-token-schemathesis-0123456789";

Deno.test({
  name:
    "schemathesis on the served OpenAPI document: no 5xx, every answer as the document gives it, forbidden requests refused, 405 for undeclared methods",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const bin = await toolPath("VIGIL_TEST_SCHEMATHESIS", "ensure-schemathesis.sh");
  const vigil = startProcess({
    ADMIN_TOKEN: TOKEN,
    VIGIL_SIMULATOR_ENABLED: "false",
    VIGIL_SIMULATOR_HISTORY_DAYS: "0",
  });
  try {
    await waitFor(
      "the API",
      60_000,
      async () => (await get(`${vigil.base}/ready`))?.status === 200 ? true : undefined,
      vigil.exited,
      vigil.stderr,
    );
    const run = await new Deno.Command(bin, {
      args: [
        "run",
        `${vigil.base}/openapi.json`,
        "--header",
        `Authorization: Bearer ${TOKEN}`,
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        "25",
        "--generation-deterministic",
        "--no-color",
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", SCHEMATHESIS_TELEMETRY: "false" },
    }).output();
    const text = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    const summary = text.slice(text.indexOf("SUMMARY"));
    console.log(summary.slice(0, 3_000));
    assert.equal(run.code, 0, text.slice(-20_000));
    assert.match(summary, /Tested: (\d+)/);
    const tested = Number(/Tested: (\d+)/.exec(summary)![1]);
    assert.ok(tested >= 40, `${tested} operations tested`);
    const cases = /(\d+) generated, (\d+) passed/.exec(summary);
    assert.ok(cases, summary);
    assert.equal(cases[2], cases[1], "every generated case passed");
    assert.ok(Number(cases[1]) >= 1_000, `${cases[1]} cases`);
  } finally {
    if (!vigil.exited()) vigil.child.kill("SIGTERM");
    await vigil.status;
    await vigil.stdoutDone;
    await vigil.stderrDone;
  }
});
