// Memory over many create/apply/read/delete cycles through the Node handles (its own process,
// so other tests' engines do not disturb the measurement).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Engine } = require("../tandem.js");

test("memory stays flat over 10,000 create/apply/delete cycles", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("a", "b");
  const cycle = async (i) => {
    const m = await d.createModel("c", { t: "x", list: [1, 2, 3] }, `m${i}`);
    await m.apply({ op: "splice", path: ["t"], index: 1, insert: "y" });
    await m.json();
    await m.delete();
  };
  for (let i = 0; i < 2000; i++) await cycle(i);
  global.gc?.();
  const before = process.memoryUsage().rss;
  for (let i = 2000; i < 12000; i++) await cycle(i);
  global.gc?.();
  const after = process.memoryUsage().rss;
  console.log(`RSS before ${(before / 1024) | 0} KiB, after ${(after / 1024) | 0} KiB over 10,000 cycles`);
  assert.ok(after < before * 1.1, `RSS grew from ${before} to ${after}`);
  await e.shutdown();
});
