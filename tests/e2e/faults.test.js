// A panic is contained: the debug server with TANDEM_TEST_FAULTS set panics when an operation
// inserts one of the engine's fault markers (engine/src/fault.rs). A crashed model task
// force-closes every session on that model with a reason, logs the model and its sessions, and
// reloads from the store at its next open; a crashed connection task closes its socket with
// 1011, its model sessions leave the model, and the others keep editing.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

const PANIC_IN_SEQUENCER = "\u{1F4A5}panic-in-sequencer";
const PANIC_IN_CONNECTION = "\u{1F4A5}panic-in-connection";

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({ env: { TANDEM_TEST_FAULTS: "1" } });
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

/**
 * Connects; `closes` (if given) collects the code and reason of every close of its sockets.
 * `reconnect` false: a client whose socket the server closes stays offline (rc.12 otherwise
 * goes on reconnecting after the test, and its timers keep the test process alive).
 */
async function connect(name, closes, reconnect = true) {
  const sockets = [];
  const extra = {
    reconnect: { autoReconnect: reconnect },
    webSocket: {
      factory: (u) => {
        const ws = new h.WebSocket(u);
        sockets.push(ws);
        if (closes) ws.on("close", (code, reason) => closes.push({ code, reason: reason.toString() }));
        return ws;
      },
      class: h.WebSocket,
    },
  };
  const d = await h.connectAnonymously(server.url, name, extra);
  d.sockets = sockets;
  domains.push(d);
  return d;
}

async function open(d, modelId) {
  const m = await d.models().openAutoCreate({ collection: "faults", id: modelId, data: { text: "hello" } });
  models.push(m);
  return m;
}

function closedEvents(model) {
  const seen = [];
  model.on("closed", (e) => seen.push(e));
  return seen;
}

test("a panic in a model's task closes its sessions with a reason; the model reloads", async () => {
  const da = await connect("Ann");
  const db = await connect("Ben");
  const a = await open(da, "crashy");
  const b = await open(db, "crashy");
  models.splice(models.indexOf(a), 1); // stays closing (see below): disposing it is enough
  const closedA = closedEvents(a);
  const closedB = closedEvents(b);
  a.root().get("text").insert(5, " world");
  await h.whenCommitted(a);
  await h.waitFor(() => b.root().get("text").value() === "hello world", { what: "Ben to see Ann's edit" });

  a.root().get("text").insert(0, PANIC_IN_SEQUENCER);
  // Ben had nothing in flight: his model closes with the reason. Ann's crashing operation is
  // never acknowledged, and rc.12 stays "closing" while an operation of its own is
  // uncommitted (docs/compatibility.md), so her model is closing, not closed.
  await h.waitFor(() => closedB.length > 0 && a.isClosing(), {
    what: "both sessions to be closed",
    describe: () => `  Ben closed ${closedB.length} times; Ann closing ${a.isClosing()}`,
  });
  assert.match(String(closedB[0].reason), /internal error/, "the close carries a reason");
  assert.equal(b.isOpen(), false);
  assert.deepEqual(closedA, []);
  await h.waitFor(() => /model task crashed/.test(server.tail(200)), { what: "the crash to be logged" });
  const line = server.tail(200).split("\n").find((l) => /model task crashed/.test(l));
  assert.match(line, /crashy/, "the log names the model");
  assert.match(line, new RegExp(da.session().sessionId()), "the log names the sessions");
  assert.match(line, new RegExp(db.session().sessionId()), "the log names the sessions");

  // The model reloads from the store: the acknowledged edit is there, the crashing one not.
  const b2 = await open(db, "crashy");
  assert.equal(b2.root().get("text").value(), "hello world");
  b2.root().get("text").insert(0, ">");
  await h.whenCommitted(b2);
  const da2 = await connect("Ann again");
  const a2 = await open(da2, "crashy");
  assert.equal(a2.root().get("text").value(), ">hello world");
  // The connections themselves were not affected.
  assert.equal(da.session().isConnected(), true);
  assert.equal(db.session().isConnected(), true);
  // rc.12 never finishes closing Ann's model while connected, and disposing her domain would
  // wait for it: cut her socket first (offline, the close completes), then dispose.
  for (const ws of da.sockets) ws.terminate();
  await h.waitFor(() => !a.isOpen(), { what: "Ann's model to finish closing offline" });
  await h.withTimeout(da.dispose(), 5000, () => "dispose").catch(() => {});
  domains.splice(domains.indexOf(da), 1);
});

test("a panic in a connection's task closes its socket with 1011 and its model sessions", async () => {
  const closes = [];
  const dc = await connect("Cat", closes, false);
  const dd = await connect("Dan");
  const c = await open(dc, "victim");
  const d = await open(dd, "victim");
  const cSession = dc.session().sessionId();
  const textD = d.root().get("text");
  await h.waitFor(() => d.collaborators().some((x) => x.sessionId === cSession), { what: "Dan to see Cat" });

  c.root().get("text").insert(0, PANIC_IN_CONNECTION);
  // Dan's view: Cat's session leaves the model; the marker was never applied.
  await h.waitFor(() => !d.collaborators().some((x) => x.sessionId === cSession), {
    what: "Cat's session to leave the model",
  });
  await h.waitFor(() => closes.length > 0, { what: "Cat's socket to be closed" });
  assert.deepEqual(closes[0], { code: 1011, reason: "internal server error" });
  await h.waitFor(() => /connection task crashed/.test(server.tail(200)), { what: "the crash to be logged" });
  const line = server.tail(200).split("\n").find((l) => /connection task crashed/.test(l));
  assert.match(line, new RegExp(cSession), "the log names the session");
  // Dan keeps editing.
  textD.insert(5, "!");
  await h.whenCommitted(d);
  assert.equal(textD.value(), "hello!");
  assert.deepEqual(await server.dump("victim"), { text: "hello!" });
});
