// Model queries through the real client's `models().query()`: results with their metadata and
// data, ordering and paging with the total, projections, what an edit from an open model
// changes, read permission filtering, and a malformed query's error.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

let server;
const domains = [];
const models = [];

const NOTES = {
  n1: { owner: "bob", title: "Groceries", stars: 3, tags: ["home", "food"] },
  n2: { owner: "alice", title: "Taxes", stars: 5, tags: ["money"] },
  n3: { owner: "bob", title: "Garden", stars: 1, tags: [] },
  n4: { owner: "carol", title: "Trip", stars: 4.5, tags: ["travel", "home"] },
};

before(async () => {
  server = await h.TandemServer.start({
    users: ["alice", "bob"].map((u) => ({ username: u, password: `${u}-pw` })),
    collections: [
      { id: "notes", world: "read,write,create", users: {} },
      { id: "private", world: "", users: { alice: "read,write,create" } },
    ],
  });
  const alice = await connect("alice");
  for (const [id, data] of Object.entries(NOTES)) {
    await alice.models().create({ collection: "notes", id, data });
  }
  await alice.models().create({ collection: "private", id: "p1", data: { owner: "alice", stars: 5 } });
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

const ids = (page) => page.data.map((r) => r.modelId);

test("a query answers the matching models with their metadata, in order, paged, with the total", async () => {
  const bob = await connect("bob");
  let page = await bob.models().query("SELECT * FROM notes WHERE owner = 'bob' ORDER BY stars DESC");
  assert.deepEqual(ids(page), ["n1", "n3"]);
  assert.equal(page.totalResults, 2);
  const first = page.data[0];
  assert.equal(first.collectionId, "notes");
  assert.equal(first.version, 1);
  assert.ok(first.created instanceof Date && first.modified instanceof Date);
  assert.deepEqual(first.data, NOTES.n1);

  page = await bob.models().query("SELECT * FROM notes WHERE stars >= 3 ORDER BY stars DESC LIMIT 2 OFFSET 1");
  assert.deepEqual(ids(page), ["n4", "n1"]);
  assert.equal(page.offset, 1);
  assert.equal(page.totalResults, 3);

  page = await bob.models().query("SELECT title AS name, tags[0] FROM notes WHERE tags[1] = 'home'");
  assert.deepEqual(page.data.map((r) => r.data), [{ name: "Trip", "tags[0]": "travel" }]);

  page = await bob.models().query("SELECT * FROM notes WHERE title LIKE 'G%' OR @id = 'n2' ORDER BY @id");
  assert.deepEqual(ids(page), ["n1", "n2", "n3"]);
  page = await bob.models().query("SELECT * FROM notes WHERE owner = 'nobody'");
  assert.deepEqual(ids(page), []);
  assert.equal(page.totalResults, 0);
});

test("an edit acknowledged from an open model is what the next query sees", async () => {
  const alice = await connect("alice");
  const m = await alice.models().open("n3");
  models.push(m);
  m.root().set("owner", "dave");
  m.root().get("stars").add(10);
  await h.whenCommitted(m);
  const page = await alice.models().query("SELECT owner, stars, @version FROM notes WHERE stars > 10");
  assert.deepEqual(page.data.map((r) => [r.modelId, r.data]), [["n3", { owner: "dave", stars: 11, "@version": 3 }]]);
  const bobs = await alice.models().query("SELECT * FROM notes WHERE owner = 'bob'");
  assert.deepEqual(ids(bobs), ["n1"]);
});

test("a user finds only the models it may read", async () => {
  const bob = await connect("bob");
  const alice = await connect("alice");
  let page = await bob.models().query("SELECT * FROM private");
  assert.deepEqual(ids(page), []);
  assert.equal(page.totalResults, 0);
  page = await bob.models().query("SELECT * FROM private WHERE owner = 'alice'");
  assert.equal(page.totalResults, 0);
  page = await alice.models().query("SELECT * FROM private WHERE owner = 'alice'");
  assert.deepEqual(ids(page), ["p1"]);
});

test("a malformed query is refused with invalid_query and its position", async () => {
  const bob = await connect("bob");
  for (const [text, index] of [
    ["SELECT * notes", 9],
    ["SELECT * FROM notes WHERE stars >", 33],
    ["SELECT * FROM notes ORDER BY", 28],
  ]) {
    await assert.rejects(bob.models().query(text), (e) => {
      assert.equal(e.code, "invalid_query", `${text}: ${e.message}`);
      assert.equal(String(e.details && e.details.index), String(index), `${text}: ${JSON.stringify(e.details)}`);
      return true;
    });
  }
  // The connection is fine afterwards.
  const page = await bob.models().query("SELECT * FROM notes WHERE @id = 'n1'");
  assert.deepEqual(ids(page), ["n1"]);
});

test("a query over the server's budget, and one too many at once, are refused with their codes", async () => {
  const small = await h.TandemServer.start({
    users: [{ username: "alice", password: "alice-pw" }],
    collections: [{ id: "bulk", world: "read,write,create", users: {} }],
    config: "[engine.models]\nquery_max_models = 150\n[engine.limits]\nmax_queries_per_connection = 1\n",
  });
  const mine = [];
  try {
    const alice = await h.connectPassword(small.url, "alice", "alice-pw");
    mine.push(alice);
    const creations = [];
    for (let n = 0; n < 160; n++) {
      creations.push(alice.models().create({ collection: "bulk", id: `b${n}`, data: { n, title: `t${n}` } }));
    }
    await Promise.all(creations);

    // Nothing narrows it: all 160 would be read.
    await assert.rejects(alice.models().query("SELECT * FROM bulk"), (e) => {
      assert.equal(e.code, "query_budget_exceeded", e.message);
      assert.match(e.message, /more than 150 models/);
      return true;
    });
    // The index narrows this one to 120, each read and rechecked.
    const narrow = "SELECT * FROM bulk WHERE n < 120 AND title LIKE 't1%' ORDER BY n";
    const page = await alice.models().query(narrow);
    assert.equal(page.totalResults, 31); // t1, t10..t19, t100..t119

    // Twenty at once on one connection: the first runs, the others that arrive while it runs
    // are refused; every answer is either the full result or that refusal.
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        alice.models().query(narrow).then(
          (p) => ({ total: p.totalResults }),
          (e) => ({ code: e.code }),
        ),
      ),
    );
    for (const o of outcomes) {
      assert.ok(o.total === 31 || o.code === "too_many_queries", JSON.stringify(o));
    }
    assert.ok(outcomes.some((o) => o.total === 31), JSON.stringify(outcomes));
    assert.ok(outcomes.some((o) => o.code === "too_many_queries"), JSON.stringify(outcomes));
    // Once they are answered, the connection queries again.
    assert.equal((await alice.models().query(narrow)).totalResults, 31);
  } finally {
    await h.disposeAll(mine, []);
    await small.close();
  }
});
