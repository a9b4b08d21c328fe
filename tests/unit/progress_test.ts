import assert from "node:assert/strict";
import { Progress, type ProgressOut } from "../../engine/progress.ts";

function out(tty: boolean): ProgressOut & { text: () => string } {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  return {
    writeSync: (b) => (chunks.push(decoder.decode(b)), b.length),
    isTerminal: () => tty,
    text: () => chunks.join(""),
  };
}

Deno.test("Progress on a terminal: one line rewritten in place, at most every 200 ms, with the rate and the time left", () => {
  let now = 0;
  const o = out(true);
  const p = new Progress("replay", { unit: "events", out: o, now: () => now });
  p.stage("reading", 1_000);
  for (let i = 1; i <= 10; i++) {
    now = i * 50; // 50 ms apart: every fourth shows
    p.advance(50);
  }
  assert.equal(
    p.status(),
    "replay reading: 500 events of 1,000 events (50 %) · 1,000 events/s · 1 s left",
  );
  const shown = o.text().split("\r\x1b[2K").filter((x) => x !== "");
  assert.deepEqual(shown.length, 3, JSON.stringify(shown)); // the stage, then at 200 and 400 ms
  assert.ok(!o.text().includes("\n"), "no line ends before done");
  now = 2_000;
  p.done("1,000 events");
  assert.ok(o.text().endsWith("\r\x1b[2Kreplay: done in 2.0 s: 1,000 events\n"), o.text());
});

Deno.test("Progress elsewhere (a pipe, a log): a line as each stage begins and one at the end, nothing between", () => {
  let now = 0;
  const o = out(false);
  const p = new Progress("replay", { unit: "bytes", out: o, now: () => now });
  p.stage("reading", 2_500_000_000);
  for (let i = 0; i < 1_000; i++) (now += 10, p.advance(1_000_000));
  now = 12_345;
  p.done("3 events");
  assert.equal(o.text(), "replay: reading (2.50 GB)\nreplay: done in 12.3 s: 3 events\n");
});

Deno.test("Progress never fails its command: a closed stderr is ignored", () => {
  const p = new Progress("simulate", {
    unit: "events",
    out: {
      writeSync: () => {
        throw new Deno.errors.BrokenPipe("closed");
      },
      isTerminal: () => true,
    },
  });
  p.stage("writing", 10);
  p.advance(5);
  p.done("");
});
