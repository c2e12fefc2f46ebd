// A burst: one client submits E2E_BURST (200,000) single-character inserts in one synchronous
// loop, all made at one context version, while a second client keeps editing. With the default
// limits the burst is throttled, not refused: every operation is acknowledged, no model is
// closed, neither client is disconnected, and both replicas, a late reader and the stored model
// end equal.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

const BURST = Number(process.env.E2E_BURST || 200000);

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({});
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

async function open(name, modelId, srv = server) {
  const d = await h.connectAnonymously(srv.url, name);
  domains.push(d);
  const m = await d.models().openAutoCreate({ collection: "burst", id: modelId, data: { text: "0123456789" } });
  models.push(m);
  return m;
}

async function connectionsTotal(srv) {
  const text = await fetch(`http://127.0.0.1:${srv.port}/metrics`).then((r) => r.text());
  const m = /^tandem_connections_total (\d+)$/m.exec(text);
  assert.ok(m, "tandem_connections_total on /metrics");
  return Number(m[1]);
}

async function burst(srv, modelId, count) {
  const before = await connectionsTotal(srv);
  const a = await open("Burst", modelId, srv);
  const b = await open("Typist", modelId, srv);
  const closed = [];
  for (const [i, m] of [a, b].entries()) m.on("closed", (e) => closed.push(`replica ${i}: ${e && e.reason}`));
  const textA = a.root().get("text");
  const textB = b.root().get("text");

  // The typist starts first, so the burst is concurrent with its edits from the start.
  let typing = true;
  let typed = 0;
  const typist = (async () => {
    while (typing) {
      textB.insert(0, "b");
      typed += 1;
      await h.sleep(20);
    }
  })();
  await h.sleep(50);
  const started = Date.now();
  for (let i = 0; i < count; i++) textA.insert(textA.length(), "a");
  const queued = Date.now() - started;
  await h.waitFor(() => a.isCommitted(), {
    timeoutMs: 540000,
    intervalMs: 200,
    what: "the burst to be acknowledged",
    describe: () => `  closed: ${JSON.stringify(closed)} version ${a.version()}`,
  });
  typing = false;
  await typist;
  const version = await h.waitConverged([a, b], { timeoutMs: 120000 });
  assert.deepEqual(closed, [], "no replica may be closed");
  // Neither client was disconnected and reconnected on the way (a busy client is slowed, not
  // dropped).
  assert.equal(await connectionsTotal(srv), before + 2, "connections opened during the burst");

  const expected = "b".repeat(typed) + "0123456789" + "a".repeat(count);
  assert.equal(textA.value(), expected);
  assert.equal(textB.value(), expected);
  assert.ok(version >= count + typed, `version ${version}`);
  const c = await open("Reader", modelId, srv);
  assert.equal(c.root().get("text").value(), expected);
  assert.deepEqual(await srv.dump(modelId), { text: expected });
  console.log(`${count} inserts queued in ${queued} ms, all acknowledged after ${Date.now() - started} ms; ${typed} concurrent inserts`);
}

test(`a burst of ${BURST} inserts at one context version while another client edits`, { timeout: 600000 }, async () => {
  await burst(server, "burst", BURST);
});

// With a small history cap the typist's client, busy applying the burst, falls further behind
// than the server keeps in memory: its operations are transformed against what the server
// reads back from the store.
test("a typist lagging past the history cap is transformed from the store, not closed", { timeout: 600000 }, async () => {
  const small = await h.TandemServer.start({ config: "[engine.models]\nmax_history = 200\n" });
  try {
    await burst(small, "lag", Math.floor(BURST / 8));
  } finally {
    await h.disposeAll(domains.splice(0), models.splice(0));
    await small.close();
  }
});
