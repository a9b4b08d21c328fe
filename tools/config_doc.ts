/**
 * The configuration reference: the table of `docs/configuration.md` made from the
 * defaults (`config/defaults.ts`, through `settings()`), the short names (`ALIASES`) and
 * the meanings (`config/reference.ts`). `deno task docs:config` rewrites the table in
 * place; `tests/integration/docs_test.ts` checks it is what this makes.
 *
 * @module
 */

import { ALIASES, settings } from "../config/load.ts";
import { MEANINGS, PRINCIPAL_SETTINGS } from "../config/reference.ts";

const FILE = new URL("../docs/configuration.md", import.meta.url);

/** A default as the reference shows it. */
function shown(value: unknown): string {
  if (value === "") return "empty";
  const big = typeof value === "number" && value !== 0 &&
    (Math.abs(value) >= 1e15 || Math.abs(value) < 1e-4);
  return `\`${big ? (value as number).toExponential().replace("+", "") : String(value)}\``;
}

/** The settings without a meaning, and the meanings of no setting. */
export function unexplained(): { missing: string[]; unknown: string[] } {
  const variables = new Set(settings().map((s) => s.variable));
  return {
    missing: [...variables].filter((v) => !(v in MEANINGS)),
    unknown: Object.keys(MEANINGS).filter((v) => !variables.has(v)),
  };
}

/** The reference's table (Markdown, aligned as `deno fmt` aligns it). */
export function referenceTable(): string {
  const short = new Map(Object.entries(ALIASES).map(([alias, v]) => [v, alias]));
  const values = new Map(settings().map((s) => [s.variable, s.value]));
  const rows: string[][] = [
    ...PRINCIPAL_SETTINGS.map((p) => [`\`${p.variable}\``, p.shown, p.meaning]),
    ...Object.entries(MEANINGS).map(([variable, meaning]) => {
      const alias = short.get(variable);
      return [
        `\`${variable}\`${alias ? ` (\`${alias}\`)` : ""}`,
        shown(values.get(variable)),
        meaning,
      ];
    }),
  ];
  const head = ["variable", "default", "meaning"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat(widths[i]! - [...c].length)).join(" | ")} |`;
  return [line(head), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}

/** The reference with its table made anew (the text around it kept). */
export function rewritten(text: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("| variable"));
  if (start < 0) throw new Error("docs/configuration.md has no table of variables");
  let end = start;
  while (end < lines.length && lines[end]!.startsWith("|")) end++;
  return [...lines.slice(0, start), referenceTable(), ...lines.slice(end)].join("\n");
}

if (import.meta.main) {
  const { missing, unknown } = unexplained();
  if (missing.length + unknown.length > 0) {
    console.error(
      `config/reference.ts: no meaning for ${missing.join(", ") || "—"}; ` +
        `a meaning of no setting: ${unknown.join(", ") || "—"}`,
    );
    Deno.exit(1);
  }
  await Deno.writeTextFile(FILE, rewritten(await Deno.readTextFile(FILE)));
  console.log("docs/configuration.md: the table rewritten");
}
