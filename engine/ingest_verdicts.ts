/**
 * What the HTTP ingest says of each event before it answers: accepted, or why not. An
 * event is judged on time by the same rule the intake dead-letters by
 * (`events/timeliness.ts`), against the watermark of each lane it goes to (its actor's,
 * and for a login attempt its IP's); where a lane's partition is owned by another process
 * its watermark is not known here and the event is `forwarded`. See
 * `docs/ingest-verdicts.md`.
 *
 * @module
 */

import { IP, isIpAttempt } from "../actors/ip.ts";
import type { Address } from "../actors/types.ts";
import type { InputLimits } from "../config/defaults.ts";
import { routeOf } from "../actors/route.ts";
import { futureReason, lateReason, timeliness } from "../events/timeliness.ts";
import type { VigilEvent } from "../events/types.ts";
import { parseEvent } from "../events/validate.ts";
import { oversize } from "./intake.ts";

/** The verdict on one item of an ingest request (as the OpenAPI document lists them). */
/** What each item of an ingest request became (`engine/ingest_verdicts.ts`). */
export const INGEST_VERDICTS = [
  "accepted",
  "invalid",
  "oversized",
  "late",
  "future",
  "forwarded",
] as const;

export type Verdict = typeof INGEST_VERDICTS[number];

/** One item's verdict, as the answer lists it. */
export interface ItemVerdict {
  /** The item's place in the request (from 0). */
  index: number;
  verdict: Verdict;
  /** The event's id (given or derived), once it could be read. */
  event_id?: string;
  /** Why it is not simply accepted (absent for `accepted`). */
  reason?: string;
}

/** A lane of event time: an actor type in a partition. */
export interface LaneRef {
  partition: number;
  type: string;
}

/** What the ingest can see of the lanes. */
export interface LaneView {
  /** The partition an actor key lives on. */
  partitionFor(key: string): number;
  /** Whether this process owns the partition, and so knows its watermark. */
  owns(partition: number): boolean;
  watermark(partition: number, type: string): number;
}

/** The judgement of one valid event: a verdict, its reason, and the lanes to hold. */
export type Judged =
  | { verdict: "accepted"; holds: LaneRef[] }
  | { verdict: "forwarded"; reason: string; holds: LaneRef[] }
  | { verdict: "late" | "future"; reason: string };

/**
 * The actors an event goes to: its own actor, and for a login attempt (when attempts are
 * re-keyed) the actor of its IP.
 */
export function destinationsOf(event: VigilEvent, rekey: boolean): Address[] {
  const to = routeOf(event);
  const out = to ? [to] : [];
  if (rekey && event.kind === "auth" && isIpAttempt(event)) out.push({ type: IP, key: event.ip! });
  return out;
}

/**
 * Judges a valid event: future against the clock; late against each owned lane it goes
 * to; forwarded when a lane is owned elsewhere; else accepted. The lanes owned here are
 * the ones to hold until the intake takes the event.
 *
 * @example
 * ```ts
 * import { judgeEvent } from "./ingest_verdicts.ts";
 * import { parseEvent } from "../events/validate.ts";
 * const p = parseEvent('{"kind":"log","service":"api","level":"INFO","message":"up","timestamp":0}');
 * const view = { partitionFor: () => 0, owns: () => true, watermark: () => 60_000 };
 * if (p.ok) judgeEvent(p.event, [{ type: "service", key: "api" }], view, 120_000, 600_000).verdict; // "late"
 * ```
 */
