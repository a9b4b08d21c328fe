/**
 * Trends: the roll-ups (`GET /api/v1/stats`) since the start of yesterday (UTC): logins,
 * login failures, transactions and alerts per hour as a chart, per day as a table, and
 * the transaction amounts' distribution by type and status; when the roll-up job last ran.
 *
 * @module
 */

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { get } from "./api.js";
import { Fields, html, Problem, Screen, shown, time, useData } from "./ui.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The series drawn and counted: a label, its colour and which rows it sums. */
const SERIES = [
  ["Logins", "#1d4f91", (/** @type {any} */ r) => r.kind === "auth" && r.type === "login_success"],
  [
    "Login failures",
    "#b3261e",
    (/** @type {any} */ r) => r.kind === "auth" && r.type === "login_failure",
  ],
  ["Transactions", "#2e7d32", (/** @type {any} */ r) => r.kind === "transaction"],
  [
    "Transactions not successful",
    "#8a5a00",
    (/** @type {any} */ r) => r.kind === "transaction" && r.status !== "success",
  ],
  ["Alerts", "#6a1b9a", (/** @type {any} */ r) => r.kind === "alert"],
];

async function load() {
  const to = Date.now();
  const from = Math.floor(to / DAY) * DAY - DAY;
  const range = `from=${from}&to=${to}`;
  const [days, ...hours] = await Promise.all([
    get(`/api/v1/stats?period=day&${range}`),
    ...["auth", "transaction", "alert"].map((k) =>
      get(`/api/v1/stats?period=hour&kind=${k}&${range}`)
    ),
  ]);
  return { from, to, days, hourRows: hours.flatMap((h) => h.rows) };
}

/** Each series' count per period start. @param {any[]} rows @param {number[]} starts */
function countsOf(rows, starts) {
  const at = new Map(starts.map((s, i) => [s, i]));
  return SERIES.map(([, , wanted]) => {
    const counts = starts.map(() => 0);
    for (const r of rows) {
      const i = at.get(r.start_ms);
      if (i !== undefined && /** @type {Function} */ (wanted)(r)) counts[i] += r.count;
    }
    return counts;
  });
}

/** The hourly chart. @param {{ from: number, to: number, rows: any[] }} p */
function HourlyChart({ from, to, rows }) {
  const el = useRef(/** @type {HTMLDivElement | null} */ (null));
  const starts = [];
  for (let t = from; t < to; t += HOUR) starts.push(t);
  const counts = countsOf(rows, starts);
  useEffect(() => {
    if (!el.current) return;
    const plot = new uPlot(
      {
        width: Math.max(320, el.current.clientWidth || 900),
        height: 260,
        scales: { x: { time: true } },
        axes: [{}, { label: "per hour" }],
        series: [{}, ...SERIES.map(([label, stroke]) => ({ label, stroke, width: 2 }))],
      },
      [starts.map((s) => s / 1000), ...counts],
      el.current,
    );
    return () => plot.destroy();
  }, [rows, from, to]);
  const total = (/** @type {number} */ i) => counts[i].reduce((a, b) => a + b, 0);
  return html`
    <figure>
      <div ref=${el} role="img" aria-label=${`Per hour since ${
        new Date(from).toISOString().slice(0, 10)
      }: ${SERIES.map(([label], i) => `${label} ${total(i)}`).join(", ")}`}></div>
      <figcaption>Per hour (UTC, event time) from ${new Date(from).toISOString().slice(
        0,
        10,
      )}</figcaption>
    </figure>
  `;
}

export function Trends() {
  const data = useData(load, []);
  const d = data.data;
  const dayStarts = d ? [d.from, d.from + DAY] : [];
  const perDay = d ? countsOf(d.days.rows, dayStarts) : [];
  const run = d?.days.last_run;
  return html`<${Screen} title="Trends" actions=${html`<button type="button" onClick=${data.reload}>Refresh</button>`}>
    <${Problem} error=${data.error} />
    ${
    !d ? html`<p>Loading…</p>` : html`
      <${HourlyChart} from=${d.from} to=${d.to} rows=${d.hourRows} />
      <h2>Per day</h2>
      <table aria-label="Per day">
        <thead>
          <tr>
            <th scope="col">Day (UTC)</th>
            ${SERIES.map(([label]) => html`<th scope="col">${label}</th>`)}
          </tr>
        </thead>
        <tbody>${dayStarts.map((day, i) =>
          html`
            <tr key=${day}>
              <th scope="row">${new Date(day).toISOString().slice(0, 10)}</th>
              ${perDay.map((c) => html`<td>${shown(c[i])}</td>`)}
            </tr>
          `
        )}</tbody>
      </table>
      <h2>Transaction amounts</h2>
      <table aria-label="Transaction amounts">
        <thead>
          <tr>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Count</th>
            <th scope="col">Sum</th>
            <th scope="col">p50</th>
            <th scope="col">p95</th>
            <th scope="col">p99</th>
          </tr>
        </thead>
        <tbody>${d.days.totals.amounts.map((/** @type {any} */ a) =>
          html`
            <tr key=${`${a.type}|${a.status}`}>
              <td>${a.type}</td>
              <td>${a.status || "—"}</td>
              <td>${shown(a.count)}</td>
              <td>${shown(a.sum)}</td>
              <td>${shown(a.p50)}</td>
              <td>${shown(a.p95)}</td>
              <td>${shown(a.p99)}</td>
            </tr>
          `
        )}</tbody>
      </table>
      <p
        class="muted">Percentiles are interpolated within the amount buckets (${d.days.amount_bounds
          .length} bounds up to ${shown(d.days.amount_bounds.at(-1))}).</p>
      <${Fields} caption="The roll-up job's last run" rows=${run
        ? [
          ["outcome", run.outcome],
          ["started", time(run.started_at)],
          ["range", `${run.from} – ${run.to}`],
          ["rows", run.rows],
          ["took (ms)", run.duration_ms],
          ...(run.error ? [["error", run.error]] : []),
        ]
        : [["outcome", "not run yet"]]} />
    `
  }
  <//>`;
}
