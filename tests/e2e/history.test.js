// Model history with the real client's HistoricalModel: two users edit a model (strings,
// arrays, objects, numbers, a compound batch) while the domain's and a collection's snapshot
// policies take snapshots every few versions; then every version, played to forward and
// backward, in jumps and steps, equals what both clients saw at that version, playToTime at
// the creation time gives the initial data, and the server's own view (data at a version, the
// CLI) agrees.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    users: ["alice", "bob"].map((u) => ({ username: u, password: `${u}-pw` })),
    collections: [
      { id: "docs", world: "read,write,create", users: {} },
      { id: "fine", world: "read,write,create", users: {} },
    ],
    domainConfig: {
      snapshot_policy: JSON.stringify({ trigger_by_time: false, max_version_interval: 4 }),
      "collection_snapshot_policy.fine": JSON.stringify({ trigger_by_time: false, max_version_interval: 1 }),
    },
  });
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

async function connect(user) {
  const d = await h.connectPassword(server.url, user, `${user}-pw`);
  domains.push(d);
  return d;
}

/** Edits made in turn by alice and bob; returns the value both saw at each version. */
async function editInTurns(a, b) {
  const seen = new Map([[1, a.root().value()]]);
  const edits = [
    (m) => m.root().get("text").insert(0, "Hello"),
    (m) => m.root().get("text").insert(5, ", world"),
    (m) => m.root().get("list").push("one"),
    (m) => m.root().get("list").insert(0, { nested: [1, 2] }),
    (m) => m.root().get("count").add(5),
    (m) => m.root().set("title", "first title"),
    (m) => m.root().get("text").remove(0, 2),
    (m) => m.root().get("list").get(0).get("nested").set(1, "two"),
    (m) => {
      m.startBatch();
      m.root().get("count").add(-2);
      m.root().get("text").insert(0, "J");
      m.root().remove("title");
      m.endBatch();
    },
    (m) => m.root().get("list").remove(1),
    (m) => m.root().set("flag", true),
    (m) => m.root().get("text").insert(3, "\ud83d\ude00"),
    (m) => m.root().get("list").reorder(0, 0),
    (m) => m.root().set("list", ["replaced"]),
  ];
  for (const [i, edit] of edits.entries()) {
    const [mine, theirs] = i % 2 === 0 ? [a, b] : [b, a];
    edit(mine);
    await h.whenCommitted(mine);
    const v = mine.version();
    await h.waitFor(() => theirs.version() === v, { what: `version ${v} at the other client` });
    assert.deepEqual(theirs.root().value(), mine.root().value(), `both see the same at ${v}`);
    seen.set(v, mine.root().value());
  }
  return seen;
}

async function checkPlayback(reader, id, seen) {
  const versions = [...seen.keys()].sort((x, y) => x - y);
  const last = versions[versions.length - 1];
  const hm = await reader.models().history(id);
  assert.equal(hm.maxVersion(), last);
  assert.equal(hm.version(), last);
  assert.deepEqual(hm.root().value(), seen.get(last), "the history starts at the current data");
  // Backward one step at a time to version 1, then forward again.
  for (let v = last - 1; v >= 1; v--) {
    await hm.backward();
    assert.equal(hm.version(), v);
    assert.deepEqual(hm.root().value(), seen.get(v), `backward to ${v}`);
  }
  for (let v = 2; v <= last; v++) {
    await hm.forward();
    assert.deepEqual(hm.root().value(), seen.get(v), `forward to ${v}`);
  }
  // Jumps in both directions, across snapshots.
  for (const v of [1, last, 3, 9, 2, last - 1, 6, 1, 8]) {
    await hm.playTo(v);
    assert.equal(hm.version(), v);
    assert.deepEqual(hm.root().value(), seen.get(v), `jump to ${v}`);
  }
  // At the creation time: the initial data (the original answered an error there).
  await hm.playTo(last);
  await hm.playToTime(hm.createdTime());
  assert.equal(hm.version(), 1);
  assert.deepEqual(hm.root().value(), seen.get(1), "playToTime(createdTime)");
  await hm.playToTime(new Date(Date.now() + 60000));
  assert.equal(hm.version(), last);
  await assert.rejects(hm.playToTime(new Date(hm.createdTime().getTime() - 1000)));
}

for (const collection of ["docs", "fine"]) {
  test(`HistoricalModel plays ${collection} to every version as the clients saw it`, async () => {
    const alice = await connect("alice");
    const bob = await connect("bob");
    const id = `hist-${collection}`;
    const a = await alice.models().openAutoCreate({
      collection,
      id,
      data: { text: "", list: [], count: 0 },
    });
    models.push(a);
    const b = await bob.models().open(id);
    models.push(b);
    await h.sleep(20); // the first edit comes after the creation millisecond
    const seen = await editInTurns(a, b);
    await checkPlayback(alice, id, seen);
    await checkPlayback(bob, id, seen);
    // The server's view of the head agrees.
    const last = Math.max(...seen.keys());
    assert.deepEqual(await server.dump(id), seen.get(last));
  });
}
