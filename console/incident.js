/**
 * One incident: what it is, its entities, the actions (acknowledge, assign, resolve with a
 * label and a note, suppress), and its timeline: the alerts with their evidence rendered
 * for a person, and the contributing events from the raw archive, in event-time order.
 *
 * @module
 */

import { useState } from "preact/hooks";
import { ApiError, can, get, request } from "./api.js";
import { describe } from "./evidence.js";
import {
  EntityLink,
  Fields,
  html,
  Problem,
  Screen,
  Severity,
  shown,
  Status,
  time,
  useData,
  useLive,
} from "./ui.js";

/** @param {string} id */
async function load(id) {
  const path = `/api/v1/incidents/${encodeURIComponent(id)}`;
  const { data, etag } = await request("GET", path);
  const ids = [...new Set(data.alerts.flatMap((/** @type {any} */ a) => a.event_ids))].slice(
    0,
    1000,
  );
  const events = ids.length === 0 ? [] : await get(
    `/api/v1/archive?limit=1000&event_ids=${encodeURIComponent(ids.join(","))}`,
  ).then((r) => r.events).catch(() => []);
  return { incident: data, etag, events, wanted: ids.length };
}

/** The evidence of one alert. @param {{ alert: any }} p */
export function Evidence({ alert }) {
  const d = describe(alert);
  return html`<div class="evidence">
    ${
    d.score
      ? html`<div class="score">
      <p><strong>Score ${shown(d.score.score)}</strong>${
        d.score.model ? ` from ${d.score.model}` : ""
      }${d.score.level ? ` (level ${d.score.level})` : ""}</p>
      ${
        d.score.top.length > 0
          ? html`
            <table>
              <caption>Top features</caption>
              <thead>
                <tr>
                  <th scope="col">feature</th>
                  <th scope="col">value</th>
                </tr>
              </thead>
              <tbody>${d.score.top.map((t) =>
                html`
                  <tr>
                    <td>${t.name}</td>
                    <td>
                            <meter min="0" max="1" value=${Math.min(
                              1,
                              Math.abs(t.value),
                            )} aria-label=${t.name}></meter> ${shown(t.value)}
                          </td>
                  </tr>
                `
              )}</tbody>
            </table>
          `
          : null
      }
    </div>`
      : null
  }
    ${
    d.measures.length > 0
      ? html`
        <table class="measures">
          <caption>Against thresholds</caption>
          <thead>
            <tr>
              <th scope="col">measure</th>
              <th scope="col">value</th>
              <th scope="col">threshold</th>
            </tr>
          </thead>
          <tbody>${d.measures.map((m) =>
            html`
              <tr class=${m.met ? "met" : ""}>
                <td>${m.name.replaceAll("_", " ")}</td>
                <td>${shown(m.value)}</td>
                <td>${m.op} ${shown(m.limit)}</td>
              </tr>
            `
          )}</tbody>
        </table>
      `
      : null
  }
    ${
    d.places.length > 0
      ? html`
        <table class="places">
          <caption>Places</caption>
          <thead>
            <tr>
              <th scope="col"></th>
              <th scope="col">time</th>
              <th scope="col">address</th>
              <th scope="col">city</th>
              <th scope="col">country</th>
            </tr>
          </thead>
          <tbody>${d.places.map((p) =>
            html`
              <tr>
                <th scope="row">${p.label}</th>
                <td>${time(p.at)}</td>
                <td>${p.ip ?? "—"}</td>
                <td>${p.city ?? "—"}</td>
                <td>${p.country ?? "—"}</td>
              </tr>
            `
          )}</tbody>
        </table>
      `
      : null
  }
    ${d.rest.length > 0 ? html`<${Fields} rows=${d.rest} caption="Details" />` : null}
  </div>`;
}

/** The fields of an archived event worth a line. @param {Record<string, any>} raw */
function eventLine(raw) {
  const keys = [
    "type",
    "user_id",
    "ip",
    "city",
    "country",
    "device_id",
    "amount",
    "currency",
    "src_ip",
    "dst_ip",
    "dst_port",
    "service",
    "level",
    "message",
    "page",
    "cpu",
    "latency_ms",
  ];
  return keys.filter((k) => raw[k] !== undefined).map((k) => `${k}=${shown(raw[k])}`).join(" · ");
}

