// Model permissions as a user meets them: each right (read, write, remove, manage) granted and
// denied at each level of the resolution (the model's entry for the user, the collection's
// entry for the user, the model's world permissions with the override on, the collection's
// world permissions), for what the right guards — open, history, references and reading the
// permissions (read), editing (write), deleting (remove), changing the permissions (manage).
//
// Each case gives the subject, at its level, either the right with read (granted; read alone
// for read) or every right but that one (denied), and gives it the opposite at every level
// below, so only the first matching level can explain the outcome. A denied read answers
// exactly as a missing model does, even to a user holding write, remove and manage.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const wire = require("./lib/wire");
const { RIGHTS, assertAnswersAsMissing, assertRejectsWith, complement, rights } = require("./lib/perms");

const USERS = ["owner", "sub", "carol"].map((u) => ({ username: u, password: `${u}-pw` }));
const INITIAL = { text: "hello", n: 0 };

const LEVELS = [
  { key: "model-user", label: "the model's entry for the user" },
  { key: "collection-user", label: "the collection's entry for the user" },
  { key: "model-world", label: "the model's world permissions (override on)" },
  { key: "collection-world", label: "the collection's world permissions (override off)" },
];

const OUTCOME = {
  read: [
    "opens with exactly read, reads the history, shares a reference, reads the permissions",
    "open, history, permissions and delete answer as for a missing model, despite write, remove and manage",
  ],
  write: ["edits, and the others and the store get the edit", "reads but cannot edit: the server force-closes a submission (code 1), nothing applied"],
  remove: ["deletes the model, closing it for the others", "gets unauthorized on delete and the model stays"],
  manage: ["grants another user rights, which that user then holds", "gets unauthorized on every permission change and nothing changes"],
};

/** One case of the matrix: who holds what where, and the outcome to check. */
function makeCase(right, level, granted) {
  const slug = `${right}-${granted ? "granted" : "denied"}-${level.key}`;
  const held = granted ? (right === "read" ? ["read"] : ["read", right]) : complement([right]);
  const below = complement(held);
  const users = { owner: "create" };
  if (level.key === "collection-user") users.sub = held;
  if (level.key === "model-user") users.sub = below;
  return {
    right,
    level,
    granted,
    held,
    name: `${right} ${granted ? "granted" : "denied"} by ${level.label}: ${OUTCOME[right][granted ? 0 : 1]}`,
    modelId: `m-${slug}`,
    collection: { id: `c-${slug}`, world: level.key === "collection-world" ? held : below, users },
    create: {
      collection: `c-${slug}`,
      id: `m-${slug}`,
      data: INITIAL,
      overrideCollectionWorldPermissions: level.key !== "collection-world",
      worldPermissions: rights(level.key === "model-world" ? held : below),
      userPermissions: level.key === "model-user" ? { sub: rights(held) } : undefined,
    },
  };
}

const CASES = RIGHTS.flatMap((right) => LEVELS.flatMap((level) => [true, false].map((g) => makeCase(right, level, g))));

const CREATE_COLLECTIONS = [
  { id: "create-none", world: "read,write", users: { owner: "create" } },
  { id: "create-by-user", world: "read", users: { sub: "create,read" } },
  { id: "create-by-world", world: "create,read", users: {} },
];

let server;
const conns = {};
const domains = [];
const opened = [];

before(async () => {
  server = await h.TandemServer.start({
    users: USERS,
    collections: [...CASES.map((c) => c.collection), ...CREATE_COLLECTIONS],
    domainConfig: { default_collection_world: "read" },
  });
  for (const u of USERS) {
    conns[u.username] = await h.connectPassword(server.url, u.username, u.password);
    domains.push(conns[u.username]);
  }
});

after(async () => {
  await h.disposeAll(domains, opened);
  if (server) await server.close();
});

async function open(user, id) {
  const m = await conns[user].models().open(id);
  opened.push(m);
  return m;
}

/**
 * The owner creates the case's model (with the case's world and user permissions), opens it
 * and edits it once, so that it has a history (versions 1 and 2, `beforeEdit` between them).
 */
