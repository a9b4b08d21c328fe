import assert from "node:assert/strict";
import { Turns } from "../../io/turns.ts";

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

Deno.test("Turns: wait() returns in this turn while its budget lasts, in a later one past it", async () => {
  const turns = new Turns(50);
  await turns.wait(); // a new budget: the first wait may take a turn
  let timerRan = false;
  setTimeout(() => timerRan = true, 0);
  await turns.wait();
  assert.equal(timerRan, false, "within the budget no turn is taken");
  spin(60);
  assert.ok(turns.spent());
  await turns.wait();
  assert.equal(timerRan, true, "past the budget, a timer set before runs first");
  assert.equal(turns.spent(), false, "a fresh budget after the wait");
});

Deno.test("Turns: everyone past the budget resumes behind one timer, and re-checks it", async () => {
  const turns = new Turns(5);
  spin(10);
  const order: string[] = [];
  const a = turns.wait().then(() => {
    order.push("a");
    spin(10); // spends the new turn's budget
  });
  const b = turns.wait().then(() => order.push("b"));
  await Promise.all([a, b]);
  assert.deepEqual(order, ["a", "b"]);
});

Deno.test("Turns: a budget must be positive", () => {
  assert.throws(() => new Turns(0), RangeError);
  assert.throws(() => new Turns(NaN), RangeError);
});