/** The actions on an incident. @param {{ incident: any, etag: string | null, done: (message: string) => void }} p */
function Actions({ incident, etag, done }) {
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const path = `/api/v1/incidents/${encodeURIComponent(incident.incident_id)}`;
  /** @param {Record<string, unknown>} change @param {string} message */
  const patch = async (change, message) => {
    setError(null);
    try {
      await request("PATCH", path, change, { "if-match": etag ?? '"0"' });
      done(message);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 409
          ? "Someone changed this incident meanwhile; it has been read again, please retry."
          : String(/** @type {Error} */ (err).message),
      );
      if (err instanceof ApiError && err.status === 409) done("");
    }
  };
  /** @param {SubmitEvent} e @param {(form: FormData) => Promise<void>} fn */
  const submit = (e, fn) => {
    e.preventDefault();
    fn(new FormData(/** @type {HTMLFormElement} */ (e.target)));
  };
  const t = incident.triage;
  return html`<section class="actions" aria-labelledby="actions-h">
    <h2 id="actions-h">Actions</h2>
    <${Problem} error=${error} />
    <div class="row">
      ${
    t.status === "open"
      ? html`<button type="button" onClick=${() =>
        patch({ status: "acknowledged" }, "Acknowledged")}>Acknowledge</button>`
      : null
  }
      ${
    t.status === "resolved"
      ? html`<button type="button" onClick=${() =>
        patch({ status: "open" }, "Reopened")}>Reopen</button>`
      : null
  }
    </div>
    <form class="row" aria-label="Assign" onSubmit=${(/** @type {SubmitEvent} */ e) =>
    submit(
      e,
      (fd) => patch({ assignee: String(fd.get("assignee") ?? "").trim() || null }, "Assigned"),
    )}>
      <label>Assignee <input name="assignee" value=${t.assignee ?? ""} size="16" /></label>
      <button type="submit">Assign</button>
    </form>
    ${
    t.status !== "resolved"
      ? html`
        <form class="resolve" aria-label="Resolve" onSubmit=${(/** @type {SubmitEvent} */ e) =>
          submit(e, (fd) => {
            const note = String(fd.get("note") ?? "").trim();
            return patch(
              { status: "resolved", label: fd.get("label"), ...(note ? { note } : {}) },
              "Resolved",
            );
          })}>
          <fieldset><legend>Resolve as</legend>
                ${["true_positive", "false_positive", "benign"].map((l) =>
                  html`<label class="choice">
          <input type="radio" name="label" value=${l} required /> ${l.replace("_", " ")}</label>`
                )}
              </fieldset>
          <label>Note <textarea name="note" rows="2" cols="40" maxlength="4000"></textarea></label>
          <button type="submit">Resolve</button>
        </form>
      `
      : null
  }
    <form class="row" aria-label="Note" onSubmit=${(/** @type {SubmitEvent} */ e) =>
    submit(e, (fd) => patch({ note: String(fd.get("note") ?? "") }, "Noted"))}>
      <label>Add a note <input name="note" size="40" maxlength="4000" required /></label>
      <button type="submit">Add note</button>
    </form>
    <form class="row" aria-label="Suppress" onSubmit=${(/** @type {SubmitEvent} */ e) =>
    submit(e, async (fd) => {
      setError(null);
      const body = {
        reason: String(fd.get("reason") ?? ""),
        duration_s: Number(fd.get("duration_s")),
      };
      if (fd.get("rule")) Object.assign(body, { rule: fd.get("rule") });
      try {
        await request("POST", `${path}/suppress`, body);
        done(`Suppressed ${incident.anchor.type} ${incident.anchor.key}`);
      } catch (err) {
        setError(String(/** @type {Error} */ (err).message));
      }
    })}>
      <label>Suppress ${incident.anchor.type} ${incident.anchor.key} for <select name="duration_s">
        <option value="3600">1 hour</option><option value="86400">1 day</option><option value="604800">7 days</option>
      </select></label>
      <label>only rule <select name="rule"><option value="">every rule</option>
        ${
    incident.rules.map((/** @type {string} */ r) => html`<option value=${r}>${r}</option>`)
  }</select></label>
      <label>Reason <input name="reason" size="24" required /></label>
      <button type="submit">Suppress</button>
    </form>
  </section>`;
}