async function setUp(c) {
  const id = await conns.owner.models().create(c.create);
  assert.equal(id, c.modelId);
  const model = await open("owner", id);
  assert.deepEqual(rights(model.permissions()), rights(RIGHTS), "the creator holds all four rights");
  const beforeEdit = new Date();
  await h.sleep(5);
  model.root().get("text").insert(5, "!");
  await h.whenCommitted(model);
  return { model, beforeEdit, collaborators: [] };
}

/**
 * The user's resolved rights as the server reports them: its entry in the permission list.
 * (rc.12's `getPermissions()` looks that entry up by its guid as if it were a username and so
 * always returns NONE; see the README's client quirks.)
 */
async function ownRights(pm, username) {
  const entry = (await pm.getAllUserPermissions()).get(username);
  return entry && rights(entry);
}

/** The subject's data and the owner's are the store's. */
async function assertStored(ownerModel, id) {
  assert.deepEqual(await server.dump(id), ownerModel.root().value());
}

const checks = {
  async read(c, { model: ownerModel, beforeEdit }) {
    const id = c.modelId;
    const pm = conns.sub.models().permissions(id);
    const joined = [];
    ownerModel.on("collaborator_opened", (e) => joined.push(e.collaborator.sessionId));
    if (!c.granted) {
      await assertAnswersAsMissing((x) => conns.sub.models().open(x), id, "open");
      await assertAnswersAsMissing((x) => conns.sub.models().history(x), id, "history");
      await assertAnswersAsMissing((x) => conns.sub.models().permissions(x).getPermissions(), id, "get permissions");
      await assertAnswersAsMissing((x) => conns.sub.models().permissions(x).setWorldPermissions(rights(RIGHTS)), id, "set world permissions");
      await assertAnswersAsMissing((x) => conns.sub.models().permissions(x).setUserPermissions("sub", rights(RIGHTS)), id, "grant itself");
      await assertAnswersAsMissing((x) => conns.sub.models().remove(x), id, "delete");
      // Nothing reached the owner, and the model and its permissions are as they were.
      assert.deepEqual(joined, [], "the owner saw the subject open the model");
      assert.equal(ownerModel.isOpen(), true);
      const entries = await ownerModel.permissionsManager().getAllUserPermissions();
      assert.deepEqual(entries.get("sub") && rights(entries.get("sub")), c.level.key === "model-user" ? rights(c.held) : undefined);
      await assertStored(ownerModel, id);
      return;
    }
    const model = await open("sub", id);
    assert.deepEqual(rights(model.permissions()), rights(["read"]));
    assert.deepEqual(model.root().value(), ownerModel.root().value());
    assert.deepEqual(await ownRights(pm, "sub"), rights(["read"]));
    // The owner sees the subject as a collaborator, and the subject the owner.
    await h.waitFor(() => joined.includes(conns.sub.session().sessionId()), { what: "the owner to see the subject open" });
    assert.ok(model.collaborators().some((col) => col.sessionId === conns.owner.session().sessionId()));
    // History: the latest data, the operations back to version 1, the version at a time.
    const hist = await conns.sub.models().history(id);
    assert.equal(hist.version(), 2);
    assert.deepEqual(hist.root().value(), ownerModel.root().value());
    await hist.playTo(1);
    assert.deepEqual(hist.root().value(), INITIAL);
    await hist.playTo(2);
    await hist.playToTime(beforeEdit);
    assert.equal(hist.targetVersion(), 1);
    assert.deepEqual(hist.root().value(), INITIAL);
    // A shared caret reaches the owner; a read-only user cannot edit (the client refuses).
    const caret = model.root().get("text").indexReference("caret");
    caret.set(2);
    caret.share();
    const subSession = conns.sub.session().sessionId();
    await h.waitFor(() => {
      const r = ownerModel.root().get("text").reference(subSession, "caret");
      return r && r.value() === 2;
    }, { what: "the owner to see the subject's caret at 2" });
    assert.throws(() => model.root().get("text").insert(0, "x"), /write permissions/);
    await model.close();
    await assertStored(ownerModel, id);
  },

  async write(c, { model: ownerModel }) {
    const id = c.modelId;
    const model = await open("sub", id);
    assert.deepEqual(rights(model.permissions()), rights(c.held));
    if (c.granted) {
      model.root().get("text").insert(0, "sub:");
      await h.whenCommitted(model);
      await h.waitFor(() => ownerModel.root().get("text").value() === model.root().get("text").value(), {
        what: "the owner to get the subject's edit",
      });
      assert.equal(ownerModel.root().get("text").value(), "sub:hello!");
      await model.close();
      await assertStored(ownerModel, id);
      return;
    }
    // The client itself refuses an edit without write ...
    assert.throws(() => model.root().get("text").insert(0, "x"), /write permissions/);
    await model.close();
    // ... so a client that submits anyway is a raw socket logged in as the same user: the
    // server force-closes its model (reason code 1, unauthorized) and applies nothing.
    const raw = await wire.RawClient.connect(server.url, { password: { username: "sub", password: "sub-pw" } });
    try {
      const reply = await raw.request({ openRealTimeModelRequest: { modelId: { value: id } } });
      const res = reply.openRealTimeModelResponse;
      assert.ok(res, `raw open: ${JSON.stringify(reply)}`);
      raw.send({
        operationSubmission: {
          resourceId: res.resourceId || 0,
          sequenceNumber: 0,
          contextVersion: res.version,
          operation: wire.insertOp(wire.childId(res.data, "text"), 0, "forbidden"),
        },
      });
      const closed = await h.waitFor(() => raw.ofType("forceCloseRealTimeModel")[0], { what: "the force close of the raw submission" });
      assert.equal(closed.reasonCode, 1, `force close ${JSON.stringify(closed)}`);
      assert.equal(raw.ofType("operationAck").length, 0, "the forbidden operation was acknowledged");
    } finally {
      raw.close();
    }
    assert.equal(ownerModel.root().get("text").value(), "hello!");
    await assertStored(ownerModel, id);
  },

  async remove(c, { model: ownerModel }) {
    const id = c.modelId;
    const deleted = new Promise((resolve) => ownerModel.on("deleted", resolve));
    if (c.granted) {
      await conns.sub.models().remove(id);
      await h.withTimeout(deleted, 5000, () => "the owner's model was not closed as deleted");
      assert.equal(ownerModel.isOpen(), false);
      await assertRejectsWith(conns.owner.models().open(id), "model_not_found", "open after delete");
      await assert.rejects(server.dump(id), /not found/);
      return;
    }
    await assertRejectsWith(conns.sub.models().remove(id), "unauthorized", "delete without remove");
    assert.equal(ownerModel.isOpen(), true);
    const model = await open("sub", id);
    assert.deepEqual(model.root().value(), ownerModel.root().value());
    await model.close();
    await assertStored(ownerModel, id);
  },

  async manage(c, { model: ownerModel }) {
    const id = c.modelId;
    const pm = conns.sub.models().permissions(id);
    const ownerPm = ownerModel.permissionsManager();
    const grant = rights(["read", "write"]);
    assert.deepEqual(await ownRights(pm, "sub"), rights(c.held));
    const worldBefore = rights(await ownerPm.getWorldPermissions());
    const overrideBefore = Boolean(await ownerPm.getOverridesCollection());
    if (c.granted) {
      await pm.setUserPermissions("carol", grant);
      const entries = await ownerPm.getAllUserPermissions();
      assert.deepEqual(rights(entries.get("carol")), grant);
      const carolModel = await open("carol", id);
      assert.deepEqual(rights(carolModel.permissions()), grant, "carol holds what the subject granted");
      carolModel.root().get("n").add(1);
      await h.whenCommitted(carolModel);
      await h.waitFor(() => ownerModel.root().get("n").value() === 1, { what: "the owner to get carol's edit" });
      await carolModel.close();
      await assertStored(ownerModel, id);
      return;
    }
    await assertRejectsWith(pm.setUserPermissions("carol", grant), "unauthorized", "grant carol");
    await assertRejectsWith(pm.setUserPermissions("sub", rights(RIGHTS)), "unauthorized", "grant itself manage");
    await assertRejectsWith(pm.setWorldPermissions(rights(RIGHTS)), "unauthorized", "set world permissions");
    await assertRejectsWith(pm.setOverridesCollection(!overrideBefore), "unauthorized", "flip the override");
    await assertRejectsWith(pm.setAllUserPermissions({}), "unauthorized", "replace all user entries");
    await assertRejectsWith(pm.removeUserPermissions("owner"), "unauthorized", "remove the owner's entry");
    const entries = await ownerPm.getAllUserPermissions();
    assert.equal(entries.get("carol"), undefined);
    assert.deepEqual(rights(entries.get("owner")), rights(RIGHTS));
    assert.deepEqual(rights(await ownerPm.getWorldPermissions()), worldBefore);
    assert.equal(Boolean(await ownerPm.getOverridesCollection()), overrideBefore);
    assert.deepEqual(await ownRights(pm, "sub"), rights(c.held), "the subject's own rights are unchanged");
  },
};

