/**
 * The flow classifier as the engine uses it: the newest version loaded at start, and the
 * view of it the source actors read.
 *
 * @module
 */

import { FLOW_MODEL, type FlowModelView } from "../actors/source.ts";
import { type ModelManifest, type ModelService, versionsOf } from "../models/service.ts";
import { log } from "./logger.ts";

/** Loads the newest version of the flow classifier; without it, flows are counted only. */
export async function loadFlowModel(models: ModelService, dir: string): Promise<void> {
  const version = (await versionsOf(dir, FLOW_MODEL)).at(-1);
  if (version === undefined) {
    log("warn", "No flow model found; flows are counted, not scored", { dir });
    return;
  }
  try {
    const m = await models.activate(FLOW_MODEL, version);
    log("info", "Model loaded", { model: m.name, version: m.version, classes: m.classes });
  } catch (err) {
    log("error", "Cannot load the flow model; flows are counted, not scored", {
      error: (err as Error).message,
    });
  }
}

/** What source actors read of the active flow model (rebuilt only when the version changes). */
export function flowModelView(models: ModelService): () => FlowModelView | null {
  let seen: ModelManifest | null = null;
  let view: FlowModelView | null = null;
  return () => {
    const m = models.manifest(FLOW_MODEL);
    if (m !== seen) {
      seen = m;
      view = m && {
        version: m.version,
        classes: m.classes,
        benign: m.benign_class ?? m.classes[0]!,
        default_threshold: m.thresholds.default,
        per_class: m.thresholds.per_class,
      };
    }
    return view;
  };
}
