// Live revocation: an owner changes an editor's rights while everyone edits. The editor hears
// of a change at once (permissions_changed); an edit it sends after it lost write closes its
// model, one it sends after it lost read never arrives anywhere; nothing it sent after the
// revocation is applied, and the owner and the other editor keep editing and converge with
// the store.
//
// The editor talks through a proxy that can hold back what the server sends: that makes it
// the client that has not yet heard of the revocation and keeps submitting — what a slow
// network does — deterministically. (Once it has heard, rc.12 itself refuses edits without
// write, so only such a client reaches the server's check.)
//
// rc.12 finishes a server's force-close only once its in-flight operations are acknowledged,
// which a refused operation never is: such a model stays "closing" (isClosing(), no `closed`
// event) and its id cannot be opened again on that connection. The editor therefore comes
// back on a new connection, as a user reloading the page would.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const wire = require("./lib/wire");
const { proxyFor } = require("./lib/proxy");
const { assertAnswersAsMissing, rights } = require("./lib/perms");

const USERS = ["owner", "editor", "peer"].map((u) => ({ username: u, password: `${u}-pw` }));
const pw = (u) => `${u}-pw`;

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    users: USERS,
    // Nobody reads the collection's models unless a model names them.
    collections: [{ id: "live", world: "none", users: { owner: "create" } }],
  });
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

