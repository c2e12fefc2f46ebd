// Chat through the real client: channels and rooms created, joined and left; messages and the
// other events reaching every session of every member without the chat being opened there;
// direct chats got or created by their member set; history filtered and paged; name, topic and
// marking seen; member changes and their errors; every permission denial and its grant;
// persistence across a restart.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const { proxyFor } = require("./lib/proxy");

const USERS = [
  { username: "alice", password: "pw-a", displayName: "Alice Liddell" },
  { username: "bob", password: "pw-b", displayName: "Bob Builder" },
  { username: "carol", password: "pw-c", displayName: "Carol Danvers" },
];

let server;
const domains = [];

before(async () => {
  server = new h.TandemServer({ users: USERS });
  await server.prepare();
  // alice and bob may create chats; carol may not.
  await server.cli("permissions", "add", ...server.domainArgs(), "global", "--user", "alice=create_chat", "--user", "bob=create_chat");
  await server.spawn();
});

after(async () => {
  await h.disposeAll(domains);
  if (server) await server.close();
});

async function connect(user, url = server.url) {
  const d = await h.connectPassword(url, user, `pw-${user[0]}`, { reconnect: { autoReconnect: false } });
  domains.push(d);
  return d;
}

async function rejects(promise, code, what) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return true;
  });
}

/** Every chat event a session's chat service emits, as [name, chatId, username, detail]. */
function record(domain) {
  const seen = [];
  for (const name of ["message", "user_joined", "user_left", "user_added", "user_removed", "name_changed", "topic_changed", "events_seen", "removed"]) {
    domain.chat().on(name, (e) => {
      const detail = {
        message: e.message,
        user_added: e.addedUser?.username,
        user_removed: e.removedUser?.username,
        name_changed: e.chatName,
        topic_changed: e.topic,
        events_seen: e.maxSeenEventNumber,
      }[name];
      seen.push([name, e.chatId, e.user?.username, detail]);
    });
  }
  return seen;
}

function names(info) {
  return info.members.map((m) => m.user.username).sort();
}

test("a channel's messages reach every session of every member, the chat never opened there", async () => {
  const alice = await connect("alice");
  const bob = await connect("bob");
  const bobPhone = await connect("bob");
  const carol = await connect("carol");
  const seenByPhone = record(bobPhone);
  const seenByCarol = record(carol);
  const id = await alice.chat().create({ id: "general", type: "channel", membership: "public", name: "General", topic: "anything" });
  assert.equal(id, "general");
  const chat = await bob.chat().join("general");
  assert.deepEqual(names(chat.info()), ["alice", "bob"]);
  assert.equal(chat.info().joined, true);
  assert.equal(chat.info().name, "General");
  const sent = await chat.send("hello from bob");
  assert.equal(sent.eventNumber, 2);
  const aliceChat = await alice.chat().get("general");
  const reply = await aliceChat.send("hi bob");
  assert.equal(reply.eventNumber, 3);
  await h.waitFor(() => seenByPhone.length >= 3, { what: "bob's other session hears the channel" });
  assert.deepEqual(seenByPhone, [
    ["user_joined", "general", "bob", undefined],
    ["message", "general", "bob", "hello from bob"],
    ["message", "general", "alice", "hi bob"],
  ]);
  await h.sleep(200);
  assert.deepEqual(seenByCarol, [], "a non-member hears nothing");
  await rejects(carol.chat().create({ id: "mine", type: "channel", membership: "public" }), "unauthorized", "carol may not create");
});

test("a room's members are its joined sessions: the last one leaving takes the user out", async () => {
  const alice = await connect("alice");
  const seen = record(alice);
  await alice.chat().create({ id: "lobby", type: "room", membership: "public", name: "Lobby" });
  const room = await alice.chat().join("lobby");
  assert.deepEqual(names(room.info()), ["alice"]);
  const bob = await connect("bob");
  const bobRoom = await bob.chat().join("lobby");
  assert.deepEqual(names(bobRoom.info()), ["alice", "bob"]);
  await bobRoom.send("in the lobby");
  await h.waitFor(() => seen.some((e) => e[0] === "message"), { what: "alice hears bob" });
  await bob.dispose();
  await h.waitFor(() => seen.some((e) => e[0] === "user_left"), { what: "alice sees bob leave when his session ends" });
  assert.deepEqual(seen.map((e) => e.slice(0, 3)), [
    ["user_joined", "lobby", "alice"],
    ["user_joined", "lobby", "bob"],
    ["message", "lobby", "bob"],
    ["user_left", "lobby", "bob"],
  ]);
  const info = (await alice.chat().get("lobby")).info();
  assert.deepEqual(names(info), ["alice"]);
});

