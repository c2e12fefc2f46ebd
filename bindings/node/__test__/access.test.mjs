// Identity and permissions through the Node handles: plain objects in the engine's shapes in
// and out, and each failure as its Error subclass.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Engine, NotFoundError, InvalidArgumentError, AlreadyExistsError } = require("../tandem.js");

const bob = { kind: "normal", name: "bob" };
const ghost = { kind: "normal", name: "ghost" };

test("users, groups, collection and model rights, generic rows, state and admin tokens", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("acme", "docs");
  await d.createUser({ username: "bob" });
  const m = await d.createModel("notes", { t: "x" }, "n1");

  assert.equal((await d.updateUser("bob", { display_name: "Bob" })).display_name, "Bob");
  await d.setUserDisabled("bob", true);
  assert.equal((await d.user("bob")).disabled, true);
  await d.setUserDisabled("bob", false);
  await assert.rejects(d.user("ghost"), NotFoundError);
  await assert.rejects(d.updateUser("bob", { nickname: "b" }), InvalidArgumentError);

  assert.deepEqual(await d.createGroup("staff"), { id: "staff", description: "", members: [] });
  await assert.rejects(d.createGroup("staff", "again"), AlreadyExistsError);
  await d.addGroupMember("staff", bob);
  await assert.rejects(d.addGroupMember("staff", ghost), NotFoundError);
  await assert.rejects(d.addGroupMember("staff", { name: "bob" }), InvalidArgumentError);
  await d.setGroupDescription("staff", "Staff");
  assert.deepEqual(await d.groups(), [{ id: "staff", description: "Staff", members: [bob] }]);
  assert.deepEqual(await d.userGroups(bob), ["staff"]);

  await d.setCollectionWorld("notes", { read: true });
  await d.setCollectionUser("notes", bob, { read: true, write: true });
  await assert.rejects(d.setCollectionWorld("notes", { read: true, fly: true }), InvalidArgumentError);
  await assert.rejects(d.setCollectionWorld("none", {}), NotFoundError);
  const none = { read: false, write: false, remove: false, manage: false };
  assert.deepEqual(await d.collectionPermissions("notes"), {
    world: { create: false, ...none, read: true },
    users: [[bob, { create: false, ...none, read: true, write: true }]],
  });
  assert.deepEqual(await m.rightsOf(bob), { ...none, read: true, write: true });
  await m.setPermissions({ override_world: true, world: {}, set_users: [[bob, { read: true }]] });
  assert.deepEqual(await m.permissions(), { override_world: true, world: none, users: [[bob, { ...none, read: true }]] });
  assert.deepEqual(await m.rightsOf(bob), { ...none, read: true });
  await d.setCollectionUser("notes", bob, null);
  assert.deepEqual((await d.collectionPermissions("notes")).users, []);

  const lobby = { kind: "chat", id: "lobby" };
  await assert.rejects(d.permissions(lobby), NotFoundError);
  await d.createChat({ id: "lobby", kind: "channel" });
  await d.changePermissions(lobby, { add: { groups: [["staff", ["join_chat"]]] } });
  assert.deepEqual(await d.permissions(lobby), { world: [], users: [], groups: [["staff", ["join_chat"]]] });
  assert.deepEqual(await d.resolvePermissions(lobby, bob), ["join_chat"]);
  await assert.rejects(d.changePermissions(lobby, { add: { world: ["fly"] } }), InvalidArgumentError);
  await assert.rejects(d.permissions({ kind: "room" }), InvalidArgumentError);
  await d.deleteGroup("staff");
  await assert.rejects(d.group("staff"), NotFoundError);

  await d.setState("maintenance");
  assert.equal((await d.settings()).state, "maintenance");
  await assert.rejects(d.setState("asleep"), InvalidArgumentError);
  await assert.rejects(d.setSettings({ default_collection_world: ["read", "fly"] }), InvalidArgumentError);
  assert.match(await d.adminToken("ops", 60), /^[\w-]+\.[\w-]+\.[\w-]+$/);
  await assert.rejects(d.adminToken("ops", -1), InvalidArgumentError);
  await e.shutdown();
});
