/**
 * The shape bounds of an event, whatever its kind: how deep its objects and arrays nest
 * and how long its field names are (`InputLimits`). Checked without recursion, so a value
 * nested 50,000 levels deep is one more rejected event, never a blown stack; once checked,
 * an event is safe for everything recursive downstream (JSON.stringify, structured clone).
 *
 * @module
 */

import type { InputLimits } from "../config/defaults.ts";

/**
 * Why `o` (an event object, level 1) is out of shape, or null: a field name longer than
 * `max_field_name_chars`, or an object or array nested past `max_nesting_levels`.
 *
 * @example
 * ```ts
 * import { shapeProblem } from "./bounds.ts";
 * import { defaults } from "../config/defaults.ts";
 * shapeProblem({ a: [[[]]] }, defaults.input); // null
 * ```
 */
export function shapeProblem(
  o: Record<string, unknown>,
  limits: Pick<InputLimits, "max_field_name_chars" | "max_nesting_levels">,
): string | null {
  const maxName = limits.max_field_name_chars, maxDepth = limits.max_nesting_levels;
  // Objects and arrays still to look into, each with its level and the top field it is in.
  const values: object[] = [], levels: number[] = [], fields: string[] = [];
  for (const k in o) {
    if (k.length > maxName) return nameProblem(k, maxName);
    const v = o[k];
    if (typeof v === "object" && v !== null) {
      values.push(v);
      levels.push(2);
      fields.push(k);
    }
  }
  while (values.length > 0) {
    const v = values.pop()!, level = levels.pop()!, field = fields.pop()!;
    if (level > maxDepth) {
      return `Cannot accept event: field "${clip(field)}" is nested more than ${maxDepth} ` +
        "levels deep";
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === "object" && x !== null) {
          values.push(x);
          levels.push(level + 1);
          fields.push(field);
        }
      }
      continue;
    }
    const r = v as Record<string, unknown>;
    for (const k in r) {
      if (k.length > maxName) return nameProblem(k, maxName);
      const x = r[k];
      if (typeof x === "object" && x !== null) {
        values.push(x);
        levels.push(level + 1);
        fields.push(field);
      }
    }
  }
  return null;
}

function nameProblem(name: string, max: number): string {
  return `Cannot accept event: a field name is ${name.length} characters long, more than ` +
    `the ${max} allowed (${preview(name)})`;
}

/** A field name as a reason shows it: the first 60 characters. */
export function clip(name: string): string {
  return name.length > 60 ? name.slice(0, 57) + "..." : name;
}

/**
 * A value as a reason shows it: JSON, at most 60 characters, never a deep copy (an object
 * deeper than a few levels shows "…" there; a non-finite number shows as itself, not as
 * JSON's null).
 */
export function preview(v: unknown): string {
  let shown: string;
  if (typeof v === "number") shown = Object.is(v, -0) ? "-0" : String(v);
  else if (typeof v === "string") shown = JSON.stringify(v.length > 64 ? v.slice(0, 64) : v);
  else if (typeof v === "object" && v !== null) shown = shallowJson(v);
  else shown = JSON.stringify(v) ?? String(v);
  return shown.length > 60 ? shown.slice(0, 57) + "..." : shown;
}

/** JSON of an object cut at 3 levels and 20 values: enough for 60 characters, always cheap. */
function shallowJson(v: object): string {
  const levels = new WeakMap<object, number>();
  let values = 0;
  return JSON.stringify(v, function (this: unknown, _key: string, x: unknown) {
    if (++values > 20) return undefined;
    if (typeof x !== "object" || x === null) return x;
    const level = (levels.get(this as object) ?? 0) + 1;
    if (level > 3) return "…";
    levels.set(x, level);
    return x;
  }) ?? "";
}
