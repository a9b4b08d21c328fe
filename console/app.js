/**
 * The console's entry: sign-in, the frame (navigation, who is signed in, whether the live
 * stream is connected) and the screens by the address's fragment:
 * `#/queue`, `#/incident/ID`, `#/entity/TYPE/KEY`, `#/rules`, `#/models`, `#/trends`,
 * `#/system`.
 *
 * @module
 */

import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, onSignedOut, restore, session, signIn, signOut, stream } from "./api.js";
import { html, live, Problem } from "./ui.js";
import { Queue } from "./queue.js";
import { IncidentView } from "./incident.js";
import { EntityView } from "./entity.js";
import { Rules } from "./rules.js";
import { Models } from "./models.js";
import { System } from "./system.js";
import { Trends } from "./trends.js";

/** The screen an address fragment names. @param {string} hash */
function route(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  switch (parts[0]) {
    case "incident":
      return { screen: "incident", id: parts[1] ?? "" };
    case "entity":
      return { screen: "entity", type: parts[1] ?? "", key: parts.slice(2).join("/") };
    case "rules":
    case "models":
    case "trends":
    case "system":
      return { screen: parts[0] };
    default:
      return { screen: "queue" };
  }
}

/** The sign-in form. @param {{ onIn: () => void }} p */
function SignIn({ onIn }) {
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const [busy, setBusy] = useState(false);
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.target);
    const token = String(new FormData(form).get("token") ?? "").trim();
    if (token === "") return setError("Enter your token");
    setBusy(true);
    try {
      await signIn(token);
      onIn();
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? "That token is not valid"
          : String(err.message),
      );
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="signin">
      <h1>Vigil console</h1>
      <form onSubmit=${submit} aria-describedby="signin-help">
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required />
        <p id="signin-help" class="hint">
            The token printed by <code>deno task start</code> (ADMIN_TOKEN), or your own
            analyst's or viewer's token.
          </p>
        <button type="submit" disabled=${busy}>Sign in</button>
        <${Problem} error=${error} />
      </form>
    </main>
  `;
}

const NAV = [
  ["queue", "Queue"],
  ["rules", "Rules"],
  ["models", "Models"],
  ["trends", "Trends"],
  ["system", "System"],
];

/** The signed-in frame. @param {{ onOut: () => void }} p */
function Shell({ onOut }) {
  const [where, setWhere] = useState(route(location.hash));
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const on = () => setWhere(route(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  useEffect(() =>
    stream(
      (event, data) => live.dispatchEvent(new CustomEvent("message", { detail: { event, data } })),
      setConnected,
    ), []);
  const s = session();
  const current = where.screen === "incident" || where.screen === "entity" ? "queue" : where.screen;
  let screen;
  if (where.screen === "incident") screen = html`<${IncidentView} id=${where.id} />`;
  else if (where.screen === "entity") {
    screen = html`<${EntityView} type=${where.type} entityKey=${where.key} />`;
  } else if (where.screen === "rules") screen = html`<${Rules} />`;
  else if (where.screen === "models") screen = html`<${Models} />`;
  else if (where.screen === "trends") screen = html`<${Trends} />`;
  else if (where.screen === "system") screen = html`<${System} />`;
  else screen = html`<${Queue} />`;
  return html`
    <div class="shell">
      <header class="top">
        <a class="brand" href="#/queue">Vigil</a>
        <nav aria-label="Screens">
            ${NAV.map(([id, label]) =>
              html`<a href=${`#/${id}`} aria-current=${current === id ? "page" : null}>${label}</a>`
            )}
          </nav>
        <span class=${connected ? "live on" : "live"} role="status">
            ${connected ? "Live" : "Reconnecting…"}
          </span>
        <span class="who">${s?.principal} <span class="badge">${s?.role}</span></span>
        <button type="button" class="quiet" onClick=${async () => {
          await signOut();
          onOut();
        }}>Sign out</button>
      </header>
      <main id="main">${screen}</main>
    </div>
  `;
}

function App() {
  const [state, setState] = useState(/** @type {"loading" | "in" | "out"} */ ("loading"));
  useEffect(() => {
    onSignedOut(() => setState("out"));
    restore().then((s) => setState(s ? "in" : "out"));
  }, []);
  if (state === "loading") {
    return html`
      <main>
        <p>Loading…</p>
      </main>
    `;
  }
  if (state === "out") return html`<${SignIn} onIn=${() => setState("in")} />`;
  return html`<${Shell} onOut=${() => setState("out")} />`;
}

render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById("app")));
