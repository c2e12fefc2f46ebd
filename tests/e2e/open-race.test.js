// A model opened while others edit: the client must get every operation that follows its open
// response, even when the response and those operations reach it in one network read.
//
// rc.12 registers a model it opened a few microtasks after the response arrives, while it hands
// other messages to the model one microtask after they arrive; `ws` (the socket Node apps give
// the client) delivers every message of one read in one task. A `remoteOperation` read with the
// open response is then dropped and the next one fails the client's version check, which closes
// the model. The proxy here holds everything the server says to the joining client while it
// opens and the others type, then delivers it in one write: the read where that happens.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const { ALICE_AND_BOB, proxyFor } = require("./lib/proxy");

let server;
let proxy;
let typing = false;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({ users: ALICE_AND_BOB });
});

after(async () => {
  typing = false; // also when the test failed half-way
  if (proxy) proxy.close();
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

test("opening a model while others type: the response and the next operations in one read lose nothing", async () => {
  const alice = await h.connectPassword(server.url, "alice", "pw-a");
  domains.push(alice);
  const a = await alice.models().openAutoCreate({ collection: "e2e", id: "open-race", data: { log: [] } });
  models.push(a);
  typing = true;
  let typed = 0;
  const typist = (async () => {
    while (typing) {
      a.root().get("log").push(`a-${typed++}`);
      await h.sleep(5);
    }
  })();

  proxy = await proxyFor(server);
  try {
    for (let round = 0; round < 5; round++) {
      const bob = await h.connectPassword(proxy.url(server.url), "bob", "pw-b", { reconnect: { autoReconnect: false } });
      domains.push(bob);
      const errors = [];
      bob.on("error", (e) => errors.push(e));
      proxy.hold();
      const opening = bob.models().open("open-race");
      // The open response and the operations typed meanwhile wait in the proxy.
      const before = typed;
      await h.waitFor(() => typed >= before + 10, { what: "alice to type while bob's open is held" });
      proxy.release();
      const b = await opening;
      const closed = [];
      b.on("closed", (e) => closed.push(e));
      const seen = typed;
      await h.waitFor(() => b.root().get("log").length() >= seen, { what: `bob (round ${round}) to see alice's operations` });
      assert.equal(b.isOpen(), true, `round ${round}: bob's model was closed`);
      assert.equal(b.isClosing(), false, `round ${round}: bob's model is closing`);
      assert.deepEqual(closed, [], `round ${round}: bob's model was closed`);
      assert.deepEqual(errors.map(String), [], `round ${round}: errors on bob's domain`);
      await b.close();
      await bob.dispose();
    }
  } finally {
    typing = false;
    await typist;
  }
  await h.whenCommitted(a);
  const stored = await server.dump("open-race");
  assert.equal(stored.log.length, typed);
  assert.deepEqual(a.root().value(), stored);
});
