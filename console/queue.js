/**
 * The queue: incidents (or alerts) newest first, filtered by severity, rule, status,
 * assignee, entity and time, and kept up to date by the live stream. Severity, rule,
 * entity and time are asked of the API; status and assignee (the triage, kept apart from
 * detection) are filtered here, on the page read.
 *
 * @module
 */

import { useState } from "preact/hooks";
import { get } from "./api.js";
import {
  ago,
  EntityLink,
  html,
  Problem,
  Screen,
  Severity,
  Status,
  time,
  useData,
  useLive,
} from "./ui.js";

const SEVERITIES = ["info", "low", "medium", "high", "critical"];
const RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));
const WINDOWS = [["", "any time"], ["900", "last 15 min"], ["3600", "last hour"], [
  "21600",
  "last 6 h",
], ["86400", "last 24 h"]];
const PAGE = 200;
const UNTOUCHED = { status: "open", assignee: null, label: null, notes: [], revision: 0 };

/** @typedef {{ kind: string, severity: string, rule: string, status: string, assignee: string, entity_type: string, entity_key: string, window_s: string }} Filters */

/** The API query of the filters. @param {Filters} f */
function queryOf(f) {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (f.rule) q.set("rule", f.rule);
  if (f.kind === "incidents" && f.severity) q.set("severity", f.severity);
  if (f.entity_type && f.entity_key) {
    q.set("entity_type", f.entity_type);
    q.set("entity_key", f.entity_key);
  }
  if (f.window_s) q.set("since", String(Date.now() - Number(f.window_s) * 1000));
  return q.toString();
}

/**
 * Whether an item passes the filters (those the API applied too, for items from the stream).
 * @param {any} x @param {Filters} f
 */
function passes(x, f) {
  const t = x.triage ?? UNTOUCHED;
  if (f.severity && RANK[x.severity] < RANK[f.severity]) return false;
  if (f.rule && !(x.rules ?? [x.rule]).includes(f.rule)) return false;
  if (f.status && t.status !== f.status) return false;
  if (f.assignee === "-" ? t.assignee !== null : f.assignee && t.assignee !== f.assignee) {
    return false;
  }
  if (f.entity_type && f.entity_key) {
    const named = x.entities ?? [x.entity];
    if (!named.some((/** @type {any} */ e) => e.type === f.entity_type && e.key === f.entity_key)) {
      return false;
    }
  }
  if (
    f.window_s && Date.parse(x.last_seen ?? x.timestamp) < Date.now() - Number(f.window_s) * 1000
  ) return false;
  return true;
}

/** @param {any} x */
const idOf = (x) => x.incident_id ?? x.alert_id;

