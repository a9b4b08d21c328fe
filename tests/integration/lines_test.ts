import assert from "node:assert/strict";
import { linesOfFile } from "../../engine/replay.ts";

Deno.test("linesOfFile gives every line, trimmed, whatever the chunk size: multi-byte characters cut by a chunk, CRLF, a byte order mark, lines longer than a chunk, no final newline", async () => {
  const cases = [
    "\uFEFFa,b\r\nc\n\nééé€€\n" + "x".repeat(50) + "\nlast",
    "no newline",
    "",
    "\n\n",
    "€\n€",
    "a\n".repeat(100),
  ];
  const path = await Deno.makeTempFile();
  try {
    for (const text of cases) {
      await Deno.writeTextFile(path, text);
      const parts = text.replace(/^\uFEFF/, "").split("\n").map((l) => l.trim());
      const want = parts.at(-1) === "" ? parts.slice(0, -1) : parts;
      for (const chunk of [1, 2, 3, 7, 64, 1 << 20]) {
        const got: string[] = [];
        for await (const lines of linesOfFile(path, chunk)()) got.push(...lines);
        assert.deepEqual(got, want, `${JSON.stringify(text.slice(0, 20))} in chunks of ${chunk}`);
      }
    }
  } finally {
    await Deno.remove(path);
  }
});
