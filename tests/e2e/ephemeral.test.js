// Ephemeral models with the real client: `openAutoCreate({ephemeral: true})` creates a model
// that lives while someone has it open; once the last session closes it is gone (not found,
// not in queries) and the next auto-create starts it afresh. A model without the flag stays.
// An ephemeral model still open when the server stops is gone after the restart.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

let server;
const domains = [];

before(async () => {
  server = await h.TandemServer.start({
    users: ["alice", "bob"].map((u) => ({ username: u, password: `${u}-pw` })),
    collections: [{ id: "scratch", world: "read,write,create,remove", users: {} }],
  });
});

after(async () => {
  await h.disposeAll(domains, []);
  if (server) await server.close();
});

async function connect(user) {
  const d = await h.connectPassword(server.url, user, `${user}-pw`);
  domains.push(d);
  return d;
}

async function rejectsNotFound(promise) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, "model_not_found", e.message);
    return true;
  });
}

const ids = async (d) => (await d.models().query("SELECT * FROM scratch")).data.map((r) => r.modelId).sort();

test("an ephemeral model lives while it is open and is gone after its last close", async () => {
  const alice = await connect("alice");
  const bob = await connect("bob");
  const a = await alice.models().openAutoCreate({
    collection: "scratch",
    id: "board",
    ephemeral: true,
    data: { strokes: [] },
  });
  a.root().get("strokes").push("line");
  await h.whenCommitted(a);
  const b = await bob.models().open("board");
  assert.deepEqual(b.root().value(), { strokes: ["line"] });

  await a.close();
  assert.deepEqual(await ids(bob), ["board"], "bob still has it open");
  b.root().get("strokes").push("circle");
  await h.whenCommitted(b);
  await b.close();

  await rejectsNotFound(alice.models().open("board"));
  assert.deepEqual(await ids(alice), []);
  // Auto-create starts it afresh, with the creator's data, at version 1.
  const again = await alice.models().openAutoCreate({
    collection: "scratch",
    id: "board",
    ephemeral: true,
    data: { strokes: ["fresh"] },
  });
  assert.deepEqual(again.root().value(), { strokes: ["fresh"] });
  assert.equal(again.version(), 1);
  await again.close();
  await rejectsNotFound(alice.models().open("board"));
});

test("a model auto-created without the flag stays after its last close", async () => {
  const alice = await connect("alice");
  const m = await alice.models().openAutoCreate({ collection: "scratch", id: "notes", data: { n: 1 } });
  await m.close();
  const again = await alice.models().open("notes");
  assert.deepEqual(again.root().value(), { n: 1 });
  await again.close();
  await alice.models().remove("notes");
});

test("an ephemeral model open when the server stops is gone after the restart", async () => {
  const alice = await connect("alice");
  const m = await alice.models().openAutoCreate({
    collection: "scratch",
    id: "left-open",
    ephemeral: true,
    data: { here: true },
  });
  assert.equal(m.isOpen(), true);
  const resyncErrors = [];
  m.on("resync_error", (e) => resyncErrors.push(e.message));
  await alice.models().create({ collection: "scratch", id: "kept", data: { n: 2 } });
  await server.restart();
  const later = await connect("alice");
  await rejectsNotFound(later.models().open("left-open"));
  assert.deepEqual(await ids(later), ["kept"]);
  // The client that had it open reconnects; its resync learns the model is gone.
  await h.waitFor(() => resyncErrors.length > 0, { what: "alice's resync of the deleted model" });
  assert.match(resyncErrors[0], /not found/);
  assert.equal(alice.session().isConnected(), true);
});
