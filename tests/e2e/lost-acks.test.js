// Acknowledgements lost on the way back: a client's operations reach the server and are
// committed, but the connection dies before the acks reach the client (a network drop rather
// than a server crash, made deterministic with a TCP proxy that stops forwarding the server's
// frames). The client reconnects, resynchronises and re-sends everything it never saw
// acknowledged; the server must acknowledge the committed ones with their sequence numbers
// (rc.12 closes the model otherwise), must not apply them twice, and must transform the
// operations that never arrived against the other client's concurrent edits.

"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const { ALICE_AND_BOB, proxyFor } = require("./lib/proxy");

test("acknowledgements lost in a connection drop: the reconnected client is acked, nothing is applied twice, replicas converge", async () => {
  const server = await h.TandemServer.start({ users: ALICE_AND_BOB });
  const proxy = await proxyFor(server);
  const proxiedUrl = proxy.url(server.url);
  const domains = [];
  const models = [];
  try {
    const alice = await h.connectPassword(proxiedUrl, "alice", "pw-a");
    const bob = await h.connectPassword(server.url, "bob", "pw-b");
    domains.push(alice, bob);
    const a = await alice.models().openAutoCreate({ collection: "e2e", id: "lost-acks", data: { tokens: [], text: "0123456789" } });
    const b = await bob.models().open("lost-acks");
    models.push(a, b);
    const events = [];
    for (const e of ["offline", "online", "resync_started", "resync_completed", "resync_error", "closed", "error"]) {
      a.on(e, () => events.push(e));
    }
    const aTokens = [];
    const bTokens = [];
    const addA = (t) => {
      a.root().get("tokens").push(t);
      aTokens.push(t);
    };
    const addB = (t, at) => {
      const arr = b.root().get("tokens");
      arr.insert(Math.min(at, arr.length()), t);
      bTokens.push(t);
    };

    // Some acknowledged history first.
    for (let i = 0; i < 5; i++) addA(`a${i}`);
    a.root().get("text").insert(0, "A");
    await h.whenCommitted(a);
    await h.waitConverged(models);
    const ackedVersion = a.version();

    // The server's frames stop reaching alice: her next operations are committed (bob sees
    // them) but she never sees their acks. Bob edits in between, so the replay interleaves.
    proxy.downstream = false;
    for (let i = 5; i < 25; i++) {
      addA(`a${i}`);
      if (i % 4 === 0) {
        a.root().get("text").insert(3, "x");
      }
      await h.sleep(10);
      if (i % 3 === 0) {
        addB(`b${i}`, 2);
        b.root().get("text").insert(1, "y");
      }
    }
    await h.waitFor(() => aTokens.every((t) => b.root().get("tokens").value().includes(t)), {
      what: "bob to see alice's 25 tokens",
    });
    await h.whenCommitted(b);
    assert.equal(a.version(), ackedVersion, "alice saw nothing after the cut");
    assert.ok(!a.isCommitted(), "alice still waits for her acks");

    // Then her own frames stop reaching the server too: these five are never committed.
    proxy.upstream = false;
    for (let i = 25; i < 30; i++) addA(`a${i}`);
    a.root().get("text").insert(2, "z");
    await h.sleep(100);
    const versionBeforeDrop = b.version();

    // The connection drops; alice reconnects on her own and resynchronises.
    proxy.dropAll();
    await h.waitFor(() => events.includes("resync_completed"), { timeoutMs: 40000, what: "alice's resync", describe: () => events.join(",") });
    // Both keep editing after the resync.
    for (let i = 30; i < 35; i++) {
      addA(`a${i}`);
      addB(`b${i}`, 0);
    }
    await h.waitConverged(models, { timeoutMs: 30000 });

    assert.ok(!events.includes("closed") && !events.includes("error"), `alice's model events: ${events.join(",")}`);
    assert.ok(a.isOpen(), "alice's model is still open");
    const stored = await server.dump("lost-acks");
    assert.deepEqual(a.root().value(), b.root().value(), "replicas diverged");
    assert.deepEqual(stored, a.root().value(), "the server's data differs from the replicas");
    const counts = new Map();
    for (const t of stored.tokens) counts.set(t, (counts.get(t) || 0) + 1);
    for (const t of [...aTokens, ...bTokens]) assert.equal(counts.get(t), 1, `token ${t} stored ${counts.get(t) || 0} times`);
    assert.equal(stored.tokens.length, aTokens.length + bTokens.length);
    // The text edits: alice's "A", five "x", one "z"; bob's seven "y".
    const text = stored.text;
    assert.equal([...text].filter((c) => c === "x").length, 5, text);
    assert.equal([...text].filter((c) => c === "y").length, 7, text);
    assert.equal([...text].filter((c) => c === "z").length, 1, text);
    assert.ok(b.version() > versionBeforeDrop);
  } finally {
    await h.disposeAll(domains, models);
    proxy.close();
    await server.close();
  }
});