export function judgeEvent(
  event: VigilEvent,
  to: readonly Address[],
  view: LaneView,
  now_ms: number,
  max_future_ms: number,
): Judged {
  const ahead = timeliness(event.ts, { now_ms, max_future_ms });
  if (ahead.verdict === "future") {
    return {
      verdict: "future",
      reason: futureReason(event.event_id, ahead.ahead_ms, max_future_ms),
    };
  }
  const holds: LaneRef[] = [];
  const elsewhere: string[] = [];
  for (const a of to) {
    const partition = view.partitionFor(a.key);
    if (!view.owns(partition)) {
      elsewhere.push(`${a.type} partition ${partition}`);
      continue;
    }
    const watermark_ms = view.watermark(partition, a.type);
    const t = timeliness(event.ts, { now_ms, max_future_ms, watermark_ms });
    if (t.verdict === "late") {
      return {
        verdict: "late",
        reason: lateReason(event.event_id, t.behind_ms, a.type, partition),
      };
    }
    holds.push({ partition, type: a.type });
  }
  if (elsewhere.length === 0) return { verdict: "accepted", holds };
  return {
    verdict: "forwarded",
    reason: `Forwarded: ${elsewhere.join(" and ")} is owned by another worker, whose ` +
      `watermark is not known here, so the event may still be dead-lettered there as late ` +
      `(see GET /api/v1/dead-letters on that worker)`,
    holds,
  };
}

/** An item's reason as the answer lists it: at most `max_chars` characters. */
export function shortReason(reason: string, max_chars: number): string {
  return reason.length <= max_chars ? reason : reason.slice(0, Math.max(0, max_chars - 1)) + "…";
}

/** One item of a request, judged: its verdict, and what taking it in needs. */
export interface JudgedItem {
  index: number;
  verdict: Verdict;
  /** The item as it came. */
  text: string;
  reason?: string;
  /** The event, once it could be read. */
  event?: VigilEvent;
  /** Its text as it will be stored and produced (a derived `event_id` written in). */
  value?: string;
  /** The lanes to hold until the intake takes it (accepted and forwarded events). */
  holds?: LaneRef[];
}

/** What judging a request needs. */
export interface JudgeOptions {
  view: LaneView;
  now_ms: number;
  max_future_ms: number;
  max_event_bytes: number;
  limits: InputLimits;
  /** Login attempts also go to the actor of their IP (the log modes re-key them). */
  rekey: boolean;
}

/**
 * Judges every item of a request, with no effect: invalid, oversized, late, future,
 * forwarded or accepted, with the lanes to hold for the ones taken in.
 */
export function judgeItems(items: readonly string[], o: JudgeOptions): JudgedItem[] {
  return items.map((text, index): JudgedItem => {
    const parsed = parseEvent(text, { limits: o.limits });
    if (!parsed.ok) return { index, text, verdict: "invalid", reason: parsed.reason };
    const event = parsed.event;
    // The text as it will be stored (with a derived event_id written in) is what must fit.
    const value = withId(event, text);
    const tooBig = oversize(value, o.max_event_bytes);
    if (tooBig) return { index, text, event, verdict: "oversized", reason: tooBig };
    const j = judgeEvent(event, destinationsOf(event, o.rekey), o.view, o.now_ms, o.max_future_ms);
    if (j.verdict === "accepted") {
      return { index, text, event, value, verdict: j.verdict, holds: j.holds };
    }
    if (j.verdict === "forwarded") {
      return { index, text, event, value, verdict: j.verdict, reason: j.reason, holds: j.holds };
    }
    return { index, text, event, value, verdict: j.verdict, reason: j.reason };
  });
}

/** The verdict of a judged item as the answer lists it (its reason at most `max_chars`). */
export function itemVerdict(item: JudgedItem, max_chars: number): ItemVerdict {
  const out: ItemVerdict = { index: item.index, verdict: item.verdict };
  if (item.event) out.event_id = item.event.event_id;
  if (item.reason !== undefined) out.reason = shortReason(item.reason, max_chars);
  return out;
}

/** The event's text, with its derived `event_id` written in so every later reader agrees. */
export function withId(event: VigilEvent, text: string): string {
  if (event.raw.event_id !== undefined) return text;
  return JSON.stringify({ ...event.raw, event_id: event.event_id });
}

/** The outcome of an ingest request. */
export interface IngestResult {
  /** Events taken in (accepted here, or forwarded to the worker that owns their partition). */
  accepted: number;
  /** Events refused: invalid, oversized, late or future (each dead-lettered with its reason). */
  rejected: number;
  /** The first few rejections: item index and reason. */
  errors: { index: number; reason: string }[];
  /** Of the accepted, those whose partition another worker owns (not judged late here). */
  forwarded: number;
  /** Every item's verdict, in order (`engine/ingest_verdicts.ts`). */
  items: ItemVerdict[];
}
