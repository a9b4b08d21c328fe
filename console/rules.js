/**
 * The rules: each one's mode, parameters, precision from the analysts' labels and alert
 * budget (where the server reports them), its alert volume over time as a chart, and, for
 * admins, changes of mode and parameters.
 *
 * @module
 */

import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { can, get, request } from "./api.js";
import { html, Problem, Screen, shown, useData, useLive } from "./ui.js";

/** A bar chart of counts over time. @param {{ volume: any, rule: string }} p */
function VolumeChart({ volume, rule }) {
  const el = useRef(/** @type {HTMLDivElement | null} */ (null));
  const series = volume?.series.find((/** @type {any} */ s) => s.rule === rule);
  useEffect(() => {
    if (!el.current || !series || !volume.from) return;
    const start = Date.parse(volume.from) / 1000;
    const xs = series.counts.map((/** @type {number} */ _, /** @type {number} */ i) =>
      start + i * volume.bucket_s
    );
    const plot = new uPlot(
      {
        width: Math.max(320, el.current.clientWidth || 720),
        height: 200,
        legend: { show: false },
        scales: { x: { time: true } },
        axes: [{}, { label: `alerts per ${volume.bucket_s} s` }],
        series: [{}, {
          label: rule,
          stroke: "#1d4f91",
          fill: "rgba(29, 79, 145, 0.35)",
          points: { show: false },
          paths: uPlot.paths.bars?.({ size: [0.8, 40] }),
        }],
      },
      [xs, series.counts],
      el.current,
    );
    return () => plot.destroy();
  }, [volume, rule]);
  if (!series) return html`<p class="muted">No alerts of ${rule} counted yet by this process.</p>`;
  return html`
    <figure>
      <div ref=${el} role="img" aria-label=${`Alert volume of ${rule}: ${series.total} alerts in the last ${series.counts.length} bars of ${volume.bucket_s} s`}></div>
      <figcaption>${rule}: ${series.total} alerts, from ${volume.from.replace("T", " ").slice(
        0,
        16,
      )} UTC, in bars of ${volume.bucket_s} s (event time)</figcaption>
    </figure>
  `;
}

/** An admin's change of one rule. @param {{ rule: any, done: () => void }} p */
function Change({ rule, done }) {
  const [error, setError] = useState(/** @type {string | null} */ (null));
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const fd = new FormData(/** @type {HTMLFormElement} */ (e.target));
    /** @type {Record<string, number>} */
    const params = {};
    for (const [k, v] of Object.entries(rule.params)) {
      const now = Number(fd.get(`p-${k}`));
      if (now !== v) params[k] = now;
    }
    const mode = String(fd.get("mode"));
    try {
      await request("PATCH", `/api/v1/rules/${encodeURIComponent(rule.rule)}`, {
        ...(mode !== rule.mode ? { mode } : {}),
        ...(Object.keys(params).length > 0 ? { params } : {}),
      });
      setError(null);
      done();
    } catch (err) {
      setError(String(/** @type {Error} */ (err).message));
    }
  };
  return html`<form class="change" aria-label=${`Change ${rule.rule}`} onSubmit=${submit}>
    <label>Mode <select name="mode" value=${rule.mode}>
      <option value="enforce">enforce</option><option value="shadow">shadow</option>
    </select></label>
    ${
    Object.entries(rule.params).map(([k, v]) =>
      html`<label>${k}
      <input name=${`p-${k}`} type="number" step="any" value=${v} /></label>`
    )
  }
    <button type="submit">Save ${rule.rule}</button>
    <${Problem} error=${error} />
  </form>`;
}

export function Rules() {
  const rules = useData(() => get("/api/v1/rules").then((r) => r.rules), []);
  const volume = useData(() => get("/api/v1/alert-volume?buckets=60"), []);
  const [chosen, setChosen] = useState("");
  useLive((event) => {
    if (event === "triage") rules.reload();
  }, [rules.reload]);
  useEffect(() => {
    const id = setInterval(() => volume.reload(), 30_000);
    return () => clearInterval(id);
  }, []);
  const busiest = volume.data?.series.reduce(
    (/** @type {any} */ a, /** @type {any} */ s) => (!a || s.total > a.total ? s : a),
    null,
  )?.rule ?? "";
  const shownRule = chosen || busiest;
  const admin = can("admin");
  const totals = Object.fromEntries(
    (volume.data?.series ?? []).map((/** @type {any} */ s) => [s.rule, s.total]),
  );
  return html`<${Screen} title="Rules">
    <${Problem} error=${rules.error ?? volume.error} />
    ${
    volume.data && shownRule
      ? html`<${VolumeChart} volume=${volume.data} rule=${shownRule} />`
      : null
  }
    <table class="rules">
      <thead><tr><th scope="col">Rule</th><th scope="col">Entity</th><th scope="col">Mode</th>
        <th scope="col">Precision (7 d)</th><th scope="col">Labels TP / FP / benign</th>
        <th scope="col">Budget (last hour / per hour)</th><th scope="col">Alerts (last hour)</th><th scope="col">Parameters</th></tr></thead>
      <tbody>${
    (rules.data ?? []).map((/** @type {any} */ r) =>
      html`
        <tr key=${r.rule} data-rule=${r.rule} class=${r.rule === shownRule ? "chosen" : ""}>
          <th
            scope="row"><button type="button" class="link" aria-pressed=${r.rule ===
              shownRule} onClick=${() => setChosen(r.rule)}>${r.rule}</button></th>
          <td>${r.entity}</td>
          <td><span class=${`badge mode-${r.mode}`}>${r.mode}</span></td>
          <td class="precision">${r.feedback?.precision === null ||
              r.feedback?.precision === undefined
            ? "—"
            : `${(r.feedback.precision * 100).toFixed(1)} %`}</td>
          <td>${r.feedback
            ? `${r.feedback.true_positive} / ${r.feedback.false_positive} / ${r.feedback.benign}`
            : "—"}</td>
          <td>${r.budget
            ? html`${r.budget.last_hour} / ${r.budget.per_hour}${
              r.budget.over
                ? html`
                  <span class="badge sev-high">over</span>
                `
                : null
            }`
            : "—"}</td>
          <td>${totals[r.rule] ?? 0}</td>
          <td class="params">${admin
            ? html`
              <details>
                <summary>${Object.keys(r.params).length} parameters: change</summary>
                <${Change} rule=${r} done=${rules.reload} />
              </details>
            `
            : Object.entries(r.params).map(([k, v]) => `${k}=${shown(v)}`).join(", ")}</td>
        </tr>
      `
    )
  }</tbody>
    </table>
  <//>`;
}
