// Presence through the real client: availability per user across its sessions, a user-level
// state map shared by them, subscriptions that push changes (with the user's display name
// known), and a user whose last session goes away — closed, dropped, or silent until the
// heartbeat gives up — becoming unavailable with its state discarded.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const { proxyFor } = require("./lib/proxy");

const USERS = [
  { username: "alice", password: "pw-a", displayName: "Alice Liddell" },
  { username: "bob", password: "pw-b", displayName: "Bob Builder" },
  { username: "carol", password: "pw-c", displayName: "Carol Danvers" },
  { username: "dave", password: "pw-d", displayName: "Dave Bowman" },
  { username: "erin", password: "pw-e", displayName: "Erin Brockovich" },
];

let server;
const domains = [];

before(async () => {
  server = await h.TandemServer.start({ users: USERS });
});

after(async () => {
  await h.disposeAll(domains);
  if (server) await server.close();
});

async function connect(user, url = server.url, extra) {
  const d = await h.connectPassword(url, user, `pw-${user[0]}`, { reconnect: { autoReconnect: false }, ...extra });
  domains.push(d);
  return d;
}

/** The events of a presence subscription, as [name, detail] pairs (a set: the state after it). */
function record(sub) {
  const seen = [];
  sub.on("state_set", (e) => seen.push(["set", Object.fromEntries(e.state)]));
  sub.on("state_removed", (e) => seen.push(["removed", e.keys]));
  sub.on("state_cleared", () => seen.push(["cleared"]));
  sub.on("availability_changed", (e) => seen.push(["available", e.available]));
  return seen;
}

const stateOf = (x) => Object.fromEntries(x.state instanceof Map ? x.state : x.state());

test("a subscriber sees a user's availability and state changes, in order, with the user's name", async () => {
  const bob = await connect("bob");
  const absent = await bob.presence().presence("alice");
  assert.equal(absent.available, false);
  const sub = await bob.presence().subscribe("alice");
  assert.equal(sub.available, false);
  assert.equal(sub.user.displayName, "Alice Liddell", "the subscriber knows who alice is");
  const seen = record(sub);

  const alice = await connect("alice");
  await h.waitFor(() => sub.available, { what: "alice to become available" });
  alice.presence().setState({ status: "busy", where: { room: 4 } });
  alice.presence().setState("status", "away");
  alice.presence().removeState("where");
  alice.presence().clearState();
  alice.presence().setState("status", "back");
  await h.waitFor(() => seen.length === 6, { what: "six presence events at bob" });
  assert.deepEqual(seen, [
    ["available", true],
    ["set", { status: "busy", where: { room: 4 } }],
    ["set", { status: "away", where: { room: 4 } }],
    ["removed", ["where"]],
    ["cleared"],
    ["set", { status: "back" }],
  ]);
  assert.deepEqual(stateOf(sub), { status: "back" });
  const now = await bob.presence().presence(["alice", "carol"]);
  assert.deepEqual(now.map((p) => [p.user.username, p.available, stateOf(p)]), [
    ["alice", true, { status: "back" }],
    ["carol", false, {}],
  ]);
  assert.equal(now[0].user.displayName, "Alice Liddell");

  // Leaving: the state is discarded and alice is unavailable.
  await alice.dispose();
  await h.waitFor(() => !sub.available, { what: "alice to become unavailable" });
  assert.deepEqual(seen.slice(6), [["cleared"], ["available", false]]);
  const gone = await bob.presence().presence("alice");
  assert.equal(gone.available, false);
  assert.deepEqual(stateOf(gone), {});
  sub.unsubscribe();
});

test("a user's sessions share one state: a new session starts with it and hears the others' changes", async () => {
  const carol1 = await connect("carol");
  carol1.presence().setState({ status: "writing" });
  const bob = await connect("bob");
  const sub = await bob.presence().subscribe("carol");
  await h.waitFor(() => stateOf(sub).status === "writing", { what: "bob to see carol writing" });
  const seen = record(sub);

  const carol2 = await connect("carol");
  assert.deepEqual(stateOf(carol2.presence()), { status: "writing" }, "the connect reply carries the user's state");
  carol2.presence().setState("mood", "happy");
  await h.waitFor(() => stateOf(carol1.presence()).mood === "happy", { what: "carol's first session to hear the second" });
  await h.waitFor(() => seen.length === 1, { what: "bob to hear carol's mood" });
  assert.deepEqual(seen, [["set", { status: "writing", mood: "happy" }]], "no availability change for a second session");

  // The first session leaves: carol stays available with her state.
  await carol1.dispose();
  await h.sleep(300);
  assert.equal(sub.available, true);
  assert.deepEqual(stateOf(await bob.presence().presence("carol")), { status: "writing", mood: "happy" });
  await carol2.dispose();
  await h.waitFor(() => !sub.available, { what: "carol to become unavailable" });
  sub.unsubscribe();
});

test("a dropped connection makes its user unavailable; so does one that goes silent, within the heartbeat timeout", async () => {
  const bob = await connect("bob");
  const proxy = await proxyFor(server);
  try {
    const sub = await bob.presence().subscribe("dave");
    const dave = await connect("dave", proxy.url(server.url));
    dave.presence().setState("status", "here");
    await h.waitFor(() => sub.available && stateOf(sub).status === "here", { what: "dave present" });
    proxy.dropAll();
    await h.waitFor(() => !sub.available, { what: "the dropped dave to become unavailable" });
    assert.deepEqual(stateOf(await bob.presence().presence("dave")), {});

    // Silent: the server never hears the socket close and finds out by its heartbeat.
    const again = await connect("dave", proxy.url(server.url));
    await h.waitFor(() => sub.available, { what: "dave back" });
    proxy.abandonAll();
    await h.waitFor(() => !sub.available, { what: "the silent dave to become unavailable", timeoutMs: 30000 });
    again.dispose().catch(() => {});
    sub.unsubscribe();
  } finally {
    proxy.close();
  }
});

test("bad presence input changes nothing: unknown users, values nested too deep, states too large", async () => {
  const erin = await connect("erin");
  const bob = await connect("bob");
  await assert.rejects(bob.presence().presence("nobody"), (e) => e.code === "user_not_found");
  await assert.rejects(bob.presence().subscribe("nobody"), (e) => e.code === "user_not_found");

  erin.presence().setState("ok", 1);
  let deep = 1;
  for (let i = 0; i < 40; i++) deep = [deep];
  erin.presence().setState("deep", deep);
  erin.presence().setState("big", "x".repeat(70 * 1024));
  erin.presence().setState("last", true);
  await h.waitFor(async () => stateOf(await bob.presence().presence("erin")).last === true, { what: "the last change" });
  assert.deepEqual(stateOf(await bob.presence().presence("erin")), { ok: 1, last: true });
});
