/**
 * The system: workers and their partitions, the actors, consuming lag per partition
 * (from `/metrics`), and the dead letters with re-drive for admins.
 *
 * @module
 */

import { useState } from "preact/hooks";
import { can, get, request } from "./api.js";
import { Fields, html, metricsOf, Problem, Screen, shown, time, useData } from "./ui.js";

const CATEGORIES = ["invalid", "oversized", "late", "future", "failed", "quarantined", "stopped"];

async function load() {
  const [cluster, actors, letters, metrics] = await Promise.all([
    get("/api/v1/cluster"),
    get("/api/v1/actors"),
    get("/api/v1/dead-letters?limit=50"),
    fetch("/metrics").then((r) => r.text()).catch(() => ""),
  ]);
  const lag = metricsOf(metrics, ["vigil_consumer_lag_messages", "vigil_consumer_lag_seconds"]);
  const dead = metricsOf(metrics, ["vigil_dead_letters_total"]);
  return { cluster, actors, letters: letters.dead_letters, lag, dead };
}

/** An admin's re-drive. @param {{ done: (m: string) => void }} p */
function Redrive({ done }) {
  const [error, setError] = useState(/** @type {string | null} */ (null));
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const fd = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const category = String(fd.get("category"));
    try {
      const { data } = await request("POST", "/api/v1/dead-letters/redrive", {
        ...(category ? { category } : {}),
        limit: Number(fd.get("limit")),
      });
      setError(null);
      done(
        `Re-drove ${data.redriven} of ${data.taken}: ${data.accepted} accepted, ${data.rejected} refused again`,
      );
    } catch (err) {
      setError(String(/** @type {Error} */ (err).message));
    }
  };
  return html`
    <form class="row" aria-label="Re-drive dead letters" onSubmit=${submit}>
      <label>Category <select name="category"><option value="">any</option>
          ${CATEGORIES.map((c) => html`<option value=${c}>${c}</option>`)}</select></label>
      <label>Newest <input name="limit" type="number" min="1" max="10000" value="100" /></label>
      <button type="submit">Re-drive</button>
      <${Problem} error=${error} />
    </form>
  `;
}

export function System() {
  const data = useData(load, []);
  const [said, setSaid] = useState("");
  const d = data.data;
  const byPartition = new Map();
  for (const m of d?.lag ?? []) {
    const k = `${m.labels.topic}/${m.labels.partition}`;
    byPartition.set(k, {
      ...byPartition.get(k),
      [m.name.endsWith("seconds") ? "s" : "n"]: m.value,
    });
  }
  return html`<${Screen} title="System" actions=${html`<button type="button" onClick=${data.reload}>Refresh</button>`}>
    <${Problem} error=${data.error} />
    <p role="status">${said}</p>
    ${
    !d ? html`<p>Loading…</p>` : html`
      <h2>Workers (${d.cluster.size})</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Slot</th>
            <th scope="col">Status</th>
            <th scope="col">Partitions</th>
            <th scope="col">Resident actors</th>
          </tr>
        </thead>
        <tbody>${d.cluster.workers.map((/** @type {any} */ w) =>
          html`
            <tr key=${w.slot}>
              <td>${w.slot}</td>
              <td>${w.status}</td>
              <td>${w.partitions === null ? "all" : shown(w.partitions)}</td>
              <td>${Object.entries(w.resident ?? {}).map(([t, n]) => `${t} ${shown(n)}`).join(
                ", ",
              )}</td>
            </tr>
          `
        )}</tbody>
      </table>
      <${Fields} caption="Actors" rows=${[
        ...Object.entries(d.actors.types).map((
          [t, v],
        ) => [`${t} resident`, /** @type {any} */ (v).resident]),
        ["mailbox depth", d.actors.mailbox_depth],
        ["busy", d.actors.busy],
        ["timers", d.actors.timers],
        ["quarantined", d.actors.quarantined],
        ["partition restarts", d.actors.partition_restarts],
      ]} />
      <h2>Lag by partition</h2>
      ${byPartition.size === 0
        ? html`<p class="muted">No lag figures (the embedded log reports none until it is read).</p>`
        : html`
          <table>
            <thead>
              <tr>
                <th scope="col">Topic / partition</th>
                <th scope="col">Records behind</th>
                <th scope="col">Seconds behind</th>
              </tr>
            </thead>
            <tbody>${[...byPartition].sort().map(([k, v]) =>
              html`
                <tr key=${k}>
                  <td>${k}</td>
                  <td>${shown(v.n)}</td>
                  <td>${shown(v.s)}</td>
                </tr>
              `
            )}</tbody>
          </table>
        `}
      <h2>Dead letters (${d.letters.length} newest)</h2>
      <p>${d.dead.filter((m) => m.value > 0).map((m) =>
        `${m.labels.category ?? m.labels.reason ?? "all"}: ${m.value}`
      ).join(" · ") || "None counted."}</p>
      ${can("admin")
        ? html`<${Redrive} done=${(/** @type {string} */ m) => {
          setSaid(m);
          data.reload();
        }} />`
        : null}
      <table>
        <thead>
          <tr>
            <th scope="col">At</th>
            <th scope="col">Category</th>
            <th scope="col">Source</th>
            <th scope="col">Reason</th>
            <th scope="col">Raw</th>
          </tr>
        </thead>
        <tbody>${d.letters.map((/** @type {any} */ l, /** @type {number} */ i) =>
          html`
            <tr key=${i}>
              <td>${time(l.at)}</td>
              <td>${l.category ?? "—"}</td>
              <td>${l.source}</td>
              <td>${l.reason}</td>
              <td><code>${l.raw.slice(0, 120)}</code></td>
            </tr>
          `
        )}</tbody>
      </table>
    `
  }
  <//>`;
}