for (const c of CASES) {
  test(c.name, async () => {
    const state = await setUp(c);
    await checks[c.right](c, state);
  });
}

test("creation records the world and user permissions it asks for, and the world shown follows the override", async () => {
  // The collection's world is read,write; the model overrides it with read only and names carol.
  const id = await conns.owner.models().create({
    collection: "create-none",
    id: "created-with-perms",
    data: INITIAL,
    overrideCollectionWorldPermissions: true,
    worldPermissions: rights(["read"]),
    userPermissions: { carol: rights(["read", "remove"]) },
  });
  const pm = conns.owner.models().permissions(id);
  assert.equal(await pm.getOverridesCollection(), true);
  assert.deepEqual(rights(await pm.getWorldPermissions()), rights(["read"]));
  const entries = await pm.getAllUserPermissions();
  assert.deepEqual(rights(entries.get("carol")), rights(["read", "remove"]));
  assert.deepEqual(rights(entries.get("owner")), rights(RIGHTS));
  // sub has no entry: the model's world applies to it.
  const subModel = await open("sub", id);
  assert.deepEqual(rights(subModel.permissions()), rights(["read"]));
  await subModel.close();
  // With the override off the collection's world applies again, and is what is shown.
  await pm.setOverridesCollection(false);
  assert.deepEqual(rights(await pm.getWorldPermissions()), rights(["read", "write"]));
  assert.deepEqual(await ownRights(conns.sub.models().permissions(id), "sub"), rights(["read", "write"]));
});