export function Queue() {
  const [f, setF] = useState(
    /** @type {Filters} */ ({
      kind: "incidents",
      severity: "",
      rule: "",
      status: "open",
      assignee: "",
      entity_type: "",
      entity_key: "",
      window_s: "",
    }),
  );
  const [fresh, setFresh] = useState(/** @type {Set<string>} */ (new Set()));
  const rules = useData(
    () =>
      get("/api/v1/rules").then((r) => r.rules.map((/** @type {any} */ x) => x.rule)).catch(
        () => [],
      ),
    [],
  );
  const list = useData(
    () =>
      get(`/api/v1/${f.kind}?${queryOf(f)}`).then((r) =>
        f.kind === "incidents" ? r.incidents : r.alerts
      ),
    [f.kind, f.rule, f.severity, f.entity_type, f.entity_key, f.window_s],
  );
  useLive((event, data) => {
    const items = list.data;
    if (!items) return;
    if (event === "dropped") return list.reload();
    if (event === "triage") {
      if ((data.kind === "incident") !== (f.kind === "incidents")) return;
      list.set(
        items.map((/** @type {any} */ x) =>
          idOf(x) === data.id ? { ...x, triage: data.triage } : x
        ),
      );
      return;
    }
    if (
      (event === "incident") !== (f.kind === "incidents") ||
      (event !== "incident" && event !== "alert")
    ) return;
    const old = items.find((/** @type {any} */ x) => idOf(x) === idOf(data));
    const item = { ...data, triage: old?.triage ?? UNTOUCHED };
    list.set(
      [item, ...items.filter((/** @type {any} */ x) => idOf(x) !== idOf(data))].slice(0, PAGE),
    );
    setFresh((s) => new Set(s).add(idOf(data)));
  }, [list.data, f]);

  /** @param {keyof Filters} name */
  const field = (name) => (/** @type {Event} */ e) =>
    setF({ ...f, [name]: /** @type {HTMLInputElement} */ (e.target).value });
  const shownItems = (list.data ?? []).filter((/** @type {any} */ x) => passes(x, f));
  const incidents = f.kind === "incidents";
  return html`
    <${Screen} title="Queue">
      <form class="filters" aria-label="Filters" onSubmit=${(/** @type {Event} */ e) =>
        e.preventDefault()}>
        <label>Show <select value=${f.kind} onChange=${field("kind")}>
            <option value="incidents">incidents</option><option value="alerts">alerts</option>
          </select></label>
        <label>Severity at least <select value=${f.severity} onChange=${field("severity")}>
            <option value="">any</option>${SEVERITIES.map((s) =>
              html`<option value=${s}>${s}</option>`
            )}
          </select></label>
        <label>Rule <select value=${f.rule} onChange=${field("rule")}>
            <option value="">any</option>${(rules.data ?? []).map((/** @type {string} */ r) =>
              html`<option value=${r}>${r}</option>`
            )}
          </select></label>
        <label>Status <select value=${f.status} onChange=${field("status")}>
            <option value="">any</option><option value="open">open</option>
            <option value="acknowledged">acknowledged</option><option value="resolved">resolved</option>
          </select></label>
        <label>Assignee <input value=${f.assignee} onChange=${field(
          "assignee",
        )} placeholder="anyone; - for nobody" size="12" /></label>
        <label>Entity <select value=${f.entity_type} onChange=${field("entity_type")}>
            <option value="">any</option>${["user", "ip", "src", "service", "page"].map((t) =>
              html`<option value=${t}>${t}</option>`
            )}
          </select></label>
        <label>Key <input value=${f.entity_key} onChange=${field("entity_key")} size="14" /></label>
        <label>Time <select value=${f.window_s} onChange=${field("window_s")}>
            ${WINDOWS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
          </select></label>
      </form>
      <${Problem} error=${list.error} />
      <p class="count" aria-live="polite">${list.loading && !list.data
        ? "Loading…"
        : `${shownItems.length} ${f.kind} shown`}</p>
      <table class="queue">
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">${incidents ? "Incident" : "Alert"}</th>
            <th scope="col">Entity</th>
            <th scope="col">${incidents ? "Rules" : "Rule"}</th>
            <th scope="col">Status</th>
            <th scope="col">Assignee</th>
            <th scope="col">${incidents ? "Last seen" : "Time"}</th>
          </tr>
        </thead>
        <tbody>${shownItems.map((/** @type {any} */ x) => {
          const id = idOf(x);
          const target = incidents ? id : x.incident?.id;
          return html`
            <tr key=${id} class=${fresh.has(id) ? "fresh" : ""} data-id=${id}>
              <td>
                <${Severity} severity=${x.severity} />
              </td>
              <td>${target
                ? html`<a href=${`#/incident/${encodeURIComponent(target)}`}>${
                  incidents ? x.summary : id
                }</a>`
                : id}
                        ${!incidents && x.mode !== "enforce"
                          ? html`
                            <span class="badge">${x.mode}</span>
                          `
                          : null}</td>
              <td>
                <${EntityLink} entity=${incidents ? x.anchor : x.entity} />
              </td>
              <td>${incidents ? x.rules.join(", ") : x.rule}</td>
              <td>
                <${Status} triage=${x.triage} />
              </td>
              <td>${x.triage?.assignee ?? "—"}</td>
              <td title=${time(x.last_seen ?? x.timestamp)}>${ago(x.last_seen ?? x.timestamp)}</td>
            </tr>
          `;
        })}</tbody>
      </table>
      <//>
  `;
}
