// A user who may not read a model tries to learn it through every message that names a model
// (open, auto-create, resync, history data, operations and version at a time, permissions,
// delete) or one of its resources (references, operations, close), and through what an open
// would show (connected clients, identities). Each answer must equal, field for field, the
// answer about a model that exists nowhere, and nothing may reach the model or its owner.
//
// Raw sockets (lib/wire.js) send what the real client cannot (a resync it did not start,
// references on a resource it never held); the real client's own calls are checked too. The
// intruders: a user with no rights, one holding write, remove and manage but not read, and an
// anonymous user.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const wire = require("./lib/wire");
const { RIGHTS, assertAnswersAsMissing, rights } = require("./lib/perms");

const SECRET = "plans";
const MISSING = "absent-model";
const ALL = rights(RIGHTS);

const INTRUDERS = [
  { label: "a user with no rights", auth: { password: { username: "nosy", password: "nosy-pw" } } },
  { label: "a user with write, remove and manage but not read", auth: { password: { username: "partial", password: "partial-pw" } } },
  { label: "an anonymous user", auth: { anonymous: { displayName: { value: "Lurker" } } } },
];

let server;
const domains = [];
const models = [];
let owner;
let ownerModel;
let ownerTap;
let textId;
let ownerEdits;

before(async () => {
  server = await h.TandemServer.start({
    anonymous: true,
    users: ["owner", "nosy", "partial"].map((u) => ({ username: u, password: `${u}-pw` })),
    collections: [{ id: "vault", world: "none", users: { owner: "create" } }],
  });
  ownerTap = h.tappedOptions();
  owner = await h.connectPassword(server.url, "owner", "owner-pw", ownerTap.options);
  domains.push(owner);
  await owner.models().create({
    collection: "vault",
    id: SECRET,
    data: { text: "top secret" },
    overrideCollectionWorldPermissions: true,
    worldPermissions: rights([]),
    userPermissions: { partial: rights(["write", "remove", "manage"]) },
  });
  ownerModel = await owner.models().open(SECRET);
  models.push(ownerModel);
  textId = ownerModel.root().get("text").id();
  // The owner keeps editing: anything wrongly attached to the model would hear of it.
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      ownerModel.root().get("text").insert(0, `${n++ % 10}`);
      await h.sleep(30);
    }
  })();
  ownerEdits = async () => {
    running = false;
    await loop;
  };
  for (const intruder of INTRUDERS) {
    intruder.conns = {};
    for (const which of ["secret", "missing"]) {
      const c = await wire.RawClient.connect(server.url, intruder.auth);
      // The auto-create exchange: data for a collection the intruder may not create in.
      c.answer = (m) =>
        m.modelAutoCreateConfigRequest && {
          modelAutoCreateConfigResponse: { collection: "vault", data: { id: "@:0", children: {} } },
        };
      c.autoId = 0;
      intruder.conns[which] = c;
    }
  }
});

