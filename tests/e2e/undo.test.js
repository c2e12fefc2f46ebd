// Selective undo with the real client: the host (REST, an API key) undoes one user's change;
// every client receives it as an ordinary remote operation. Only that user's characters go,
// text another user typed inside them stays and so does that user's cursor; an undo while
// the user still has operations in flight; after the user reconnected with a new session; a
// conflict changes nothing; redo brings the change back.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

let server;
let key;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    users: ["alice", "bob"].map((u) => ({ username: u, password: `${u}-pw` })),
    collections: [{ id: "notes", world: "read,write,create,remove", users: {} }],
  });
  key = (await server.cli("api-key", "create", ...server.domainArgs(), "--name", "ops")).trim();
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

function rest(method, path, body) {
  const url = `http://127.0.0.1:${server.port}/api/v1/domains/${server.namespace}/${server.domain}${path}`;
  return fetch(url, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
}

const alice = { kind: "normal", name: "alice" };

async function open(user, id, data = { text: "" }) {
  const d = await h.connectPassword(server.url, user, `${user}-pw`);
  domains.push(d);
  const m = await d.models().openAutoCreate({ collection: "notes", id, data });
  models.push(m);
  return { d, m };
}

async function undo(id, scope, redo = false) {
  const r = await rest("POST", `/models/${id}/${redo ? "redo" : "undo"}`, { scope });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

test("the host undoes Alice's typing: Bob's text inside it and Bob's cursor stay", async () => {
  const a = await open("alice", "u-1");
  const b = await open("bob", "u-1");
  a.m.root().get("text").insert(0, "hello world");
  await h.waitConverged([a.m, b.m]);
  const textB = b.m.root().get("text");
  textB.insert(5, "[B]");
  const caret = textB.indexReference("caret");
  caret.set(8); // just after "[B]"
  caret.share();
  await h.waitConverged([a.m, b.m]);
  const bobSession = b.d.session().sessionId();
  await h.waitFor(() => a.m.root().get("text").reference(bobSession, "caret"), { what: "Bob's caret at Alice's" });
  const out = await undo("u-1", { last_of: alice });
  assert.equal(out.outcome, "undone", JSON.stringify(out));
  await h.waitFor(() => a.m.root().get("text").value() === "[B]" && textB.value() === "[B]", {
    what: "only Alice's characters removed on both clients",
    describe: () => `${a.m.root().get("text").value()} / ${textB.value()}`,
  });
  await h.waitConverged([a.m, b.m]);
  assert.equal(caret.value(), 3, "Bob's caret stays just after his text");
  await h.waitFor(() => a.m.root().get("text").reference(bobSession, "caret").value() === 3, {
    what: "Alice sees Bob's caret after his text",
  });
  // Both keep editing over the undo.
  textB.insert(3, "!");
  await h.waitConverged([a.m, b.m]);
  assert.equal(a.m.root().get("text").value(), "[B]!");
  const read = await rest("GET", "/models/u-1");
  assert.deepEqual(read.body.data, { text: "[B]!" });
});

test("an undo while Alice still has operations in flight keeps them", async () => {
  const a = await open("alice", "u-2");
  const b = await open("bob", "u-2");
  const text = a.m.root().get("text");
  text.insert(0, "first ");
  await h.whenCommitted(a.m);
  const version = a.m.version();
  // Twenty more, not waited for, while the host undoes the first.
  const sent = (async () => {
    for (let i = 0; i < 20; i++) {
      text.insert(text.value().length, String.fromCharCode(97 + i));
      await new Promise((r) => setImmediate(r));
    }
  })();
  const out = await undo("u-2", { version });
  await sent;
  assert.equal(out.outcome, "undone", JSON.stringify(out));
  await h.waitConverged([a.m, b.m]);
  assert.equal(text.value(), "abcdefghijklmnopqrst");
  assert.equal(b.m.root().get("text").value(), text.value());
  const read = await rest("GET", "/models/u-2");
  assert.deepEqual(read.body.data, { text: "abcdefghijklmnopqrst" });
});

test("Alice's last change is undone after she reconnected with a new session", async () => {
  const a = await open("alice", "u-3");
  a.m.root().get("text").insert(0, "before reconnect");
  await h.whenCommitted(a.m);
  const first = a.d.session().sessionId();
  await a.m.close();
  await a.d.dispose();
  const again = await open("alice", "u-3");
  assert.notEqual(again.d.session().sessionId(), first);
  const out = await undo("u-3", { last_of: alice });
  assert.equal(out.outcome, "undone", JSON.stringify(out));
  await h.waitFor(() => again.m.root().get("text").value() === "", { what: "the undo at the new session" });
  // Redo brings it back.
  const back = await undo("u-3", { version: out.version }, true);
  assert.equal(back.outcome, "undone", JSON.stringify(back));
  await h.waitFor(() => again.m.root().get("text").value() === "before reconnect", { what: "the redo" });
});

test("a conflict with a later change of another user changes nothing", async () => {
  const a = await open("alice", "u-4", { o: { k: 1 } });
  const b = await open("bob", "u-4", { o: { k: 1 } });
  a.m.root().get("o").set("k", 2);
  await h.waitConverged([a.m, b.m]);
  const version = a.m.version();
  b.m.root().get("o").remove("k");
  await h.waitConverged([a.m, b.m]);
  const out = await undo("u-4", { version });
  assert.deepEqual(out, { outcome: "conflict", versions: [version + 1] });
  await h.sleep(200);
  assert.deepEqual(a.m.root().value(), { o: {} });
  assert.deepEqual(b.m.root().value(), { o: {} });
  assert.equal(a.m.version(), version + 1);
});
