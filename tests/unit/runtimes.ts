/**
 * Test helper: an actor runtime with the project's behaviours whose alerts and dead
 * letters go to an outbox, as the engine wires it.
 *
 * @module
 */

import type { Clock } from "../../actors/clock.ts";
import { ipBehaviour } from "../../actors/ip.ts";
import type { RuntimeTelemetry } from "../../actors/ports.ts";
import { ActorRuntime, type RuntimeOptions } from "../../actors/runtime.ts";
import { userBehaviour } from "../../actors/user.ts";
import { sourceBehaviour } from "../../actors/source.ts";
import type { Config } from "../../config/defaults.ts";
import type { Outbox } from "../../engine/outbox.ts";

/** User actors (and IP actors with `ip`), publishing to `outbox`. */
export function engineRuntime(
  c: Config,
  clock: Clock,
  outbox: Outbox,
  options: {
    ip?: boolean;
    telemetry?: RuntimeTelemetry;
    expected_streams?: RuntimeOptions["expected_streams"];
  } = {},
): ActorRuntime {
  return new ActorRuntime({
    behaviours: [
      userBehaviour(c),
      ...(options.ip ? [ipBehaviour(c)] : []),
      sourceBehaviour({ alerts: c.alerts, net: c.net, model: () => null }),
    ],
    runtime: c.runtime,
    supervision: c.supervision,
    alerts: c.alerts,
    clock,
    alertSink: outbox,
    deadLetters: outbox,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.expected_streams ? { expected_streams: options.expected_streams } : {}),
  });
}
