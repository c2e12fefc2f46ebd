// The Node binding: facade calls as Promises, errors with codes, events by callback and
// async iteration, the listener driven by the real Convergence client in this process, and
// flat memory over many cycles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
const { Engine } = require("../tandem.js");
const Convergence = require("@convergence/convergence");
const WebSocket = require("ws");

test("models, changes and history", async () => {
  const e = new Engine();
  await e.createDomain("acme", "docs");
  assert.deepEqual(e.domains(), [["acme", "docs"]]);
  const id = await e.createModel("acme", "docs", "notes", { text: "hi", n: 1 }, "n1");
  assert.equal(id, "n1");
  const v = await e.apply("acme", "docs", "n1", [
    { op: "splice", path: ["text"], index: 2, insert: " 😀" },
    { op: "add", path: ["n"], delta: 41 },
  ]);
  assert.equal(v, 2);
  assert.deepEqual(await e.modelJson("acme", "docs", "n1"), { text: "hi 😀", n: 42 });
  assert.deepEqual(await e.modelJson("acme", "docs", "n1", 1), { text: "hi", n: 1 });
  await e.shutdown();
});

test("errors carry the engine's code and leave state intact", async () => {
  const e = new Engine();
  await e.createDomain("a", "b");
  await e.createModel("a", "b", "c", { t: "x" }, "m");
  await assert.rejects(e.createDomain("a", "b"), (err) => err.code === "already_exists" && err.errno === 3);
  await assert.rejects(e.apply("a", "b", "m", { op: "splice", path: ["t"], index: 9, insert: "y" }),
    (err) => err.code === "invalid_operation");
  await assert.rejects(e.apply("a", "b", "m", { op: "fly" }), (err) => err.code === "invalid_argument");
  await assert.rejects(e.apply("a", "b", "nope", []), (err) => err.code === "not_found");
  await assert.rejects(e.createModel("a", "b", "c", [1, 2]), (err) => err.code === "invalid_argument");
  assert.throws(() => new Engine({ data_dri: "/tmp/x" }), (err) => err.code === "config");
  await assert.rejects(async () => e.createDomain(3, "x"), (err) => err instanceof Error);
  assert.deepEqual(await e.modelJson("a", "b", "m"), { t: "x" });
  await e.shutdown();
  await assert.rejects(e.createDomain("x", "y"), (err) => err.code === "unavailable");
});

test("events by callback and by async iteration", async () => {
  const e = new Engine();
  await e.createDomain("a", "b");
  await e.createModel("a", "b", "c", { n: 0 }, "m");
  const seen = [];
  let done;
  const twoEvents = new Promise((r) => (done = r));
  const sub = e.subscribe("a", "b", null, (err, ev) => {
    seen.push(ev);
    if (seen.length === 2) done();
  });
  await e.apply("a", "b", "m", { op: "add", path: ["n"], delta: 1 });
  await e.apply("a", "b", "m", { op: "add", path: ["n"], delta: 1 });
  await twoEvents;
  sub.close();
  assert.deepEqual(seen.map((s) => [s.type, s.version]), [["operation_applied", 2], ["operation_applied", 3]]);

  const it = e.subscribe(null, null, "m");
  await e.apply("a", "b", "m", { op: "add", path: ["n"], delta: 5 });
  for await (const ev of it) {
    assert.equal(ev.version, 4);
    assert.equal(ev.operation.type, "NumberAdd");
    it.close();
    break;
  }
  await e.shutdown();
});

test("the real Convergence client co-edits through the listener started from Node", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-node-"));
  const e = new Engine({ data_dir: dir });
  await e.createDomain("demo", "default", { anonymousAuth: true });
  await e.createUser("demo", "default", { username: "bob", password: "pw" });
  const addr = await e.listen("127.0.0.1:0");
  const url = `ws://${addr}/realtime/demo/default`;
  const opts = { webSocket: { factory: (u) => new WebSocket(u), class: WebSocket }, reconnect: { autoReconnect: false } };
  const events = e.subscribe("demo", "default", "shared");
  const a = await Convergence.connectAnonymously(url, "Alice", opts);
  const b = await Convergence.connect(url, "bob", "pw", opts);
  const ma = await a.models().openAutoCreate({ id: "shared", collection: "c", data: { text: "hello" } });
  const mb = await b.models().open("shared");
  ma.elementAt("text").insert(5, " world");
  mb.elementAt("text").insert(0, ">> ");
  await new Promise((resolve) => {
    const check = () => (ma.isCommitted() && mb.isCommitted() && ma.version() === 3 && mb.version() === 3 ? resolve() : setTimeout(check, 20));
    check();
  });
  assert.equal(ma.elementAt("text").value(), ">> hello world");
  assert.equal(mb.elementAt("text").value(), ">> hello world");
  // A host-side change reaches the clients.
  await e.apply("demo", "default", "shared", { op: "splice", path: ["text"], index: 0, insert: "[host] " });
  await new Promise((resolve) => {
    const check = () => (mb.elementAt("text").value().startsWith("[host]") ? resolve() : setTimeout(check, 20));
    check();
  });
  assert.deepEqual(await e.modelJson("demo", "default", "shared"), { text: "[host] >> hello world" });
  await ma.close();
  await mb.close();
  const types = [];
  for await (const ev of events) {
    types.push(ev.type);
    if (ev.type === "last_session_left") {
      events.close();
      break;
    }
  }
  assert.ok(types.includes("operation_applied") && types.includes("model_opened"));
  await a.dispose();
  await b.dispose();
  await e.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("bad input gives errors, not crashes", async () => {
  const e = new Engine();
  await assert.rejects(e.listen("not an address"), (err) => err.code === "invalid_argument");
  await assert.rejects(e.modelJson("x", "y", "z"), (err) => err.code === "not_found");
  assert.throws(() => e.subscribe("only-namespace"), (err) => err.code === "invalid_argument");
  await e.shutdown();
  await e.shutdown(); // idempotent
});
