/**
 * One entity (a user, an address, a source, a service, a page): its actor's current
 * state, its recent events from the raw archive, and its alerts.
 *
 * @module
 */

import { ApiError, get } from "./api.js";
import { Fields, html, Problem, Screen, Severity, shown, Status, time, useData } from "./ui.js";

/** @param {string} type @param {string} key */
async function load(type, key) {
  const q = `entity_type=${encodeURIComponent(type)}&entity_key=${encodeURIComponent(key)}`;
  const [actor, events, alerts] = await Promise.all([
    get(`/api/v1/actors/${encodeURIComponent(type)}/${encodeURIComponent(key)}`).catch((err) => {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }),
    get(`/api/v1/archive?limit=50&${q}`).then((r) => r.events).catch(() => []),
    get(`/api/v1/alerts?limit=50&${q}`).then((r) => r.alerts),
  ]);
  return { actor, events, alerts };
}

/** @param {{ type: string, entityKey: string }} p */
export function EntityView({ type, entityKey }) {
  const data = useData(() => load(type, entityKey), [type, entityKey]);
  const d = data.data;
  return html`<${Screen} title=${`${type} ${entityKey}`}>
    <${Problem} error=${data.error} />
    ${
    !d ? html`<p>Loading…</p>` : html`
      <h2>Current state</h2>
      ${d.actor
        ? html`
          <p class="muted">${d.actor.resident
            ? "In memory"
            : "Passivated (read from its snapshot)"}</p>
          <${Fields} rows=${Object.entries(d.actor.state ?? {})} caption="Actor state" />
        `
        : html`<p class="muted">No actor ${type}:${entityKey} has been seen by this process.</p>`}
      <h2>Alerts (${d.alerts.length})</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Severity</th>
            <th scope="col">Rule</th>
            <th scope="col">Status</th>
            <th scope="col">Incident</th>
          </tr>
        </thead>
        <tbody>${d.alerts.map((/** @type {any} */ a) =>
          html`
            <tr key=${a.alert_id}>
              <td>${time(a.timestamp)}</td>
              <td>
                <${Severity} severity=${a.severity} />
              </td>
              <td>${a.rule}</td>
              <td>
                <${Status} triage=${a.triage} />
              </td>
              <td>${a.incident
                ? html`<a href=${`#/incident/${
                  encodeURIComponent(a.incident.id)
                }`}>${a.incident.id}</a>`
                : "—"}</td>
            </tr>
          `
        )}</tbody>
      </table>
      <h2>Recent events (${d.events.length})</h2>
      ${d.events.length === 0
        ? html`<p class="muted">None in the raw archive (it is kept with VIGIL_IO_ARCHIVE_RAW_EVENTS=true).</p>`
        : html`
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Kind</th>
                <th scope="col">Event</th>
              </tr>
            </thead>
            <tbody>${d.events.map((/** @type {any} */ e) =>
              html`
                <tr key=${e.event_id}>
                  <td>${time(e.ts)}</td>
                  <td>${e.kind}</td>
                  <td>${Object.entries(e.raw).filter(([k]) =>
                    !["kind", "timestamp", "event_id", "features"].includes(k)
                  )
                    .map(([k, v]) => `${k}=${shown(v)}`).join(" · ")}</td>
                </tr>
              `
            )}</tbody>
          </table>
        `}
    `
  }
  <//>`;
}
