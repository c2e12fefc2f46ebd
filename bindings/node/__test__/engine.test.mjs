// The Node handles: Engine → Domain → Model as Promises, exact strings, events by async
// iteration and by EventEmitter, and the listener driven by the real Convergence client in
// this process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
const { Engine, Subscription } = require("../tandem.js");
const Convergence = require("@convergence/convergence");
const WebSocket = require("ws");

test("domains, models, changes, history and metadata", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("acme", "docs", { anonymous_auth: true });
  assert.deepEqual([d.namespace, d.id], ["acme", "docs"]);
  assert.deepEqual(await d.settings(), {
    display_name: "docs", anonymous_auth: true, collection_auto_create: true, state: "online",
    reconnect_token_minutes: 1440, default_collection_world: ["create", "read", "write", "remove", "manage"],
  });
  assert.deepEqual(await e.domains(), [["acme", "docs"]]);
  const m = await d.createModel("notes", { text: "hi", n: 1 }, "n1");
  assert.equal(m.id, "n1");
  assert.equal(m.domain, d);
  const v = await m.apply([
    { op: "splice", path: ["text"], index: 2, insert: " 😀" },
    { op: "add", path: ["n"], delta: 41 },
  ]);
  assert.equal(v, 2);
  const again = await (await e.domain("acme", "docs")).model("n1");
  assert.deepEqual(await again.json(), { text: "hi 😀", n: 42 });
  assert.deepEqual(await again.jsonAt(1), { text: "hi", n: 1 });
  const info = await m.info();
  assert.deepEqual([info.id, info.collection, info.version], ["n1", "notes", 2]);
  assert.deepEqual((await d.models()).map((x) => x.id), ["n1"]);
  const h = await m.history(2, 2);
  assert.equal(h.length, 1);
  assert.equal(h[0].version, 2);
  assert.deepEqual(h[0].user, { kind: "convergence", name: "tandem-host" });
  assert.equal(await m.versionAt(Date.now() + 1000), 2);
  await m.apply({ op: "add", path: ["n"], delta: 1 }, { user: { kind: "normal", name: "bob" } });
  assert.deepEqual((await m.history(3, 3))[0].user, { kind: "normal", name: "bob" });
  const bob = await d.createUser({ username: "bob", password: "pw", display_name: "Bob" });
  assert.deepEqual([bob.username, bob.display_name, bob.has_password], ["bob", "Bob", true]);
  assert.deepEqual((await d.users()).map((u) => u.username), ["bob"]);
  await d.deleteUser("bob");
  assert.deepEqual(await d.users(), []);
  await m.delete();
  await e.deleteDomain("acme", "docs");
  assert.deepEqual(await e.domains(), []);
  await e.shutdown();
});

test("lone surrogates survive data, changes, history and events exactly", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("a", "b");
  const m = await d.createModel("c", { t: "x\ud800y", ["k\udfff"]: 1 }, "m");
  const sub = m.events();
  await m.apply({ op: "splice", path: ["t"], index: 0, insert: "\udc00" });
  const data = await m.json();
  assert.equal(data.t, "\udc00x\ud800y");
  assert.ok(Object.hasOwn(data, "k\udfff"));
  const ev = await sub.next();
  assert.equal(ev.operation.insertValue, "\udc00");
  assert.equal((await m.history(2, 2))[0].operation.insertValue, "\udc00");
  assert.equal((await m.jsonAt(1)).t, "x\ud800y");
  sub.close();
  await e.shutdown();
});

test("events by async iteration: break closes, close() ends a pending wait", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("a", "b");
  const m = await d.createModel("c", { n: 0 }, "m");
  const it = m.events();
  assert.ok(it instanceof Subscription);
  await m.apply({ op: "add", path: ["n"], delta: 5 });
  for await (const ev of it) {
    assert.deepEqual([ev.type, ev.model, ev.version, ev.operation.type], ["operation_applied", "m", 2, "NumberAdd"]);
    break;
  }
  assert.equal(it.closed, true);
  assert.equal(await it.next(), null);

  const waiting = d.events();
  const ended = (async () => {
    const seen = [];
    for await (const ev of waiting) seen.push(ev);
    return seen;
  })();
  setImmediate(() => waiting.close());
  assert.deepEqual(await ended, []);

  const all = e.events();
  await m.apply({ op: "add", path: ["n"], delta: 1 });
  assert.equal((await all.next()).version, 3);
  await e.shutdown();
  assert.equal(await all.next(), null, "shutdown ends subscriptions");
});

test("events pushed to on('event') listeners; removing the last closes", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("a", "b");
  const m = await d.createModel("c", { n: 0 }, "m");
  const sub = d.events();
  const seen = [];
  let done;
  const two = new Promise((r) => (done = r));
  const listener = (ev) => {
    seen.push([ev.type, ev.version]);
    if (seen.length === 2) done();
  };
  sub.on("event", listener);
  await m.apply({ op: "add", path: ["n"], delta: 1 });
  await m.apply({ op: "add", path: ["n"], delta: 1 });
  await two;
  assert.deepEqual(seen, [["operation_applied", 2], ["operation_applied", 3]]);
  sub.off("event", listener);
  assert.equal(sub.closed, true);
  await e.shutdown();
});

