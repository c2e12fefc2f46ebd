// Chats through the Node handles: a channel with a member, posts as the member and as the
// host, a stranger refused, history with filters, every stored event on the domain's events,
// and removal; a direct chat a host made, found and heard by the real Convergence client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Engine, NotFoundError, InvalidArgumentError, AlreadyExistsError } = require("../tandem.js");
const Convergence = require("@convergence/convergence");
const WebSocket = require("ws");

const ann = { kind: "normal", name: "ann" };

test("a host runs a channel: members, posts, history and chat_changed events", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("acme", "chat");
  await d.createUser({ username: "ann" });
  const events = d.events();
  const seen = [];
  const collected = (async () => {
    for await (const ev of events) {
      if (ev.type !== "chat_changed") continue;
      seen.push(ev);
      if (ev.change === "removed") break;
    }
  })();

  assert.equal(await d.createChat({ id: "lobby", kind: "channel", name: "Lobby" }), "lobby");
  await assert.rejects(d.createChat({ id: "lobby", kind: "channel" }), AlreadyExistsError);
  await assert.rejects(d.createChat({ kind: "room", private: true }), InvalidArgumentError);
  await assert.rejects(d.createChat({ kind: "channel", nmae: "typo" }), InvalidArgumentError);
  await assert.rejects(d.postChatMessage("lobby", "too early", { user: ann }), NotFoundError);
  await d.addChatMember("lobby", ann);
  await assert.rejects(d.addChatMember("lobby", ann), AlreadyExistsError);
  const first = await d.postChatMessage("lobby", "hi from ann", { user: ann });
  const second = await d.postChatMessage("lobby", "hi from the host");
  assert.equal(second.number, first.number + 1);
  await d.setChatTopic("lobby", "Daily news");
  await d.setChatName("lobby", "Hall");

  const info = await d.chat("lobby");
  assert.equal(info.kind, "channel");
  assert.equal(info.name, "Hall");
  assert.equal(info.topic, "Daily news");
  assert.ok(info.members.some((m) => m.user.name === "ann"));
  assert.equal(await d.chat("nope"), null);
  assert.deepEqual((await d.chats()).map((c) => c.id), ["lobby"]);

  const page = await d.chatHistory("lobby", { kinds: ["message"], forward: true });
  assert.equal(page.total, 2);
  assert.deepEqual(page.events.map((ev) => ev.text), ["hi from ann", "hi from the host"]);
  assert.equal(page.events[0].user.name, "ann");
  assert.equal(page.events[1].user.kind, "convergence", "the host posts as the host user");
  const newest = await d.chatHistory("lobby", { limit: 1 });
  assert.equal(newest.events[0].number, info.last_event_number, "newest first by default");
  await assert.rejects(d.chatHistory("lobby", { kinds: ["gossip"] }), InvalidArgumentError);

  await d.removeChatMember("lobby", ann);
  await d.removeChat("lobby");
  await collected;
  const texts = seen.filter((ev) => ev.change === "event" && ev.event.kind === "message").map((ev) => ev.event.text);
  assert.deepEqual(texts, ["hi from ann", "hi from the host"]);
  const kinds = seen.filter((ev) => ev.change === "event").map((ev) => ev.event.kind);
  for (const k of ["user_added", "topic_changed", "name_changed", "user_removed"]) {
    assert.ok(kinds.includes(k), `saw ${k}`);
  }
  assert.ok(seen.every((ev) => ev.chat_id === "lobby"));
  assert.equal(await d.chat("lobby"), null);
  await e.shutdown();
});

test("a host makes a direct chat; the real client's direct() finds it and hears the host", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("demo", "default");
  await d.createUser({ username: "alice", password: "pw" });
  await d.createUser({ username: "bob", password: "pw" });
  const [alice, bob] = [{ kind: "normal", name: "alice" }, { kind: "normal", name: "bob" }];
  const made = await d.directChat([alice, bob]);
  assert.deepEqual([made.kind, made.private, made.members.map((m) => m.user.name)], ["direct", true, ["alice", "bob"]]);
  assert.equal((await d.directChat([bob, alice])).id, made.id, "the same set answers the same chat");
  await assert.rejects(d.directChat([]), InvalidArgumentError);
  await assert.rejects(d.directChat([alice, { kind: "normal", name: "ghost" }]), NotFoundError);
  await assert.rejects(d.directChat("alice"), InvalidArgumentError);

  const addr = await e.listen("127.0.0.1:0");
  const opts = { webSocket: { factory: (u) => new WebSocket(u), class: WebSocket }, reconnect: { autoReconnect: false } };
  const client = await Convergence.connect(`ws://${addr}/realtime/demo/default`, "alice", "pw", opts);
  const chat = await client.chat().direct("bob");
  assert.equal(chat.info().chatId, made.id, "the client's direct chat with bob is the host's");
  const heard = new Promise((resolve) => client.chat().on("message", resolve));
  await d.postChatMessage(made.id, "from the host");
  const message = await heard;
  assert.deepEqual([message.chatId, message.message], [made.id, "from the host"]);
  await client.dispose();
  assert.equal(await e.stopListening(), true);
  await e.shutdown();
});
