import assert from "node:assert/strict";
import { appOf } from "../../api/system_app.ts";
import { TOKEN, withSystem } from "./system.ts";

Deno.test("A path the API serves, asked with a method it does not serve, is a 405 naming the methods in Allow; an unknown path stays a 404", async () => {
  await withSystem(async (system) => {
    const app = appOf(system);
    const ask = (method: string, path: string) =>
      app.request(path, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    const cases: [string, string, string][] = [
      ["PUT", "/health", "GET, HEAD"],
      ["DELETE", "/api/v1/alerts", "GET, HEAD"],
      ["PUT", "/api/v1/suppressions", "GET, HEAD, POST"],
      ["POST", "/api/v1/alerts/a-1", "GET, HEAD, PATCH"],
      ["PATCH", "/api/v1/suppressions/s-1", "DELETE"],
    ];
    for (const [method, path, allow] of cases) {
      const r = await ask(method, path);
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.get("allow"), allow, `${method} ${path}`);
      const body = await r.json();
      assert.match(body.error, new RegExp(`${method} is not allowed on`));
    }
    const unknown = await ask("GET", "/api/v1/nothing-here");
    assert.equal(unknown.status, 404);
    assert.match((await unknown.json()).error, /No route GET \/api\/v1\/nothing-here/);
  });
});