test("a direct chat is got or created by its member set, and its messages reach the other member", async () => {
  const alice = await connect("alice");
  const bob = await connect("bob");
  const seenByBob = record(bob);
  const direct = await alice.chat().direct("bob");
  assert.equal(direct.info().chatType, "direct");
  assert.match(direct.info().chatId, /^direct:\d+$/);
  assert.deepEqual(names(direct.info()), ["alice", "bob"]);
  const same = await bob.chat().direct("alice");
  assert.equal(same.info().chatId, direct.info().chatId, "the same member set gets the same chat");
  const other = await alice.chat().direct(["bob", "carol"]);
  assert.notEqual(other.info().chatId, direct.info().chatId);
  await direct.send("psst");
  await h.waitFor(() => seenByBob.length >= 1, { what: "bob hears the direct message" });
  assert.deepEqual(seenByBob, [["message", direct.info().chatId, "alice", "psst"]]);
  const joined = (await bob.chat().joined()).map((i) => i.chatId);
  assert.ok(joined.includes(direct.info().chatId), `joined chats: ${joined}`);
});

test("history is filtered by event type and paged in both directions", async () => {
  const alice = await connect("alice");
  await alice.chat().create({ id: "hist", type: "channel", membership: "public", name: "History" });
  const chat = await alice.chat().join("hist").catch(() => alice.chat().get("hist"));
  for (let i = 1; i <= 5; i++) await chat.send(`message ${i}`);
  await chat.setTopic("history topic");
  const newest = await chat.getHistory({ limit: 2, eventFilter: ["message"] });
  assert.equal(newest.totalResults, 5);
  assert.deepEqual(newest.data.map((e) => [e.type, e.eventNumber, e.message]), [["message", 5, "message 5"], ["message", 4, "message 4"]]);
  const forward = await chat.getHistory({ startEvent: 2, limit: 3, forward: true });
  assert.deepEqual(forward.data.map((e) => e.eventNumber), [2, 3, 4]);
  assert.equal(forward.totalResults, 5, "events 2..6 from the start event on");
  const all = await chat.getHistory({ forward: true });
  assert.deepEqual(all.data.map((e) => e.type), ["created", "message", "message", "message", "message", "message", "topic_changed"]);
  assert.equal(all.data[0].user.username, "alice");
});

test("name, topic and marking seen reach the other members", async () => {
  const alice = await connect("alice");
  const bob = await connect("bob");
  await alice.chat().create({ id: "named", type: "channel", membership: "public", name: "Old" });
  const bobChat = await bob.chat().join("named");
  const seenByAlice = record(alice);
  const seenByBob = record(bob);
  const aliceChat = await alice.chat().get("named");
  await aliceChat.setName("New name");
  await aliceChat.setTopic("New topic");
  await h.waitFor(() => seenByBob.length >= 2, { what: "bob hears the renames" });
  assert.deepEqual(seenByBob.map((e) => [e[0], e[2], e[3]]), [["name_changed", "alice", "New name"], ["topic_changed", "alice", "New topic"]]);
  await bobChat.markSeen(3);
  await h.waitFor(() => seenByAlice.some((e) => e[0] === "events_seen"), { what: "alice sees bob's mark" });
  assert.deepEqual(seenByAlice.find((e) => e[0] === "events_seen"), ["events_seen", "named", "bob", 3]);
  const info = (await bob.chat().get("named")).info();
  assert.equal(info.name, "New name");
  assert.equal(info.topic, "New topic");
  assert.equal(info.maxSeenEventNumber, 3);
  await rejects(bobChat.setName("bob's"), "unauthorized", "a plain member may not rename");
});

test("members are added and removed with the protocol's errors, and a private channel stays hidden", async () => {
  const alice = await connect("alice");
  const bob = await connect("bob");
  const carol = await connect("carol");
  await alice.chat().create({ id: "team", type: "channel", membership: "private", name: "Team" });
  await rejects(carol.chat().join("team"), "chat_not_found", "an outsider cannot tell a private channel exists");
  assert.equal(await carol.chat().exists("team"), false);
  const team = await alice.chat().get("team");
  await team.add("bob");
  await rejects(team.add("bob"), "chat_already_a_member", "adding a member twice");
  await rejects(team.remove("carol"), "not_a_member", "removing a non-member");
  await rejects(team.remove("alice"), "cant_remove_self", "removing oneself");
  const bobTeam = await bob.chat().get("team");
  assert.equal(bobTeam.info().joined, true, "an added user is a member");
  await rejects(bobTeam.add("carol"), "unauthorized", "a plain member may not add");
  await rejects(bob.chat().remove("team"), "unauthorized", "a plain member may not remove the chat");
  await rejects(bob.chat().join("team"), "chat_already_joined", "joining as a member");
  const seenByBob = record(bob);
  await team.remove("bob");
  await h.waitFor(() => seenByBob.length >= 1, { what: "bob hears he was removed" });
  assert.deepEqual(seenByBob[0], ["user_removed", "team", "alice", "bob"]);
  const mine = [...(await team.permissions().resolveSessionPermissions())];
  for (const p of ["add_chat_user", "remove_chat_user", "set_chat_name", "manage_chat_permissions"]) {
    assert.ok(mine.includes(p), `the creator holds ${p}: ${mine}`);
  }
});