after(async () => {
  if (ownerEdits) await ownerEdits();
  for (const i of INTRUDERS) for (const c of Object.values(i.conns || {})) c.close();
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

const ts = (ms) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

/** Requests naming a model: [name, (conn, id) => reply]. */
const MODEL_PROBES = [
  ["open", (c, id) => c.request({ openRealTimeModelRequest: { modelId: { value: id } } })],
  [
    "open with auto-create (in a collection it may not create in)",
    (c, id) => c.request({ openRealTimeModelRequest: { modelId: { value: id }, autoCreateId: { value: c.autoId++ } } }),
  ],
  ["resync from version 1", (c, id) => c.request({ modelResyncRequest: { modelId: id, contextVersion: 1 } })],
  ["resync from a version far ahead", (c, id) => c.request({ modelResyncRequest: { modelId: id, contextVersion: 100000 } })],
  ["historical data", (c, id) => c.request({ historicalDataRequest: { modelId: id } })],
  ["historical operations 1..2", (c, id) => c.request({ historicalOperationsRequest: { modelId: id, first: 1, last: 2 } })],
  ["historical operations past the end", (c, id) => c.request({ historicalOperationsRequest: { modelId: id, first: 1, last: 100000 } })],
  ["version at the current time", (c, id) => c.request({ modelGetVersionAtTimeRequest: { modelId: id, targetTime: ts(Date.now()) } })],
  ["version at time 0", (c, id) => c.request({ modelGetVersionAtTimeRequest: { modelId: id, targetTime: ts(0) } })],
  ["get permissions", (c, id) => c.request({ getModelPermissionsRequest: { modelId: id } })],
  [
    "set permissions: grant itself every right",
    (c, id) =>
      c.request({
        setModelPermissionsRequest: { modelId: id, setUserPermissions: [{ user: c.session.user.userId, permissions: ALL }] },
      }),
  ],
  [
    "set permissions: world everything, override on",
    (c, id) => c.request({ setModelPermissionsRequest: { modelId: id, overrideCollection: { value: true }, worldPermissions: ALL } }),
  ],
  [
    "set permissions: remove every entry",
    (c, id) => c.request({ setModelPermissionsRequest: { modelId: id, removeAllUserPermissionsBeforeSet: true } }),
  ],
  [
    "set permissions: remove the owner's entry",
    (c, id) => c.request({ setModelPermissionsRequest: { modelId: id, removedUserPermissions: [{ username: "owner" }] } }),
  ],
  ["delete", (c, id) => c.request({ deleteRealtimeModelRequest: { modelId: id } })],
  [
    "references, operations and close on resource ids it does not hold, after a refused open",
    async (c, id) => {
      const open = await c.request({ openRealTimeModelRequest: { modelId: { value: id } } });
      for (const resourceId of [0, 1, 2, 3]) {
        const ref = { resourceId, valueId: { value: textId }, key: "caret" };
        const values = { indices: { values: [1] } };
        c.send({ shareReference: { ...ref, references: values, version: 2 } });
        c.send({ setReference: { ...ref, references: values, version: 2 } });
        c.send({ clearReference: ref });
        c.send({ unshareReference: ref });
        c.send({
          operationSubmission: { resourceId, sequenceNumber: 0, contextVersion: 2, operation: wire.insertOp(textId, 0, "intruded") },
        });
      }
      const closes = [];
      for (const resourceId of [0, 1, 2, 3]) closes.push(await c.request({ closeRealTimeModelRequest: { resourceId } }));
      return { open, closes };
    },
  ],
];

/**
 * Runs a probe and returns the reply and every other message the connection received until a
 * later request's reply (the connection answers in order), with `id` replaced.
 */
async function probe(conn, run, id) {
  const mark = conn.received.length;
  const reply = await run(conn, id);
  await conn.request({ serverTimeRequest: {} });
  const result = { reply, received: conn.received.slice(mark) };
  return JSON.parse(JSON.stringify(result).split(id).join("<id>"));
}

for (const intruder of INTRUDERS) {
  for (const [name, run] of MODEL_PROBES) {
    test(`${intruder.label} — ${name}: answered exactly as for a missing model`, async () => {
      const denied = await probe(intruder.conns.secret, run, SECRET);
      const absent = await probe(intruder.conns.missing, run, MISSING);
      assert.deepEqual(denied, absent);
      // And that answer is a refusal: an error, never data.
      const replies = denied.reply.closes ? [denied.reply.open, ...denied.reply.closes] : [denied.reply];
      for (const r of replies) assert.ok(r.error, `not an error: ${JSON.stringify(r)}`);
    });
  }
}

test("the real client's calls answer as for a missing model, for a user with no rights and one without read", async () => {
  for (const username of ["nosy", "partial"]) {
    const d = await h.connectPassword(server.url, username, `${username}-pw`);
    domains.push(d);
    const models_ = d.models();
    await assertAnswersAsMissing((x) => models_.open(x), SECRET, `${username}: open`);
    // Creating the missing one is refused (no create in the vault): so must opening the secret be.
    await assertAnswersAsMissing(
      (x) => models_.openAutoCreate({ collection: "vault", id: x, data: {} }),
      SECRET,
      `${username}: openAutoCreate`,
      "unauthorized",
    );
    await assertAnswersAsMissing((x) => models_.history(x), SECRET, `${username}: history`);
    await assertAnswersAsMissing((x) => models_.permissions(x).getAllUserPermissions(), SECRET, `${username}: permissions`);
    await assertAnswersAsMissing((x) => models_.permissions(x).getWorldPermissions(), SECRET, `${username}: world permissions`);
    await assertAnswersAsMissing((x) => models_.permissions(x).setUserPermissions(username, ALL), SECRET, `${username}: grant itself`);
    await assertAnswersAsMissing((x) => models_.permissions(x).setOverridesCollection(false), SECRET, `${username}: override off`);
    await assertAnswersAsMissing((x) => models_.remove(x), SECRET, `${username}: delete`);
  }
});

test("a history view opened while readable answers as for a deleted model once read is revoked", async () => {
  const nosy = await h.connectPassword(server.url, "nosy", "nosy-pw");
  domains.push(nosy);
  for (const id of ["was-readable", "will-vanish"]) {
    await owner.models().create({ collection: "vault", id, data: { text: "v1" }, userPermissions: { nosy: rights(["read"]) } });
    const m = await owner.models().open(id);
    m.root().get("text").insert(0, "v2 ");
    await h.whenCommitted(m);
    await m.close();
  }
  const revoked = await nosy.models().history("was-readable");
  const vanished = await nosy.models().history("will-vanish");
  assert.equal(revoked.version(), 2);
  await owner.models().permissions("was-readable").removeUserPermissions("nosy");
  await owner.models().remove("will-vanish");
  const views = { "was-readable": revoked, "will-vanish": vanished };
  const compare = async (what, call) => {
    const { settle, shape } = require("./lib/perms");
    const [a, b] = [await settle(() => call(views["was-readable"])), await settle(() => call(views["will-vanish"]))];
    assert.ok(a.err && b.err, `${what}: ${JSON.stringify([a.ok, b.ok])}`);
    assert.equal(b.err.code, "model_not_found");
    assert.deepEqual(shape(a.err, "was-readable"), shape(b.err, "will-vanish"), what);
  };
  await compare("play back to version 1", (v) => v.playTo(1));
  await compare("play to a time", (v) => v.playToTime(new Date()));
});

test("nothing reached the model or its owner: data, permissions and collaborators unchanged", async () => {
  await ownerEdits();
  await h.whenCommitted(ownerModel);
  await h.sleep(200);
  const stored = await server.dump(SECRET);
  assert.deepEqual(stored, ownerModel.root().value());
  assert.ok(stored.text.endsWith("top secret") && !stored.text.includes("intruded"), stored.text);
  assert.deepEqual(
    ownerModel.collaborators().map((c) => c.sessionId),
    [owner.session().sessionId()],
    "someone else joined the owner's model",
  );
  const told = ownerTap.frames.filter(
    (f) => f.remoteClientOpenedModel || f.referenceShared || f.referenceSet || f.remoteClientResyncStarted || f.forceCloseRealTimeModel,
  );
  assert.deepEqual(told, [], "the owner was told of another session");
  const pm = ownerModel.permissionsManager();
  assert.equal(await pm.getOverridesCollection(), true);
  assert.deepEqual(rights(await pm.getWorldPermissions()), rights([]));
  const entries = await pm.getAllUserPermissions();
  const asObject = {};
  entries.forEach((p, user) => (asObject[user.toGuid ? user.toGuid() : user] = rights(p)));
  assert.deepEqual(asObject, { "normal:owner": ALL, "normal:partial": rights(["write", "remove", "manage"]) });
  // No intruder connection ever received anything about a model (beyond the errors and the
  // auto-create exchange the probes asked for, the same for the missing model).
  for (const intruder of INTRUDERS) {
    for (const c of Object.values(intruder.conns)) {
      const about = c.received.filter((m) => !(m.error && m.error.code === "unknown_resource_id") && !m.modelAutoCreateConfigRequest);
      assert.deepEqual(about.map(wire.bodyName), [], `${intruder.label} was sent ${JSON.stringify(about)}`);
    }
  }
});

// The control: the same requests from the owner reach the model, so the refusals above are
// the permission check's and not a malformed probe's.
test("the same probes from the owner get the model's data, history and permissions", async () => {
  const c = await wire.RawClient.connect(server.url, { password: { username: "owner", password: "owner-pw" } });
  try {
    const readers = MODEL_PROBES.filter(([name]) => /^(open$|resync from version 1|historical data|historical operations 1\.\.2|version at the current|get permissions)/.test(name));
    assert.equal(readers.length, 6);
    for (const [name, run] of readers) {
      const reply = await run(c, SECRET);
      assert.ok(!reply.error, `${name}: ${JSON.stringify(reply.error)}`);
      const opened = reply.openRealTimeModelResponse || reply.modelResyncResponse;
      if (opened) await c.request({ closeRealTimeModelRequest: { resourceId: opened.resourceId || 0 } });
    }
  } finally {
    c.close();
  }
});
