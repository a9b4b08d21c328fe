/**
 * The models: versions (the active one, a shadow beside it and their agreement), the
 * drift of each feature's live values against training (from `/metrics`), and for admins
 * activating a version and starting or stopping a shadow.
 *
 * @module
 */

import { useState } from "preact/hooks";
import { can, request } from "./api.js";
import { Fields, html, metricsOf, Problem, Screen, useData } from "./ui.js";

async function load() {
  const [models, metrics] = await Promise.all([
    request("GET", "/api/v1/models").then((r) => r.data.models),
    fetch("/metrics").then((r) => r.text()).catch(() => ""),
  ]);
  const drift = metricsOf(metrics, ["vigil_model_drift_psi", "vigil_model_drift_rows"]);
  return { models, drift };
}

/** An admin's version changes. @param {{ model: any, done: () => void }} p */
function Versions({ model, done }) {
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const base = `/api/v1/models/${encodeURIComponent(model.name)}`;
  /** @param {string} method @param {string} path @param {unknown} [body] */
  const run = async (method, path, body) => {
    try {
      await request(method, path, body);
      setError(null);
      done();
    } catch (err) {
      setError(String(/** @type {Error} */ (err).message));
    }
  };
  /** @param {SubmitEvent} e @param {"activate" | "shadow"} what */
  const submit = (e, what) => {
    e.preventDefault();
    const v = String(new FormData(/** @type {HTMLFormElement} */ (e.target)).get("version"));
    run("POST", `${base}/${what}`, { version: v });
  };
  const others = model.versions.filter((/** @type {string} */ v) => v !== model.active);
  return html`<div class="row">
    ${
    others.length > 0
      ? html`
        <form aria-label=${`Activate a version of ${model.name}`} onSubmit=${(
          /** @type {SubmitEvent} */ e,
        ) => submit(e, "activate")}>
          <label>Version <select name="version">${others.map((/** @type {string} */ v) =>
            html`<option value=${v}>${v}</option>`
          )}</select></label>
          <button type="submit">Activate</button>
        </form>
        <form aria-label=${`Shadow a version of ${model.name}`} onSubmit=${(
          /** @type {SubmitEvent} */ e,
        ) => submit(e, "shadow")}>
          <label>Version <select name="version">${others.map((/** @type {string} */ v) =>
            html`<option value=${v}>${v}</option>`
          )}</select></label>
          <button type="submit">Score in shadow</button>
        </form>
      `
      : null
  }
    ${
    model.shadow
      ? html`<button type="button" onClick=${() =>
        run("DELETE", `${base}/shadow`)}>Stop shadow</button>`
      : null
  }
    <${Problem} error=${error} />
  </div>`;
}

export function Models() {
  const data = useData(load, []);
  const admin = can("admin");
  return html`<${Screen} title="Models">
    <${Problem} error=${data.error} />
    ${
    (data.data?.models ?? []).map((/** @type {any} */ m) => {
      const s = m.shadow;
      const judged = s ? s.agree + s.disagree : 0;
      const psi = data.data.drift.filter((d) =>
        d.name === "vigil_model_drift_psi" && d.labels.model === m.name
      )
        .sort((a, b) => b.value - a.value);
      const rows = data.data.drift.find((d) =>
        d.name === "vigil_model_drift_rows" && d.labels.model === m.name
      );
      return html`<article class="model" key=${m.name}>
        <h2>${m.name}</h2>
        <${Fields} caption="Versions" rows=${[
        ["active", m.active],
        ["versions", m.versions.join(", ")],
        [
          "shadow",
          s ? `v${s.version}: ${s.agree} agree, ${s.disagree} disagree, ${s.error} errors` : null,
        ],
        [
          "shadow agreement",
          judged > 0 ? `${(100 * s.agree / judged).toFixed(1)} % of ${judged}` : null,
        ],
        ["trained", m.manifest?.created_at],
        ["features", m.manifest?.features],
      ]} />
        <h3>Drift (population stability index, live against training${
        rows ? `, over ${rows.value} rows` : ""
      })</h3>
        ${
        psi.length === 0 ? html`<p class="muted">No drift figures yet.</p>` : html`
          <table class="drift">
            <thead>
              <tr>
                <th scope="col">feature</th>
                <th scope="col">PSI</th>
                <th scope="col">reading</th>
              </tr>
            </thead>
            <tbody>${psi.slice(0, 10).map((d) =>
              html`
                <tr>
                  <td>${d.labels.feature}</td>
                  <td>${d.value.toFixed(3)}</td>
                  <td>${d.value >= 0.25 ? "shifted" : d.value >= 0.1 ? "moving" : "stable"}</td>
                </tr>
              `
            )}</tbody>
          </table>
        `
      }
        ${admin ? html`<${Versions} model=${m} done=${data.reload} />` : null}
      </article>`;
    })
  }
  <//>`;
}