/** Pushes `${who}-${i}` onto the model's log every few ms until stopped. */
function typist(model, who) {
  let running = true;
  let i = 0;
  const done = (async () => {
    while (running && model.isOpen()) {
      model.root().get("log").push(`${who}-${i++}`);
      await h.sleep(10);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return i;
    },
  };
}

/** The owner's model (editor and peer named in it), the peer's, and the editor behind a proxy. */
async function scene(modelId, editorRights) {
  const owner = await h.connectPassword(server.url, "owner", pw("owner"));
  const peer = await h.connectPassword(server.url, "peer", pw("peer"));
  domains.push(owner, peer);
  await owner.models().create({
    collection: "live",
    id: modelId,
    data: { log: [] },
    userPermissions: { editor: rights(editorRights), peer: rights(["read", "write"]) },
  });
  const ownerModel = await owner.models().open(modelId);
  const peerModel = await peer.models().open(modelId);
  models.push(ownerModel, peerModel);

  const proxy = await proxyFor(server);
  const tap = h.tappedOptions();
  const editor = await h.connectPassword(proxy.url(server.url), "editor", pw("editor"), tap.options);
  // Not closed by the harness: it ends force-closed (see the note above).
  const editorModel = await editor.models().open(modelId);
  // The editor's connection goes before its proxy, or it would keep reconnecting to nothing.
  const finish = async () => {
    await h.disposeAll([editor]);
    proxy.close();
  };
  return { owner, peer, ownerModel, peerModel, proxy, tap, editor, editorModel, finish };
}

const log = (m) => m.root().get("log").value();
const mine = (values, who) => values.filter((v) => v.startsWith(`${who}-`));

/** Events of `name` on `model`, collected. */
function collect(model, name) {
  const events = [];
  model.on(name, (e) => events.push(e));
  return events;
}

/**
 * The editor pushes `tokens` one by one while its downstream is held, so it still believes it
 * may; then the proxy delivers everything the server said meanwhile.
 */
async function sendUnheard(s, tokens, revoke) {
  s.proxy.hold();
  await revoke();
  for (const t of tokens) s.editorModel.root().get("log").push(t);
  // The submissions are on their way up (upstream is not held); give them time to arrive.
  await h.sleep(300);
  s.proxy.release();
}

/** Everyone still editing ends equal to the store, each token there once. */
async function assertConverged(replicas, modelId) {
  await h.waitConverged(replicas);
  const stored = await server.dump(modelId);
  for (const r of replicas) assert.deepEqual(r.root().value(), stored);
  assert.equal(new Set(stored.log).size, stored.log.length, "a token is stored twice");
  return stored.log;
}

test("an editor loses write, then read, while everyone edits: told at once, then closed, nothing late applied", async () => {
  const modelId = "write-then-read";
  const s = await scene(modelId, ["read", "write", "remove"]);
  try {
    await loseWriteThenRead(s, modelId);
  } finally {
    await s.finish();
  }
});

async function loseWriteThenRead(s, modelId) {
  const changed = collect(s.editorModel, "permissions_changed");
  const ownerPm = s.ownerModel.permissionsManager();
  const others = [typist(s.ownerModel, "owner"), typist(s.peerModel, "peer")];

  // The editor edits along with the others.
  for (let i = 0; i < 20; i++) {
    s.editorModel.root().get("log").push(`editor-${i}`);
    await h.sleep(5);
  }
  await h.whenCommitted(s.editorModel);
  const accepted = mine(log(s.editorModel), "editor");
  assert.equal(accepted.length, 20);

  // A change that keeps write is only announced.
  await ownerPm.setUserPermissions("editor", rights(["read", "write", "remove", "manage"]));
  await h.waitFor(() => changed.length === 1, { what: "permissions_changed for manage" });
  assert.deepEqual(rights(changed[0].permissions), rights(["read", "write", "remove", "manage"]));
  assert.deepEqual(changed[0].changes, ["manage"]);
  assert.deepEqual(rights(s.editorModel.permissions()), rights(["read", "write", "remove", "manage"]));
  s.editorModel.root().get("log").push("editor-still");
  await h.whenCommitted(s.editorModel);
  accepted.push("editor-still");

  // The owner takes write away; the editor, not having heard yet, keeps editing.
  const late = ["editor-late-0", "editor-late-1", "editor-late-2"];
  await sendUnheard(s, late, () => ownerPm.setUserPermissions("editor", rights(["read", "remove"])));
  await h.waitFor(() => s.editorModel.isClosing(), { what: "the server to close the editor's model" });
  assert.equal(changed.length, 2);
  assert.equal(changed[1].permissions.write, false);
  assert.deepEqual(changed[1].changes, ["write", "manage"]);
  // Told in that order: the new rights, then the close for the first late edit (unauthorized).
  const said = s.tap.frames.filter((f) => f.modelPermissionsChanged || f.forceCloseRealTimeModel);
  assert.deepEqual(
    said.slice(-2).map((f) => wire.bodyName(f)),
    ["modelPermissionsChanged", "forceCloseRealTimeModel"],
  );
  const close = said[said.length - 1].forceCloseRealTimeModel;
  assert.equal(close.reasonCode, 1, JSON.stringify(close));
  assert.match(close.reason, /write/);
  const acks = s.tap.frames.filter((f) => f.operationAck).length;
  assert.equal(acks, accepted.length, `${acks} acks for ${accepted.length} edits made with write`);

  // Back on a new connection, read-only: the client refuses to edit, and sees the others' edits.
  const tap2 = h.tappedOptions();
  const editor2 = await h.connectPassword(server.url, "editor", pw("editor"), tap2.options);
  domains.push(editor2);
  const readOnly = await editor2.models().open(modelId);
  models.push(readOnly);
  assert.deepEqual(rights(readOnly.permissions()), rights(["read", "remove"]));
  assert.throws(() => readOnly.root().get("log").push("editor-refused"), /write permissions/);
  const seen = log(readOnly).length;
  await h.waitFor(() => log(readOnly).length > seen + 5, { what: "the read-only editor to receive the others' edits" });
  const closedAgain = collect(readOnly, "closed");

  // The owner takes read away: the editor's model is closed with "permissions changed" (code 8).
  await ownerPm.removeUserPermissions("editor");
  await h.waitFor(() => closedAgain.length === 1, { what: "the read-only editor's model to be closed" });
  assert.equal(readOnly.isOpen(), false);
  const lastClose = tap2.frames.filter((f) => f.forceCloseRealTimeModel).pop().forceCloseRealTimeModel;
  assert.equal(lastClose.reasonCode, 8, JSON.stringify(lastClose));
  assert.equal(closedAgain[0].local, false);
  assert.match(closedAgain[0].reason, /permissions changed/);
  await assertAnswersAsMissing((x) => editor2.models().open(x), modelId, "open after losing read");
  await assertAnswersAsMissing((x) => editor2.models().history(x), modelId, "history after losing read");

  // The others kept editing throughout and converge with the store.
  const counts = await Promise.all(others.map((t) => t.stop()));
  const stored = await assertConverged([s.ownerModel, s.peerModel], modelId);
  assert.deepEqual(mine(stored, "editor"), accepted, "the editor's stored edits are exactly those made with write");
  assert.equal(mine(stored, "owner").length, counts[0]);
  assert.equal(mine(stored, "peer").length, counts[1]);
}

test("an editor loses read while typing: closed (code 8), and nothing it sent afterwards is applied", async () => {
  const modelId = "read-lost-typing";
  const s = await scene(modelId, ["read", "write"]);
  try {
    await loseReadWhileTyping(s, modelId);
  } finally {
    await s.finish();
  }
});

async function loseReadWhileTyping(s, modelId) {
  const changed = collect(s.editorModel, "permissions_changed");
  const others = [typist(s.ownerModel, "owner"), typist(s.peerModel, "peer")];
  for (let i = 0; i < 10; i++) s.editorModel.root().get("log").push(`editor-${i}`);
  await h.whenCommitted(s.editorModel);
  const accepted = mine(log(s.editorModel), "editor");
  // The owner sees every edit the editor made so far before revoking.
  await h.waitFor(() => mine(log(s.ownerModel), "editor").length === accepted.length, { what: "the owner to have the editor's edits" });

  const late = ["editor-late-0", "editor-late-1", "editor-late-2", "editor-late-3"];
  await sendUnheard(s, late, () => s.ownerModel.permissionsManager().removeUserPermissions("editor"));
  await h.waitFor(() => s.editorModel.isClosing(), { what: "the server to close the editor's model" });
  assert.equal(changed.length, 0, "a session that lost read is closed, not told new rights");
  const closes = s.tap.frames.filter((f) => f.forceCloseRealTimeModel);
  assert.equal(closes.length, 1);
  assert.equal(closes[0].forceCloseRealTimeModel.reasonCode, 8, JSON.stringify(closes[0]));
  // No acknowledgement for a late edit reached the editor.
  const acks = s.tap.frames.filter((f) => f.operationAck).length;
  assert.equal(acks, accepted.length, `${acks} acks for ${accepted.length} accepted edits`);

  await h.sleep(200);
  const counts = await Promise.all(others.map((t) => t.stop()));
  const stored = await assertConverged([s.ownerModel, s.peerModel], modelId);
  assert.deepEqual(mine(stored, "editor"), accepted, "an edit sent after read was revoked was applied");
  assert.equal(mine(stored, "owner").length, counts[0]);
  assert.equal(mine(stored, "peer").length, counts[1]);
  // The editor cannot come back, and is told so as for a missing model.
  const editor2 = await h.connectPassword(server.url, "editor", pw("editor"));
  domains.push(editor2);
  await assertAnswersAsMissing((x) => editor2.models().open(x), modelId, "open after losing read");
}
