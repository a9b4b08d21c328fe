/**
 * Small pieces shared by the console's screens: `html` (htm bound to Preact), a hook that
 * loads data, badges, times, tables of fields, links to entities, and the live bus that
 * carries the stream's messages to whichever screen is showing.
 *
 * @module
 */

import { h } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);

/** The stream's messages, to the screens that listen. */
export const live = new EventTarget();

/**
 * Calls `fn(event, data)` for each stream message while the component is shown.
 * @param {(event: string, data: any) => void} fn @param {unknown[]} deps
 */
export function useLive(fn, deps) {
  useEffect(() => {
    /** @param {Event} e */
    const on = (e) => {
      const m = /** @type {CustomEvent} */ (e).detail;
      fn(m.event, m.data);
    };
    live.addEventListener("message", on);
    return () => live.removeEventListener("message", on);
  }, deps);
}

/**
 * Loads with `loader` when `deps` change; `reload()` loads again.
 * @template T @param {() => Promise<T>} loader @param {unknown[]} deps
 */
export function useData(loader, deps) {
  const [state, setState] = useState(
    /** @type {{ data: T | null, error: string | null, loading: boolean }} */ ({
      data: null,
      error: null,
      loading: true,
    }),
  );
  const load = useCallback(() => {
    let stale = false;
    setState((s) => ({ ...s, loading: true }));
    loader().then(
      (data) => !stale && setState({ data, error: null, loading: false }),
      (err) => !stale && setState({ data: null, error: err.message, loading: false }),
    );
    return () => stale = true;
  }, deps);
  useEffect(load, [load]);
  return {
    ...state,
    reload: load,
    set: (/** @type {T} */ data) => setState({ data, error: null, loading: false }),
  };
}

/** A time as a person reads it (UTC, to the second). @param {string | number | null | undefined} t */
export function time(t) {
  if (t === null || t === undefined) return "—";
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** How long ago. @param {string | number} t */
export function ago(t) {
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** A severity badge. @param {{ severity: string }} p */
export function Severity({ severity }) {
  return html`<span class=${`badge sev-${severity}`}>${severity}</span>`;
}

/** A triage status badge. @param {{ triage: any }} p */
export function Status({ triage }) {
  const t = triage ?? { status: "open" };
  return html`<span class=${`badge st-${t.status}`}>${t.status.replace("_", " ")}${
    t.label ? ` · ${t.label.replace("_", " ")}` : ""
  }</span>`;
}

/** A link to an entity's screen. @param {{ entity: { type: string, key: string } }} p */
export function EntityLink({ entity }) {
  const href = `#/entity/${encodeURIComponent(entity.type)}/${encodeURIComponent(entity.key)}`;
  return html`<a href=${href}>${entity.type} ${entity.key}</a>`;
}

/** A value for a table cell. @param {unknown} v */
export function shown(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") {
    return Number.isInteger(v) ? v.toLocaleString("en") : String(+v.toFixed(4));
  }
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) return v.map(shown).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Fields as a two-column table. @param {{ rows: [string, unknown][], caption?: string }} p */
export function Fields({ rows, caption }) {
  return html`<table class="fields">
    ${caption ? html`<caption>${caption}</caption>` : null}
    <tbody>${
    rows.map(([k, v]) =>
      html`
        <tr>
          <th scope="row">${k.replaceAll("_", " ")}</th>
          <td>${shown(v)}</td>
        </tr>
      `
    )
  }</tbody>
  </table>`;
}

/** An error box, or nothing. @param {{ error: string | null }} p */
export function Problem({ error }) {
  return error ? html`<p class="problem" role="alert">${error}</p>` : null;
}

/** A screen's frame: its heading and content. @param {{ title: string, children?: any, actions?: any }} p */
export function Screen({ title, children, actions }) {
  useEffect(() => {
    document.title = `${title} · Vigil`;
  }, [title]);
  return html`<section class="screen">
    <header class="screen-head"><h1>${title}</h1>${actions ?? null}</header>
    ${children}
  </section>`;
}

/**
 * Samples of Prometheus text: each line of `names` as name, labels and value.
 * @param {string} text @param {string[]} names
 */
export function metricsOf(text, names) {
  const out = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || !names.includes(m[1])) continue;
    /** @type {Record<string, string>} */
    const labels = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}