test("each chat right a plain member lacks is refused, and granting it makes the request work", async () => {
  const alice = await connect("alice");
  const bob = await connect("bob");
  const carol = await connect("carol");
  await alice.chat().create({ id: "rules", type: "channel", membership: "private", name: "Rules" });
  const rules = await alice.chat().get("rules");
  await rules.add("bob");
  const bobRules = await bob.chat().get("rules");
  const held = [...(await bobRules.permissions().resolveSessionPermissions())].sort();
  assert.deepEqual(held, ["create_chat", "leave_chat"], "an added member (create_chat is bob's global row)");
  await rejects(bobRules.setTopic("bob's"), "unauthorized", "set_topic");
  await rejects(bobRules.setName("bob's"), "unauthorized", "set_chat_name");
  await rejects(bobRules.add("carol"), "unauthorized", "add_chat_user");
  await rejects(bobRules.remove("alice"), "unauthorized", "remove_chat_user");
  await rejects(bobRules.permissions().getWorldPermissions(), "unauthorized", "read rows without manage_chat_permissions");
  await rejects(bobRules.permissions().addWorldPermissions(["join_chat"]), "unauthorized", "grant without manage_chat_permissions");
  await rejects(bob.chat().remove("rules"), "unauthorized", "remove_chat");
  await bobRules.markSeen(1); // membership is enough (the original also asked set_topic)
  await rejects(carol.chat().join("rules"), "chat_not_found", "a private channel without join_chat");
  await rules.permissions().removeUserPermissions({ bob: ["leave_chat"] });
  await rejects(bobRules.leave(), "unauthorized", "leave_chat");
  const info = (await alice.chat().get("rules")).info();
  assert.deepEqual([info.name, info.topic, names(info)], ["Rules", "", ["alice", "bob"]], "no refusal changed anything");

  await rules.permissions().addUserPermissions({ bob: ["set_topic", "leave_chat"] });
  await bobRules.setTopic("granted");
  assert.equal((await alice.chat().get("rules")).info().topic, "granted");
  await rules.permissions().addWorldPermissions(["join_chat"]);
  const carolRules = await carol.chat().join("rules");
  assert.deepEqual(names(carolRules.info()), ["alice", "bob", "carol"], "join_chat opens the private channel");
  await bobRules.leave();
  assert.deepEqual(names((await alice.chat().get("rules")).info()), ["alice", "carol"]);
});

test("chats, members and history survive a restart", async () => {
  const alice = await connect("alice");
  await alice.chat().create({ id: "kept", type: "channel", membership: "public", name: "Kept" });
  const chat = await alice.chat().get("kept");
  await chat.send("before the restart");
  const bob = await connect("bob");
  await bob.chat().join("kept");
  await server.restart();
  const alice2 = await connect("alice");
  const again = await alice2.chat().get("kept");
  assert.equal(again.info().name, "Kept");
  assert.deepEqual(names(again.info()), ["alice", "bob"]);
  assert.equal(again.info().lastEventNumber, 2);
  const sent = await again.send("after the restart");
  assert.equal(sent.eventNumber, 3, "numbering goes on");
  const history = await again.getHistory({ eventFilter: ["message"], forward: true });
  assert.deepEqual(history.data.map((e) => e.message), ["before the restart", "after the restart"]);
});

test("bad input gets the protocol's error and changes nothing", async () => {
  const alice = await connect("alice");
  const bob = await connect("bob");
  await alice.chat().create({ id: "strict", type: "channel", membership: "public", name: "Strict" });
  const chat = await alice.chat().get("strict"); // the creator is a member already
  await chat.send("fits");
  await rejects(chat.send("x".repeat(64 * 1024 + 1)), "message_too_large", "a message over 64 KiB");
  await rejects(bob.chat().join("no-such-chat"), "chat_not_found", "joining an unknown chat");
  await rejects(bob.chat().remove("strict"), "unauthorized", "removing a chat without remove_chat");
  assert.deepEqual(await bob.chat().exists("no-such-chat"), false);
  const history = await chat.getHistory({ eventFilter: ["message"] });
  assert.deepEqual(history.data.map((e) => e.message), ["fits"], "the refused message was not stored");
  assert.equal(history.totalResults, 1);
});

test("a room member whose connection drops leaves the room for the others", async () => {
  const alice = await connect("alice");
  const seen = record(alice);
  await alice.chat().create({ id: "drop-room", type: "room", membership: "public", name: "Drop" });
  await alice.chat().join("drop-room");
  const proxy = await proxyFor(server);
  try {
    const carol = await connect("carol", proxy.url(server.url));
    await carol.chat().join("drop-room");
    await h.waitFor(() => seen.some((e) => e[0] === "user_joined" && e[2] === "carol"), { what: "carol's join" });
    proxy.dropAll();
    await h.waitFor(() => seen.some((e) => e[0] === "user_left" && e[2] === "carol"), { what: "carol's leave after the drop" });
  } finally {
    proxy.close();
  }
  const info = (await alice.chat().get("drop-room")).info();
  assert.deepEqual(names(info), ["alice"]);
});