/** The incident screen. @param {{ id: string }} p */
export function IncidentView({ id }) {
  const data = useData(() => load(id), [id]);
  const [said, setSaid] = useState("");
  useLive((event, d) => {
    if ((event === "incident" && d.incident_id === id) || (event === "triage" && d.id === id)) {
      data.reload();
    }
  }, [id]);
  if (!data.data) {
    return html`<${Screen} title=${`Incident ${id}`}><${Problem} error=${data.error} />${
      data.loading ? html`<p>Loading…</p>` : null
    }<//>`;
  }
  const { incident: x, etag, events, wanted } = data.data;
  /** @type {{ at: number, alert?: any, event?: any }[]} */
  const timeline = [
    ...x.alerts.map((/** @type {any} */ a) => ({ at: Date.parse(a.timestamp), alert: a })),
    ...events.map((/** @type {any} */ e) => ({ at: e.ts, event: e })),
  ].sort((a, b) => a.at - b.at || (a.event ? -1 : 1));
  const t = x.triage;
  return html`<${Screen} title=${x.summary}>
    <p class="said" role="status">${said}</p>
    <div class="cols">
      <div>
        <${Fields} caption="Incident" rows=${[
    ["id", x.incident_id],
    ["severity", x.severity],
    ["status", t.status + (t.label ? ` (${t.label.replace("_", " ")})` : "")],
    ["assignee", t.assignee],
    ["first seen", time(x.first_seen)],
    ["last seen", time(x.last_seen)],
    ["alerts", x.alert_count],
    ["rules", x.rules.join(", ")],
    ["changed by", t.updated_by ? `${t.updated_by}, ${time(t.updated_at)}` : null],
  ]} />
        <h2>Entities</h2>
        <ul class="entities">${
    x.entities.map((/** @type {any} */ e) =>
      html`
        <li>
          <${EntityLink} entity=${e} />
        </li>
      `
    )
  }</ul>
        ${
    t.notes.length > 0
      ? html`
        <h2>Notes</h2>
        <ul class="notes">${t.notes.map((/** @type {any} */ n) =>
          html`<li><span class="muted">${time(n.at)} · ${n.by}</span> ${n.text}</li>`
        )}</ul>
      `
      : null
  }
      </div>
      ${
    can("triage")
      ? html`<${Actions} incident=${x} etag=${etag} done=${(/** @type {string} */ m) => {
        setSaid(m);
        data.reload();
      }} />`
      : html`<p class="muted">Your role reads only: no actions.</p>`
  }
    </div>
    <h2>Timeline <${Severity} severity=${x.severity} /> <${Status} triage=${t} /></h2>
    ${
    events.length === 0 && wanted > 0
      ? html`<p class="muted">The ${wanted} contributing events are not in the raw archive
      (it is kept with VIGIL_IO_ARCHIVE_RAW_EVENTS=true).</p>`
      : null
  }
    <ol class="timeline">${
    timeline.map((item) =>
      item.alert
        ? html`
          <li class="t-alert" key=${item.alert.alert_id}>
            <h3><${Severity} severity=${item.alert.severity} /> ${item.alert.rule}${" "}
                      <span class="muted">${time(item.alert.timestamp)} · ${item.alert
                        .mode} · alert ${item.alert.alert_id}</span></h3>
            <p>on <${EntityLink} entity=${item.alert.entity} /></p>
            <${Evidence} alert=${item.alert} />
          </li>
        `
        : html`<li class="t-event" key=${item.event.event_id}>
          <span class="muted">${time(item.event.ts)}</span> <strong>${item.event.kind}</strong> ${
          eventLine(item.event.raw)
        }
          <span class="muted"> (${item.event.event_id})</span>
        </li>`
    )
  }</ol>
  <//>`;
}
