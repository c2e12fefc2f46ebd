// Memory over many open/create/close cycles through the Node binding (its own process, so
// other tests' engines do not disturb the measurement).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Engine } = require("../tandem.js");

test("memory stays flat over 10,000 create/apply/close cycles", async () => {
  const e = new Engine();
  await e.createDomain("a", "b");
  const cycle = async (i) => {
    const id = `m${i}`;
    await e.createModel("a", "b", "c", { t: "x", list: [1, 2, 3] }, id);
    await e.apply("a", "b", id, { op: "splice", path: ["t"], index: 1, insert: "y" });
    await e.modelJson("a", "b", id);
    await e.deleteModel("a", "b", id);
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
