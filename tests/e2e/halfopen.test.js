// Connection drops the server does not notice (the client's network changed: no FIN, no RST
// reaches the server), and a reconnect token shared by two live clients (a duplicated tab).
//
// Half-open: the server still holds the old session, so it cannot tell from its session list
// whether that session was the reconnecting client's own. It asks the old connection for a
// sign of life; a dead one stays silent, is closed, and its committed operations are answered
// to the reconnected client as acks. Shared token: the other tab answers at once, so its
// operations stay remote operations for the reconnecting one.

"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const { ALICE_AND_BOB, proxyFor } = require("./lib/proxy");

async function twoClients(server, proxy) {
  const alice = await h.connectPassword(proxy.url(server.url), "alice", "pw-a");
  const bob = await h.connectPassword(server.url, "bob", "pw-b");
  const a = await alice.models().openAutoCreate({ collection: "e2e", id: "half", data: { tokens: [] } });
  const b = await bob.models().open("half");
  return { alice, bob, a, b };
}

/** Tokens added to models, remembered for the final check. */
function tokenLog() {
  const tokens = [];
  const add = (m, t) => {
    m.root().get("tokens").push(t);
    tokens.push(t);
  };
  return { tokens, add };
}

function watch(model) {
  const events = [];
  for (const e of ["resync_completed", "closed", "error", "resync_error"]) model.on(e, () => events.push(e));
  return events;
}

async function checkTokens(server, models, expected) {
  await h.waitConverged(models, { timeoutMs: 30000 });
  const stored = await server.dump("half");
  for (const m of models) assert.deepEqual(m.root().value(), stored, "a replica differs from the stored model");
  assert.deepEqual([...stored.tokens].sort(), [...expected].sort(), "every token exactly once");
}

test("a half-open drop with lost acks: the dead session is found out, the reconnected client is acked", async () => {
  const server = await h.TandemServer.start({ users: ALICE_AND_BOB });
  const proxy = await proxyFor(server);
  let c;
  try {
    c = await twoClients(server, proxy);
    const events = watch(c.a);
    const { tokens, add } = tokenLog();
    add(c.a, "a0");
    await h.whenCommitted(c.a);
    // Alice's acks stop arriving; her operations are committed (bob sees them).
    proxy.downstream = false;
    for (let i = 1; i <= 10; i++) {
      add(c.a, `a${i}`);
      if (i % 3 === 0) add(c.b, `b${i}`);
      await h.sleep(10);
    }
    await h.waitFor(() => tokens.every((t) => c.b.root().get("tokens").value().includes(t)), { what: "bob to see alice's tokens" });
    // Her network goes away: the server's end of the old connection stays open and silent.
    proxy.abandonAll();
    await h.waitFor(() => events.includes("resync_completed") || events.includes("closed"), {
      timeoutMs: 30000,
      what: "alice's resync",
      describe: () => events.join(","),
    });
    assert.deepEqual(events.filter((e) => e !== "resync_completed"), [], `alice's model events: ${events}`);
    add(c.a, "after");
    await checkTokens(server, [c.a, c.b], tokens);
  } finally {
    if (c) await h.disposeAll([c.alice, c.bob], [c.a, c.b]);
    proxy.close();
    await server.close();
  }
});

test("a reconnect token shared with a live tab: that tab's operations stay remote for the reconnecting client", async () => {
  const server = await h.TandemServer.start({ users: ALICE_AND_BOB });
  const proxy = await proxyFor(server);
  let c;
  let twin;
  let t;
  try {
    c = await twoClients(server, proxy);
    // A second tab of alice's logs in with the first one's reconnect token.
    twin = await h.Convergence.reconnect(server.url, c.alice.session().reconnectToken(), h.clientOptions());
    t = await twin.models().open("half");
    const events = watch(c.a);
    const { tokens, add } = tokenLog();
    add(c.a, "a0");
    await h.whenCommitted(c.a);
    // Alice's first tab loses its acks while the twin tab edits too.
    proxy.downstream = false;
    for (let i = 1; i <= 10; i++) {
      add(c.a, `a${i}`);
      add(t, `t${i}`);
      await h.sleep(10);
    }
    await h.waitFor(() => tokens.every((x) => c.b.root().get("tokens").value().includes(x)), { what: "bob to see every token" });
    await h.whenCommitted(t);
    proxy.dropAll();
    await h.waitFor(() => events.includes("resync_completed") || events.includes("closed"), {
      timeoutMs: 30000,
      what: "alice's resync",
      describe: () => events.join(","),
    });
    assert.deepEqual(events.filter((e) => e !== "resync_completed"), [], `alice's model events: ${events}`);
    assert.ok(t.isOpen() && twin.session().isConnected(), "the twin tab was left alone");
    add(t, "twin-after");
    add(c.a, "after");
    await checkTokens(server, [c.a, c.b, t], tokens);
  } finally {
    if (c) await h.disposeAll([c.alice, c.bob, twin], [c.a, c.b, t]);
    proxy.close();
    await server.close();
  }
});
