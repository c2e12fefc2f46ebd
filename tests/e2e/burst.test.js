// A burst: one client submits E2E_BURST (200,000) single-character inserts in one synchronous
// loop, all made at one context version, while a second client keeps editing. With the default
// limits the burst is throttled, not refused: every operation is acknowledged, no model is
// closed, and both replicas, a late reader and the stored model end equal.

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

async function open(name, modelId) {
  const d = await h.connectAnonymously(server.url, name);
  domains.push(d);
  const m = await d.models().openAutoCreate({ collection: "burst", id: modelId, data: { text: "0123456789" } });
  models.push(m);
  return m;
}

test(`a burst of ${BURST} inserts at one context version while another client edits`, { timeout: 600000 }, async () => {
  const modelId = "burst";
  const a = await open("Burst", modelId);
  const b = await open("Typist", modelId);
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
  for (let i = 0; i < BURST; i++) textA.insert(textA.length(), "a");
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

  const expected = "b".repeat(typed) + "0123456789" + "a".repeat(BURST);
  assert.equal(textA.value(), expected);
  assert.equal(textB.value(), expected);
  assert.ok(version >= BURST + typed, `version ${version}`);
  const c = await open("Reader", modelId);
  assert.equal(c.root().get("text").value(), expected);
  assert.deepEqual(await server.dump(modelId), { text: expected });
  console.log(`${BURST} inserts queued in ${queued} ms, all acknowledged after ${Date.now() - started} ms; ${typed} concurrent inserts`);
});
