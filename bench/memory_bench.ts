/**
 * Memory per resident user actor at 100k and 1M actors, beside the footprint of the
 * barest possible actor (a Map entry holding a one-field object) measured in the same run.
 *
 * Needs `--v8-flags=--expose-gc`.
 *
 * @module
 */

import { VirtualClock } from "../actors/clock.ts";
import { ActorRuntime } from "../actors/runtime.ts";
import type { Behaviour } from "../actors/types.ts";
import { userBehaviour } from "../actors/user.ts";
import { type Config, defaults } from "../config/defaults.ts";
import type { AuthEvent } from "../events/types.ts";
import type { Figure } from "./replay_bench.ts";

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  if (!gc) throw new Error("Run with --v8-flags=--expose-gc");
  for (let i = 0; i < 3; i++) gc();
  return Deno.memoryUsage().heapUsed;
}

/** A login attempt of user `id` from Oslo, on the user's one device. */
export function benchLogin(
  id: string,
  event_id: string,
  ts: number,
  type: "login_success" | "login_failure",
  ip: string,
  session_id: string,
): AuthEvent {
  return {
    kind: "auth",
    event_id,
    ts,
    raw: {},
    type,
    user_id: id,
    ip,
    country: "NO",
    city: "Oslo",
    lat: 59.91,
    lon: 10.75,
    device_id: `d-${id}-0`,
    session_id,
  };
}

/**
 * A user actor's runtime part alone: every actor's state is one shared object, and each
 * turn sets the session-idle timer the user actor sets (so what is left is its cell, its
 * places in the runtime's maps and residency ring, and its timer).
 */
// deno-lint-ignore no-explicit-any
function shellBehaviour(): Behaviour<any, any> {
  const shared = Object.freeze({});
  const idle = Object.freeze({ kind: "session_idle" });
  return {
    type: "user",
    initial: () => shared,
    receive: (state, message: { event: AuthEvent }) => ({
      state,
      effects: [{
        kind: "timer",
        name: "session_idle",
        at_ms: message.event.ts + 1_800_000,
        message: idle,
      }],
    }),
  };
}

/** Bytes per resident user actor after one login each (session, last login, device, IP). */
function perUserActor(n: number, shell = false): number {
  const config = structuredClone(defaults) as Config;
  config.runtime.max_resident_actors = n + 1;
  const clock = new VirtualClock(Date.UTC(2026, 0, 5));
  const rt = new ActorRuntime({
    behaviours: [shell ? shellBehaviour() : userBehaviour(config)],
    runtime: config.runtime,
    supervision: config.supervision,
    alerts: config.alerts,
    clock,
  });
  const before = heap();
  for (let i = 0; i < n; i++) {
    const id = `u${String(i).padStart(7, "0")}`;
    const ip = `85.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const event = benchLogin(id, `e-${i}`, clock.now() + i, "login_success", ip, `s-${i}`);
    rt.deliver({ type: "user", key: id }, { kind: "event", event });
  }
  const after = heap();
  if (rt.stats().resident.user !== n) throw new Error("not all actors resident");
  return (after - before) / n;
}

/** The barest actor: a Map entry and a one-field object. */
function perBareActor(n: number): number {
  const before = heap();
  const m = new Map<string, { n: number }>();
  for (let i = 0; i < n; i++) m.set(`user:u${String(i).padStart(7, "0")}`, { n: i });
  const after = heap();
  if (m.size !== n) throw new Error("unreachable");
  return (after - before) / n;
}

/** Runs the memory benchmark. */
export function memoryBench(): Figure[] {
  return [100_000, 1_000_000].map((n) => {
    const bare = perBareActor(n);
    const user = perUserActor(n);
    const shell = perUserActor(n, true);
    console.log(
      `  at ${n.toLocaleString("en")}: the runtime's part (cell, maps, residency, its timer) ` +
        `${Math.round(shell)} bytes, the user state ${Math.round(user - shell)}`,
    );
    return {
      name: `memory per resident user actor at ${n.toLocaleString()}`,
      value: user,
      unit: "bytes",
      ceiling: bare,
      ceiling_name: "bare Map entry + object",
      target: "≤ 600 bytes",
      met: user <= 600,
    };
  });
}
