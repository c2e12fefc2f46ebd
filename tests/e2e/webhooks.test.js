// Webhooks and sessions with the real client: the moment the last client leaves a model, a
// signed `model.last_session_left` delivery carries the model's final JSON and version; a
// server killed (SIGKILL) while a receiver holds a delivery delivers it, and every later one,
// after its restart; and an operator sees who is connected over REST and disconnects one
// session, whose client reconnects by itself with a new one.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const http = require("node:http");
const h = require("./lib/harness");

let server;
let key;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    users: ["alice", "bob"].map((u) => ({ username: u, password: `${u}-pw` })),
    collections: [{ id: "notes", world: "read,write,create,remove", users: {} }],
    config: "[engine.webhooks]\nretry_initial_ms = 100\nretry_max_ms = 300\ntimeout_ms = 2000\n",
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
  }).then(async (r) => ({ status: r.status, body: r.status === 204 ? null : await r.json() }));
}

/** A webhook receiver on loopback; `hold` makes it never answer (until released). */
async function receiver() {
  const got = [];
  const state = { hold: false, held: [] };
  const srv = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ headers: req.headers, body, json: JSON.parse(body) });
      if (state.hold) state.held.push(res);
      else res.end("ok");
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return {
    got,
    state,
    url: `http://127.0.0.1:${srv.address().port}/hook`,
    close: () => {
      for (const res of state.held) res.destroy();
      srv.closeAllConnections();
      return new Promise((r) => srv.close(r));
    },
  };
}

function signed(secret, d) {
  const ts = d.headers["tandem-timestamp"];
  const mac = crypto.createHmac("sha256", secret).update(`${ts}.${d.body}`).digest("hex");
  return d.headers["tandem-signature"] === `v1=${mac}`;
}

async function open(user, id) {
  const d = await h.connectPassword(server.url, user, `${user}-pw`);
  domains.push(d);
  const m = await d.models().openAutoCreate({ collection: "notes", id, data: { text: "" } });
  models.push(m);
  return { d, m };
}

test("the last client leaving a model sends its final JSON and version, signed", async () => {
  const r = await receiver();
  try {
    const made = await rest("POST", "/webhooks", { url: r.url, events: ["model.last_session_left", "model.created"] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const a = await open("alice", "doc-1");
    const b = await open("bob", "doc-1");
    a.m.root().get("text").insert(0, "hello ");
    b.m.root().get("text").insert(0, ">");
    await h.waitConverged([a.m, b.m]);
    const final = a.m.root().value();
    const version = a.m.version();
    await a.m.close();
    // One client still has it open: nothing yet.
    await h.sleep(300);
    assert.equal(r.got.filter((d) => d.json.event === "model.last_session_left").length, 0);
    await b.m.close();
    await h.waitFor(() => r.got.some((d) => d.json.event === "model.last_session_left"), {
      what: "the last_session_left delivery",
    });
    const created = r.got.find((d) => d.json.event === "model.created");
    assert.equal(created.json.data.model, "doc-1");
    const left = r.got.find((d) => d.json.event === "model.last_session_left");
    assert.deepEqual(left.json.data.data, final);
    assert.equal(left.json.data.version, version);
    assert.equal(left.json.data.collection, "notes");
    assert.equal(left.json.namespace, server.namespace);
    for (const d of r.got) assert.ok(signed(made.body.secret, d), `signature of ${d.body}`);
    assert.ok(!signed("not the secret", left));
    // The app reads the same over REST.
    const read = await rest("GET", "/models/doc-1");
    assert.deepEqual(read.body.data, final);
    const removed = await rest("DELETE", `/webhooks/${made.body.id}`);
    assert.equal(removed.status, 204);
  } finally {
    await r.close();
  }
});

test("a server killed while a receiver holds a delivery delivers it and the later ones after a restart", async () => {
  const r = await receiver();
  try {
    const made = await rest("POST", "/webhooks", { url: r.url, events: ["model.created"] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    r.state.hold = true;
    for (const id of ["k1", "k2", "k3"]) {
      const c = await rest("POST", "/models", { collection: "notes", id, data: {} });
      assert.equal(c.status, 201);
    }
    await h.waitFor(() => r.got.length === 1, { what: "the first delivery under way" });
    await server.kill9();
    r.state.hold = false;
    await server.spawn();
    await h.waitFor(() => new Set(r.got.map((d) => d.json.data.model)).size === 3, {
      what: "all three models' deliveries after the restart",
      timeoutMs: 20000,
    });
    // The one under way comes again with the same delivery id; then each of the others once,
    // in order.
    const ids = r.got.map((d) => d.headers["tandem-delivery"]);
    const first = `${made.body.id}.1`;
    assert.deepEqual(ids.slice(0, 2), [first, first]);
    assert.deepEqual(
      r.got.slice(1).map((d) => d.json.data.model),
      ["k1", "k2", "k3"],
    );
    for (const d of r.got) assert.ok(signed(made.body.secret, d));
    await h.waitFor(async () => {
      const list = await rest("GET", `/webhooks/${made.body.id}/deliveries`);
      return list.body.items.every((d) => d.status === "delivered");
    }, { what: "every delivery marked delivered" });
    await rest("DELETE", `/webhooks/${made.body.id}`);
  } finally {
    await r.close();
  }
});

test("an operator lists the sessions and disconnects one; its client reconnects with a new session", async () => {
  const a = await open("alice", "doc-2");
  const b = await open("bob", "doc-2");
  const listed = await rest("GET", "/sessions");
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  // Earlier tests' clients may still be connected: these two are listed with their users.
  const mine = listed.body.items.filter((s) => [a, b].some((c) => c.d.session().sessionId() === s.id));
  assert.deepEqual(mine.map((s) => s.user.name).sort(), ["alice", "bob"]);
  assert.equal(listed.body.total, listed.body.items.length);
  const bobs = mine.find((s) => s.user.name === "bob");
  assert.equal(bobs.user.kind, "normal");
  assert.ok(bobs.connected_ms > Date.now() - 60000 && bobs.connected_ms <= Date.now());
  assert.equal(bobs.address, null); // a loopback client forwarding no address
  assert.match(bobs.client, /\S/);
  const filtered = await rest("GET", "/sessions?filter=ALI");
  assert.ok(filtered.body.items.length >= 1);
  assert.ok(filtered.body.items.every((s) => s.user.name === "alice"));

  const old = bobs.id;
  const gone = await rest("DELETE", `/sessions/${old}`);
  assert.equal(gone.status, 204);
  await h.waitFor(() => b.d.isConnected() && b.d.session().sessionId() !== old, {
    what: "bob reconnected with a new session",
  });
  // The model survives the reconnect: edits from both still converge.
  b.m.root().get("text").insert(0, "after ");
  a.m.root().get("text").insert(0, "a:");
  await h.waitConverged([a.m, b.m]);
  const again = await rest("GET", "/sessions");
  const ids = again.body.items.map((s) => s.id);
  assert.ok(!ids.includes(old), "the old session is gone");
  assert.ok(ids.includes(b.d.session().sessionId()), "the new session is listed");
  const unknown = await rest("DELETE", `/sessions/${old}`);
  assert.equal(unknown.status, 404);
});
