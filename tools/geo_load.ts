/**
 * Measures what loading the IP database costs one process: the time and the resident
 * memory before and after each family's tables load (`docs/geo.md` has the figures).
 *
 *   deno run --v8-flags=--expose-gc tools/geo_load.ts [IPv4 address] [IPv6 address]
 *
 * With `--expose-gc` it also says what stays resident after a full collection.
 *
 * @module
 */

import { geoLoadFigures, GeoLocator, geoSources } from "../geo/database.ts";

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
const [v4 = "8.8.8.8", v6 = "2001:4860:4860::8888"] = Deno.args;
const geo = new GeoLocator({ cache_entries: 10_000 });
console.log(`${JSON.stringify(geoSources())}; resident before: ${mb(Deno.memoryUsage().rss)} MB`);
for (const ip of [v4, v6]) {
  await geo.prepare(ip);
  const t0 = performance.now();
  const place = geo.locate(ip);
  const ms = performance.now() - t0;
  console.log(`${ip}: ${JSON.stringify(place)} (first lookup ${ms.toFixed(2)} ms)`);
}
for (const f of geoLoadFigures()) {
  console.log(
    `IPv${f.family}: loaded in ${f.ms} ms; resident ${mb(f.rss_before_bytes)} → ` +
      `${mb(f.rss_after_bytes)} MB (+${mb(f.rss_after_bytes - f.rss_before_bytes)} MB)`,
  );
}
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  gc();
  console.log(`after a full collection: resident ${mb(Deno.memoryUsage().rss)} MB`);
}
const n = 100_000;
const t0 = performance.now();
for (let i = 0; i < n; i++) geo.locate(`${1 + (i * 7) % 223}.${i % 256}.${(i * 13) % 256}.1`);
const us = ((performance.now() - t0) * 1000) / n;
console.log(
  `${n} lookups of distinct addresses: ${us.toFixed(1)} µs each; resident ${
    mb(Deno.memoryUsage().rss)
  } MB`,
);
if (gc) {
  gc();
  console.log(`after a full collection: resident ${mb(Deno.memoryUsage().rss)} MB`);
}