test("the real Convergence client co-edits through the listener started from Node", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-node-"));
  const e = await Engine.open({ data_dir: dir });
  const d = await e.createDomain("demo", "default", { anonymous_auth: true });
  await d.createUser({ username: "bob", password: "pw" });
  const addr = await e.listen("127.0.0.1:0");
  await assert.rejects(e.listen("127.0.0.1:0"), (err) => err.code === "already_exists");
  const url = `ws://${addr}/realtime/demo/default`;
  const opts = { webSocket: { factory: (u) => new WebSocket(u), class: WebSocket }, reconnect: { autoReconnect: false } };
  const events = d.events();
  const a = await Convergence.connectAnonymously(url, "Alice", opts);
  const b = await Convergence.connect(url, "bob", "pw", opts);
  const ma = await a.models().openAutoCreate({ id: "shared", collection: "c", data: { text: "hello" } });
  const mb = await b.models().open("shared");
  const committed = (mod, v) => new Promise((resolve) => {
    const check = () => {
      if (mod.isCommitted() && mod.version() >= v) return resolve();
      mod.once("version_changed", check);
      mod.once("committed", check);
    };
    check();
  });
  ma.elementAt("text").insert(5, " world");
  mb.elementAt("text").insert(0, ">> ");
  await Promise.all([committed(ma, 3), committed(mb, 3)]);
  assert.equal(ma.elementAt("text").value(), ">> hello world");
  assert.equal(mb.elementAt("text").value(), ">> hello world");
  // A host-side change reaches the clients.
  const shared = await d.model("shared");
  const reached = new Promise((resolve) => mb.elementAt("text").on("value", () => resolve()));
  await shared.apply({ op: "splice", path: ["text"], index: 0, insert: "[host] " });
  await Promise.race([reached, committed(mb, 4)]);
  assert.equal(mb.elementAt("text").value(), "[host] >> hello world");
  assert.deepEqual(await shared.json(), { text: "[host] >> hello world" });
  await ma.close();
  await mb.close();
  const types = [];
  for await (const ev of events) {
    types.push(ev.type);
    if (ev.type === "last_session_left") break;
  }
  assert.ok(types.includes("operation_applied") && types.includes("model_opened") && types.includes("user_connected"), types.join());
  await a.dispose();
  await b.dispose();
  assert.equal(await e.stopListening(), true);
  assert.equal(await e.stopListening(), false);
  await e.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a host reads presence and follows its changes as presence_changed events", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-node-"));
  const e = await Engine.open({ data_dir: dir });
  const d = await e.createDomain("demo", "default");
  await d.createUser({ username: "bob", password: "pw" });
  const bob = { kind: "normal", name: "bob" };
  const addr = await e.listen("127.0.0.1:0");
  const url = `ws://${addr}/realtime/demo/default`;
  const opts = { webSocket: { factory: (u) => new WebSocket(u), class: WebSocket }, reconnect: { autoReconnect: false } };
  assert.deepEqual(await d.presence([bob]), [{ user: bob, available: false, state: {} }]);
  const events = d.events();
  const client = await Convergence.connect(url, "bob", "pw", opts);
  client.presence().setState({ status: "busy" });
  const seen = [];
  for await (const ev of events) {
    if (ev.type !== "presence_changed") continue;
    seen.push([ev.available, ev.state]);
    if (ev.state.status === "busy") break;
  }
  assert.deepEqual(seen, [[true, {}], [true, { status: "busy" }]]);
  assert.deepEqual(await d.presence([bob]), [{ user: bob, available: true, state: { status: "busy" } }]);
  const after = d.events();
  await client.dispose();
  for await (const ev of after) {
    if (ev.type === "presence_changed" && !ev.available) break;
  }
  assert.deepEqual(await d.presence([bob]), [{ user: bob, available: false, state: {} }]);
  assert.equal(await e.stopListening(), true);
  await e.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("undo and redo of one user's change, as Promises of the outcome", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("acme", "undo");
  const m = await d.createModel("notes", { text: "ab" }, "u1");
  const ann = { kind: "normal", name: "ann" };
  await m.apply({ op: "splice", path: ["text"], index: 2, insert: "cd" }, { user: ann });
  await m.apply({ op: "splice", path: ["text"], index: 0, insert: ">" });
  assert.deepEqual(await m.undo({ last_of: ann }), { outcome: "undone", version: 4, undid: [2] });
  assert.deepEqual(await m.json(), { text: ">ab" });
  assert.deepEqual((await m.history(4, 4))[0].undoes, [2]);
  const redo = await m.redo({ version: 4 }, { by: ann });
  assert.equal(redo.outcome, "undone");
  assert.deepEqual(await m.json(), { text: ">abcd" });
  assert.deepEqual((await m.history(5, 5))[0].user, ann);
  assert.deepEqual(await m.undo({ since: { user: { kind: "normal", name: "nobody" }, version: 1 } }), { outcome: "nothing_to_undo" });
  await assert.rejects(m.undo({ sideways: 1 }), (err) => err.code === "invalid_argument");
  await e.shutdown();
});
