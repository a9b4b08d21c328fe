/**
 * One run of the passivation benchmark, in a process of its own so its resident memory is
 * its own (`bench/passivation_bench.ts` runs it in `deno task bench`). Prints one JSON line.
 *
 * `--users N --cap C`: N distinct users through a runtime holding at most C resident; a
 * successful login each (pass one), then a failed one from another address each (pass
 * two). Every state that comes back from its snapshot is checked to be the one pass one
 * left (and, after pass two, pass two's), and after pass two every user's state is read.
 * RSS is taken after each pass, after memory-reducing full collections (`rssMb`).
 *
 * @module
 */

import { VirtualClock } from "../actors/clock.ts";
import { EncodedSnapshots } from "../actors/encoded_snapshots.ts";
import { ActorRuntime } from "../actors/runtime.ts";
import { userBehaviour, type UserState } from "../actors/user.ts";
import { type Config, defaults } from "../config/defaults.ts";
import type { AuthEvent } from "../events/types.ts";
import { benchLogin } from "./memory_bench.ts";

const arg = (name: string) => Number(Deno.args[Deno.args.indexOf(name) + 1]);
const users = arg("--users"), cap = arg("--cap");
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with --v8-flags=--expose-gc");
const T0 = Date.UTC(2026, 0, 5);

/**
 * RSS after memory-reducing full collections (V8's last-resort kind, which also gives
 * back the pages it freed), a second apart: what the process settles to. A plain `gc()`
 * left up to 800 MB of freed pages resident; the peak (sampled every 10,000 events) is printed beside.
 */
async function rssMb(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    (gc as unknown as (o: object) => void)({
      type: "major",
      execution: "sync",
      flavor: "last-resort",
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return Deno.memoryUsage().rss / 2 ** 20;
}

const userId = (i: number) => `u${String(i).padStart(7, "0")}`;

function event(i: number, pass: 1 | 2): AuthEvent {
  const ip = `${pass === 1 ? 85 : 91}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const type = pass === 1 ? "login_success" : "login_failure";
  return benchLogin(userId(i), `e${pass}-${i}`, T0 + pass * 3_600_000 + i, type, ip, `s-${i}`);
}

/** What pass `pass` left in user `i`'s state; the reason it is not that, or null. */
function wrong(s: UserState, i: number, pass: 1 | 2): string | null {
  const login = s.last_login;
  if (s.logins !== 1 || login?.event_id !== `e1-${i}` || login.ts !== T0 + 3_600_000 + i) {
    return `its login of pass one is gone (logins ${s.logins}, last ${login?.event_id})`;
  }
  if (login.ip !== event(i, 1).ip || s.sessions.length !== 1) return "its session is gone";
  const f = s.auth.failures;
  if (pass === 1) return f.ts.length === 0 ? null : "it has failures before pass two";
  if (s.auth.streak !== 1 || f.ids.length !== 1 || f.ids[0] !== `e2-${i}`) {
    return `its failure of pass two is not in its window (${f.ids.join(",")})`;
  }
  return f.ts[0] === T0 + 7_200_000 + i && f.tags[0] === event(i, 2).ip ? null : "bad window";
}

const config = structuredClone(defaults) as Config;
config.runtime.max_resident_actors = cap;
const clock = new VirtualClock(T0);
const store = new EncodedSnapshots(config.runtime);
let checked = 0;
const take = store.take.bind(store);
// Each state coming back is checked before its actor sees the next message.
store.take = (id: string) => {
  const state = take(id) as UserState | undefined;
  if (state !== undefined) {
    const i = Number(id.slice("user:u".length));
    const why = wrong(state, i, 1); // each user has one message a pass: it comes back once
    if (why) throw new Error(`User ${id} came back wrong: ${why}`);
    checked++;
  }
  return state;
};
const rt = new ActorRuntime({
  behaviours: [userBehaviour(config)],
  runtime: config.runtime,
  supervision: config.supervision,
  alerts: config.alerts,
  clock,
  snapshots: store,
});

const bare = await rssMb();
const ms: number[] = [];
let peak = 0;
const rss: number[] = [];
for (const p of [1, 2] as const) {
  const t0 = performance.now();
  for (let i = 0; i < users; i++) {
    if (rt.deliver({ type: "user", key: userId(i) }, { kind: "event", event: event(i, p) })) {
      throw new Error("A mailbox filled up");
    }
    if (i % 10_000 === 0) peak = Math.max(peak, Deno.memoryUsage().rss);
  }
  await rt.whenIdle();
  ms.push(performance.now() - t0);
  rss.push(await rssMb());
  const m = Deno.memoryUsage();
  console.error(
    `pass ${p}: rss ${rss.at(-1)!.toFixed(0)} MB, heap ${(m.heapUsed / 2 ** 20).toFixed(0)}/${
      (m.heapTotal / 2 ** 20).toFixed(0)
    } MB, external ${
      (m.external / 2 ** 20).toFixed(0)
    } MB, timers ${rt.stats().timers}, store ${store.size} × ${
      (store.liveBytes / Math.max(1, store.size)).toFixed(0)
    } B, ${(ms.at(-1)! / 1000).toFixed(1)} s`,
  );
}
let read = 0;
rt.passivateAll();
for (let i = 0; i < users; i++) {
  const why = wrong(store.load(`user:${userId(i)}`) as UserState, i, 2);
  if (why) throw new Error(`User ${userId(i)} is wrong after pass two: ${why}`);
  read++;
}
console.log(JSON.stringify({
  users,
  cap,
  resident: rt.stats().resident.user,
  passivated: store.size,
  bare_rss_mb: bare,
  rss_mb: rss,
  pass_ms: ms,
  checked_on_return: checked,
  checked_after: read,
  bytes_per_passivated: store.size > 0 ? store.liveBytes / store.size : 0,
  slab_mb: store.slabBytes / 2 ** 20,
  heap_mb: Deno.memoryUsage().heapUsed / 2 ** 20,
  peak_rss_mb: peak / 2 ** 20,
}));
