/**
 * The topic names of a deployment: the contract's names (docs/events-and-alerts.md), behind an
 * optional prefix (`VIGIL_IO_TOPIC_PREFIX`) so several deployments can share a cluster.
 *
 * @module
 */

import type { EventKind } from "./types.ts";
import { TOPIC_OF_KIND } from "./validate.ts";

/** The topics of one deployment. */
export class Topics {
  readonly prefix: string;
  readonly alerts: string;
  readonly deadLetters: string;
  /** Incidents as they change (key: incident id; the latest record of a key is the incident). */
  readonly incidents: string;
  /** Internal: login attempts re-keyed by IP, so each IP's actor sees all of them. */
  readonly rekeyIp: string;
  /** Internal: messages between actors (e.g. an IP's alert to the users it targeted), keyed by receiver. */
  readonly signals: string;
  /** Internal: records that arrived on another partition than their key's, moved there. */
  readonly repartition: string;
  /** Every input topic, one per event kind. */
  readonly inputs: readonly string[];
  #kindOf = new Map<string, EventKind>();

  constructor(prefix = "") {
    this.prefix = prefix;
    this.alerts = `${prefix}alerts`;
    this.deadLetters = `${prefix}dead-letters`;
    this.incidents = `${prefix}incidents`;
    this.rekeyIp = `${prefix}vigil-rekey-ip`;
    this.signals = `${prefix}vigil-signals`;
    this.repartition = `${prefix}vigil-repartition`;
    for (const [kind, topic] of Object.entries(TOPIC_OF_KIND) as [EventKind, string][]) {
      this.#kindOf.set(prefix + topic, kind);
    }
    this.inputs = Object.freeze([...this.#kindOf.keys()]);
  }

  /** The input topic of a kind. */
  of(kind: EventKind): string {
    return this.prefix + TOPIC_OF_KIND[kind];
  }

  /** The kind an input topic carries. */
  kindOf(topic: string): EventKind | undefined {
    return this.#kindOf.get(topic);
  }

  /** Every topic the deployment uses. */
  get all(): string[] {
    return [
      ...this.inputs,
      this.rekeyIp,
      this.signals,
      this.repartition,
      this.alerts,
      this.deadLetters,
      this.incidents,
    ];
  }

  /** What the workers consume: the input topics and the internal topics. */
  get consumed(): string[] {
    return [...this.inputs, this.rekeyIp, this.signals, this.repartition];
  }
}