test("create needs create on the collection: refused with unauthorized, granted by the user's entry or the world", async () => {
  await assertRejectsWith(
    conns.sub.models().create({ collection: "create-none", id: "sub-create-none", data: INITIAL }),
    "unauthorized",
    "create without create",
  );
  await assertRejectsWith(conns.owner.models().open("sub-create-none"), "model_not_found", "the refused model exists");
  for (const collection of ["create-by-user", "create-by-world"]) {
    const id = await conns.sub.models().create({ collection, id: `sub-${collection}`, data: INITIAL });
    const m = await open("sub", id);
    assert.deepEqual(rights(m.permissions()), rights(RIGHTS), `the creator in ${collection} holds all four rights`);
    await m.close();
  }
  // Auto-creation in an existing collection is a creation too.
  await assertRejectsWith(
    conns.sub.models().openAutoCreate({ collection: "create-none", id: "sub-auto-none", data: INITIAL }),
    "unauthorized",
    "auto-create without create",
  );
});

test("a collection created on demand gets the domain's default_collection_world", async () => {
  // Creating a model in a missing collection creates it (no create check), with world = read.
  const m = await conns.sub.models().openAutoCreate({ collection: "on-demand", id: "on-demand-1", data: INITIAL });
  opened.push(m);
  assert.deepEqual(rights(m.permissions()), rights(RIGHTS));
  const carolModel = await open("carol", "on-demand-1");
  assert.deepEqual(rights(carolModel.permissions()), rights(["read"]));
  await carolModel.close();
  await assertRejectsWith(
    conns.carol.models().create({ collection: "on-demand", id: "on-demand-2", data: INITIAL }),
    "unauthorized",
    "create in an on-demand collection whose world lacks create",
  );
});
