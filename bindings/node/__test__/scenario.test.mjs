// The shared facade scenario (tests/conformance/scenario.json) through the Node handles:
// engine.domain(..).model(..)...
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";

const require = createRequire(import.meta.url);
const { Engine, TandemError } = require("../tandem.js");
const scenario = JSON.parse(fs.readFileSync(new URL("../../../tests/conformance/scenario.json", import.meta.url)));

async function call(e, name, a) {
  const domain = () => e.domain(a.namespace, a.domain);
  const model = async () => (await domain()).model(a.model_id);
  switch (name) {
    case "create_domain": return e.createDomain(a.namespace, a.domain).then(() => undefined);
    case "domains": return e.domains();
    case "create_collection": return (await domain()).createCollection(a.collection);
    case "collections": return (await domain()).collections();
    case "create_user": return (await domain()).createUser({ username: a.username, password: a.password });
    case "users": return (await (await domain()).users()).map((u) => u.username);
    case "set_password": return (await domain()).setPassword(a.username, a.password);
    case "create_model": return (await (await domain()).createModel(a.collection, a.data, a.model_id)).id;
    case "apply": return (await model()).apply(a.changes);
    case "model_json": return a.version === undefined ? (await model()).json() : (await model()).jsonAt(a.version);
    case "delete_model": return (await model()).delete();
    case "undo": return a.redo ? (await model()).redo(a.scope) : (await model()).undo(a.scope);
    case "user": return (await domain()).user(a.username);
    case "update_user": return (await domain()).updateUser(a.username, a.profile);
    case "set_user_disabled": return (await domain()).setUserDisabled(a.username, a.disabled);
    case "create_group": return (await domain()).createGroup(a.group, a.description);
    case "set_group_description": return (await domain()).setGroupDescription(a.group, a.description);
    case "delete_group": return (await domain()).deleteGroup(a.group);
    case "group": return (await domain()).group(a.group);
    case "groups": return (await domain()).groups();
    case "add_group_member": return (await domain()).addGroupMember(a.group, a.user);
    case "remove_group_member": return (await domain()).removeGroupMember(a.group, a.user);
    case "user_groups": return (await domain()).userGroups(a.user);
    case "presence": return (await domain()).presence(a.users);
    case "collection_permissions": return (await domain()).collectionPermissions(a.collection);
    case "set_collection_world": return (await domain()).setCollectionWorld(a.collection, a.world);
    case "set_collection_user": return (await domain()).setCollectionUser(a.collection, a.user, a.rights);
    case "permissions": return (await domain()).permissions(a.target);
    case "change_permissions": return (await domain()).changePermissions(a.target, a.change);
    case "resolve_permissions": return (await domain()).resolvePermissions(a.target, a.user);
    case "model_permissions": return (await model()).permissions();
    case "set_model_permissions": return (await model()).setPermissions(a.change);
    case "rights_of": return (await model()).rightsOf(a.user);
    case "settings": return (await domain()).settings();
    case "set_settings": return (await domain()).setSettings(a.settings);
    case "set_state": return (await domain()).setState(a.state);
    case "admin_token": return (await domain()).adminToken(a.username, a.ttl_secs);
    case "create_activity": return (await domain()).createActivity(a.type, a.id, a.permissions);
    case "delete_activity": return (await domain()).deleteActivity(a.type, a.id);
    case "activity_exists": return (await domain()).activityExists(a.type, a.id);
    case "activity_participants": return (await domain()).activityParticipants(a.type, a.id);
    case "create_chat": return (await domain()).createChat(a.chat);
    case "direct_chat": return (await domain()).directChat(a.users);
    case "remove_chat": return (await domain()).removeChat(a.id);
    case "chat": return (await domain()).chat(a.id);
    case "chats": return (await domain()).chats();
    case "add_chat_member": return (await domain()).addChatMember(a.id, a.user);
    case "remove_chat_member": return (await domain()).removeChatMember(a.id, a.user);
    case "set_chat_name": return (await domain()).setChatName(a.id, a.name);
    case "set_chat_topic": return (await domain()).setChatTopic(a.id, a.topic);
    case "post_chat_message": return (await domain()).postChatMessage(a.id, a.text, a.user ? { user: a.user } : {});
    case "chat_history": return (await domain()).chatHistory(a.id, a.query);
    case "query": return (await domain()).query(a.query, a.user ? { user: a.user } : {});
    case "shutdown": return e.shutdown();
    default: throw new Error(`unknown call ${name}`);
  }
}

// Whether `got` matches `want` as the scenario's `like` says: an object names some of the
// result's fields, an array has its length and matching elements, anything else is equal.
function like(got, want) {
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => like(got[i], w));
  if (want !== null && typeof want === "object") {
    return got !== null && typeof got === "object" && Object.entries(want).every(([k, w]) => like(got[k], w));
  }
  return got === want;
}

test("the shared scenario passes through the Node handles", async () => {
  const e = await Engine.open();
  for (const [i, step] of scenario.steps.entries()) {
    let got, err;
    try {
      got = await call(e, step.call, step.args);
    } catch (x) {
      err = x;
    }
    const expect = step.expect;
    const what = `step ${i} ${step.call}`;
    if (expect.error) {
      assert.ok(err, `${what}: expected ${expect.error}, got ${JSON.stringify(got)}`);
      assert.ok(err instanceof TandemError, `${what}: ${err}`);
      assert.equal(err.code, expect.error, `${what}: ${err.message}`);
    } else {
      assert.ifError(err);
      if (typeof expect !== "object") continue;
      if ("result" in expect) assert.deepEqual(got, expect.result, what);
      if ("like" in expect) assert.ok(like(got, expect.like), `${what}: ${JSON.stringify(got)} is not like ${JSON.stringify(expect.like)}`);
      if (expect.shape === "jwt") assert.match(got, /^[\w-]+\.[\w-]+\.[\w-]+$/, what);
      else if ("shape" in expect) assert.fail(`${what}: unknown shape ${expect.shape}`);
    }
  }
});
