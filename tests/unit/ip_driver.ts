/**
 * Drives one IP actor's behaviour as the runtime does: events in the order given, the
 * watermark at the newest event time less the allowed lateness, and its judge timers
 * delivered with the watermark they fired at; at the end event time runs out (as a
 * replay's does), so every failure is judged.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ipBehaviour, type IpMessage, type IpState } from "../../actors/ip.ts";
import type { Targeted } from "../../actors/rules/user_rules.ts";
import type { ActorContext, AlertDraft, Effect } from "../../actors/types.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import type { AuthEvent } from "../../events/types.ts";

/** What an IP actor did, each with the index of the event after which it happened. */
export interface IpRun {
  state: IpState;
  alerts: { draft: AlertDraft; at: number }[];
  sends: { user: string; message: Targeted; at: number }[];
  /** Judge turns taken. */
  judged: number;
}

/** Runs `events` through a fresh IP actor `ip` (the end: index `events.length`). */
export function driveIp(
  ip: string,
  events: readonly AuthEvent[],
  c: Config = structuredClone(defaults) as Config,
  lateness_ms = c.runtime.allowed_lateness_ms,
): IpRun {
  const b = ipBehaviour(c);
  const ctx: ActorContext = { self: { type: "ip", key: ip }, watermark_ms: -Infinity };
  const run: IpRun = { state: b.initial(ip), alerts: [], sends: [], judged: 0 };
  let watermark = -Infinity;
  let timer: { at: number; message: Record<string, unknown> } | null = null;
  const now: Record<string, unknown>[] = [];
  const turn = (m: IpMessage, at: number) => {
    const step = b.receive(run.state, m, ctx);
    run.state = step.state;
    if (m.kind === "judge") run.judged++;
    for (const e of step.effects) effect(e, at);
  };
  const effect = (e: Effect, at: number) => {
    if (e.kind === "alert") run.alerts.push({ draft: e.alert, at });
    else if (e.kind === "send") {
      assert.equal(e.to.type, "user");
      run.sends.push({ user: e.to.key, message: e.message as Targeted, at });
    } else if (e.kind === "timer" && "at_ms" in e) {
      assert.equal(e.watermark, true, "the judge timer is stamped with its watermark");
      const message = e.message as Record<string, unknown>;
      // Due already: delivered at once (behind the turn), as the runtime does.
      if (e.at_ms <= watermark) {
        timer = null;
        now.push(message);
      } else timer = { at: e.at_ms, message };
    } else assert.fail(`unexpected effect ${e.kind}`);
  };
  const fire = (at: number) => {
    for (;;) {
      const m = now.shift();
      if (m) {
        turn({ ...m, watermark_ms: watermark } as IpMessage, at);
        continue;
      }
      if (timer === null || timer.at > watermark) return;
      const due: { message: Record<string, unknown> } = timer;
      timer = null;
      turn({ ...due.message, watermark_ms: watermark } as IpMessage, at);
    }
  };
  events.forEach((event, k) => {
    assert.ok(event.ts >= watermark, `event ${k} is later than the allowed lateness`);
    turn({ kind: "event", event }, k);
    watermark = Math.max(watermark, event.ts - lateness_ms);
    fire(k);
  });
  watermark = Infinity;
  fire(events.length);
  return run;
}
