// Activities from the host: create, exists, participants, rows on an activity, delete, typed
// errors; and the real Convergence client in this process joining a host-created activity,
// the host seeing it as `activity_changed` events and in its participants.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Engine, NotFoundError, AlreadyExistsError, InvalidArgumentError } = require("../tandem.js");
const Convergence = require("@convergence/convergence");
const WebSocket = require("ws");

test("a host creates, reads and deletes activities; missing ones are NotFound", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("acme", "docs");
  assert.equal(await d.activityExists("doc", "a1"), false);
  await d.createActivity("doc", "a1", { world: ["join", "view_state"] });
  await assert.rejects(d.createActivity("doc", "a1"), AlreadyExistsError);
  await assert.rejects(d.createActivity("doc", "a2", { world: ["fly"] }), InvalidArgumentError);
  await assert.rejects(d.createActivity("doc", "a2", { world: "join" }), InvalidArgumentError);
  assert.equal(await d.activityExists("doc", "a1"), true);
  assert.deepEqual(await d.activityParticipants("doc", "a1"), []);
  const a1 = { kind: "activity", type: "doc", id: "a1" };
  assert.deepEqual(await d.permissions(a1), { world: ["join", "view_state"], users: [], groups: [] });
  await d.changePermissions(a1, { remove: { world: ["view_state"] } });
  assert.deepEqual((await d.permissions(a1)).world, ["join"]);
  const a2 = { kind: "activity", type: "doc", id: "a2" };
  await assert.rejects(d.permissions(a2), NotFoundError);
  await assert.rejects(d.changePermissions(a2, { add: { world: ["join"] } }), NotFoundError);
  await d.deleteActivity("doc", "a1");
  assert.equal(await d.activityExists("doc", "a1"), false);
  await assert.rejects(d.deleteActivity("doc", "a1"), NotFoundError);
  await assert.rejects(d.activityParticipants("doc", "a1"), (err) => err.code === "not_found");
  await e.shutdown();
});

test("the real Convergence client joins a host-created activity and the host sees activity_changed", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("demo", "default");
  await d.createUser({ username: "bob", password: "pw" });
  await d.createActivity("board", "b1", { world: ["join", "view_state", "set_state"] });
  const addr = await e.listen("127.0.0.1:0");
  const url = `ws://${addr}/realtime/demo/default`;
  const opts = { webSocket: { factory: (u) => new WebSocket(u), class: WebSocket }, reconnect: { autoReconnect: false } };
  const events = d.events();
  const client = await Convergence.connect(url, "bob", "pw", opts);
  const activity = await client.activities().join("board", "b1", { state: { color: "red" } });
  // `next()` rather than `for await`: leaving a `for await` loop would close the subscription.
  const next = async (kind) => {
    for (let ev = await events.next(); ev; ev = await events.next()) {
      if (ev.type === "activity_changed" && ev.kind === kind) return ev;
    }
    throw new Error(`no ${kind} event`);
  };
  const joined = await next("joined");
  assert.deepEqual(
    [joined.namespace, joined.domain, joined.activity_type, joined.activity_id, joined.user, joined.state],
    ["demo", "default", "board", "b1", { kind: "normal", name: "bob" }, { color: "red" }],
  );
  assert.equal(typeof joined.session, "string");
  const participants = await d.activityParticipants("board", "b1");
  assert.deepEqual(participants, [{ session: joined.session, user: { kind: "normal", name: "bob" }, state: { color: "red" } }]);

  activity.setState("color", "blue");
  const changed = await next("state_changed");
  assert.deepEqual([changed.session, changed.state], [joined.session, { color: "blue" }]);
  await activity.leave();
  const left = await next("left");
  assert.equal(left.session, joined.session);
  assert.deepEqual(await d.activityParticipants("board", "b1"), []);

  const again = await client.activities().join("board", "b1");
  await next("joined");
  const forced = new Promise((resolve) => {
    again.on("deleted", resolve);
    again.on("force_leave", resolve);
  });
  await d.deleteActivity("board", "b1");
  const deleted = await next("deleted");
  assert.deepEqual([deleted.activity_id, deleted.session, deleted.user], ["b1", null, null]);
  await forced;
  assert.equal(await d.activityExists("board", "b1"), false);
  events.close();
  await client.dispose();
  assert.equal(await e.stopListening(), true);
  await e.shutdown();
});
