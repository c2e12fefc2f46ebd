// The REST API beside live clients: replacing a model's data over REST is one operation of
// the model, so every open session (the real client) receives it, edits made afterwards
// converge with it, and its history shows it; a read-only API key cannot replace anything,
// and a key of the domain reads exactly what the clients converged to.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

let server;
let writer;
let reader;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    users: ["alice", "bob"].map((u) => ({ username: u, password: `${u}-pw` })),
    collections: [{ id: "notes", world: "read,write,create,remove", users: {} }],
  });
  writer = (await server.cli("api-key", "create", ...server.domainArgs(), "--name", "sync")).trim();
  reader = (await server.cli("api-key", "create", ...server.domainArgs(), "--read-only")).trim();
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

async function open(user, id) {
  const d = await h.connectPassword(server.url, user, `${user}-pw`);
  domains.push(d);
  const m = await d.models().open(id);
  models.push(m);
  return m;
}

function rest(method, path, key, body) {
  const url = `http://127.0.0.1:${server.port}/api/v1/domains/${server.namespace}/${server.domain}${path}`;
  return fetch(url, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
}

test("a REST replacement reaches every open client as an operation and converges with later edits", async () => {
  const made = await rest("POST", "/models", writer, { collection: "notes", id: "plan", data: { title: "v1", items: ["a"] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const a = await open("alice", "plan");
  const b = await open("bob", "plan");
  assert.deepEqual(a.root().value(), { title: "v1", items: ["a"] });

  const denied = await rest("PUT", "/models/plan/data", reader, { title: "nope" });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.code, "permission_denied");

  const replaced = await rest("PUT", "/models/plan/data", writer, { title: "from the app server", items: ["x", "y"] });
  assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
  assert.equal(replaced.body.version, 2);
  for (const m of [a, b]) {
    await h.waitFor(() => m.version() === 2, { what: `${m.session().user().username} received the replacement` });
    assert.deepEqual(m.root().value(), { title: "from the app server", items: ["x", "y"] });
  }
  // Edits after the replacement address its new values and converge.
  a.root().get("items").push("z-alice");
  b.root().get("title").insert(0, "Bob: ");
  await h.waitConverged([a, b]);
  const expected = { title: "Bob: from the app server", items: ["x", "y", "z-alice"] };
  assert.deepEqual(a.root().value(), expected);
  assert.deepEqual(b.root().value(), expected);

  const read = await rest("GET", "/models/plan", reader);
  assert.deepEqual(read.body.data, expected);
  assert.equal(read.body.version, a.version());
  const history = await rest("GET", "/models/plan/history", reader);
  assert.equal(history.body[0].version, 2);
  assert.equal(history.body[0].session, "host");
  assert.equal(history.body.length, a.version() - 1);
});
