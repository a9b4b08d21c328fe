/**
 * The models as the engine serves them: the newest version of each loaded at start, and
 * the views of them the actors read (the flow classifier for source actors, the
 * login-risk model for user actors).
 *
 * @module
 */

import { LOGIN_MODEL } from "../actors/rules/login_risk.ts";
import { FLOW_MODEL, type FlowModelView } from "../actors/source.ts";
import type { RiskModelView } from "../actors/user.ts";
import { type ModelManifest, type ModelService, versionsOf } from "../models/service.ts";
import { log } from "./logger.ts";

/** The models actors ask for, and what goes without each. */
const SERVED: readonly [name: string, without: string][] = [
  [FLOW_MODEL, "flows are counted, not scored"],
  [LOGIN_MODEL, "logins are not scored for risk (auth.risky_login is off)"],
];

/**
 * The registry: the names of the models this engine serves. The API activates, shadows
 * and lists these only; any other name is unknown (404), whatever is in the folder.
 */
export const SERVED_MODELS: readonly string[] = SERVED.map(([name]) => name);

/** Loads the newest version of every served model found in `dir`; a missing one is logged. */
export async function loadModels(models: ModelService, dir: string): Promise<void> {
  for (const [name, without] of SERVED) {
    const version = (await versionsOf(dir, name)).at(-1);
    if (version === undefined) {
      log("warn", `No ${name} model found; ${without}`, { dir });
      continue;
    }
    try {
      const m = await models.activate(name, version);
      log("info", "Model loaded", { model: m.name, version: m.version, classes: m.classes });
    } catch (err) {
      log("error", `Cannot load the ${name} model; ${without}`, {
        error: (err as Error).message,
      });
    }
  }
}

/** A view of a model's active manifest, rebuilt only when the version changes. */
function viewOf<T>(
  models: ModelService,
  name: string,
  build: (m: ModelManifest) => T,
): () => T | null {
  let seen: ModelManifest | null = null;
  let view: T | null = null;
  return () => {
    const m = models.manifest(name);
    if (m !== seen) {
      seen = m;
      view = m && build(m);
    }
    return view;
  };
}

/** What source actors read of the active flow model. */
export function flowModelView(models: ModelService): () => FlowModelView | null {
  return viewOf(models, FLOW_MODEL, (m) => ({
    version: m.version,
    classes: m.classes,
    benign: m.benign_class ?? m.classes[0]!,
    default_threshold: m.thresholds.default,
    per_class: m.thresholds.per_class,
  }));
}

/** What user actors read of the active login-risk model: its version and risky output. */
export function loginModelView(models: ModelService): () => RiskModelView | null {
  return viewOf(models, LOGIN_MODEL, (m) => {
    const benign = m.benign_class ?? m.classes[0]!;
    return { version: m.version, risky_index: m.classes.findIndex((c) => c !== benign) };
  });
}

/** A model as the API lists it. */
export interface ModelInfo {
  name: string;
  /** The version serving, or null. */
  active: string | null;
  /** A candidate scored beside the active version, with their agreement so far. */
  shadow: { version: string; agree: number; disagree: number; error: number } | null;
  /** The versions present in the models folder. */
  versions: string[];
  /** A summary of the active version's manifest. */
  manifest: Record<string, unknown> | null;
}
