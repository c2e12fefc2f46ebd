// The JS error classes follow the engine's error-code table one-to-one, and so do the
// TypeScript declarations: a code added to ErrorCode::ALL without the binding fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";

const require = createRequire(import.meta.url);
const tandem = require("../tandem.js");

test("one exported Error subclass per engine code, with code and errno", async () => {
  assert.ok(tandem.errorCodes.length >= 11);
  for (const { errno, code, className } of tandem.errorCodes) {
    const cls = tandem[`${className}Error`];
    assert.equal(typeof cls, "function", `${className}Error is exported`);
    const e = new cls("m");
    assert.ok(e instanceof tandem.TandemError && e instanceof Error);
    assert.deepEqual([e.code, e.errno, e.name, e.message], [code, errno, `${className}Error`, "m"]);
  }
  const exported = Object.keys(tandem).filter((k) => k.endsWith("Error") && k !== "TandemError");
  assert.equal(exported.length, tandem.errorCodes.length);
});

test("tandem.d.ts declares exactly the table's classes and codes", () => {
  const dts = fs.readFileSync(new URL("../tandem.d.ts", import.meta.url), "utf8");
  const declared = [...dts.matchAll(/class (\w+)Error extends TandemError \{ readonly code: "(\w+)" \}/g)]
    .map((m) => [m[1], m[2]]);
  assert.deepEqual(declared, tandem.errorCodes.map((c) => [c.className, c.code]));
  const union = [...dts.match(/type ErrorCodeName =([^;]+);/)[1].matchAll(/"(\w+)"/g)].map((m) => m[1]);
  assert.deepEqual(union, tandem.errorCodes.map((c) => c.code));
});

test("engine failures reject with the subclass and leave state intact", async () => {
  const e = await tandem.Engine.open();
  const d = await e.createDomain("a", "b");
  const m = await d.createModel("c", { t: "x" }, "m");
  await assert.rejects(e.createDomain("a", "b"), (err) => err instanceof tandem.AlreadyExistsError && err.errno === 3);
  await assert.rejects(m.apply({ op: "splice", path: ["t"], index: 9, insert: "y" }), tandem.InvalidOperationError);
  await assert.rejects(m.apply({ op: "fly" }), (err) => err.code === "invalid_argument");
  await assert.rejects(d.model("nope"), tandem.NotFoundError);
  await assert.rejects(e.domain("no", "such"), tandem.NotFoundError);
  await assert.rejects(d.createModel("c", [1, 2]), tandem.InvalidArgumentError);
  await assert.rejects(tandem.Engine.open({ data_dri: "/tmp/x" }), tandem.ConfigError);
  await assert.rejects(e.listen("not an address"), tandem.InvalidArgumentError);
  await assert.rejects(e.listen("127.0.0.1:0", { max_frame_bytez: 1 }), tandem.ConfigError);
  await assert.rejects(async () => e.createDomain(3, "x"), (err) => err instanceof Error);
  await assert.rejects(m.jsonAt(-1), tandem.InvalidArgumentError);
  assert.throws(() => new tandem.Engine({}), TypeError);
  assert.deepEqual(await m.json(), { t: "x" });
  await e.shutdown();
  await e.shutdown(); // idempotent
  await assert.rejects(e.createDomain("x", "y"), tandem.UnavailableError);
  await assert.rejects(m.json(), tandem.UnavailableError);
  assert.throws(() => e.events(), tandem.UnavailableError);
});
