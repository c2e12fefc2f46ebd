// Several clients edit one model at once without waiting for acknowledgements; afterwards every
// replica and the server's stored data must be identical.
//
// E2E_CLIENTS (2..5, default 3), E2E_OPS (edits per client, default 1000) and E2E_SEED tune it.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const { INITIAL_DATA, editModel, rng } = require("./lib/edits");

const CLIENTS = Math.min(5, Math.max(2, Number(process.env.E2E_CLIENTS || 3)));
const OPS = Math.max(1, Number(process.env.E2E_OPS || 1000));
const SEED = Number(process.env.E2E_SEED || Date.now() % 1e9);

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    users: [...Array(CLIENTS).keys()].map((i) => ({ username: `user${i}`, password: `pw${i}` })),
  });
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

/** Runs `ops` random edits on `model`, yielding to the event loop at random moments. */
async function editor(model, r, tag, ops) {
  let sent = 0;
  while (sent < ops) {
    const burst = 1 + r.int(12);
    for (let i = 0; i < burst && sent < ops; i++, sent++) {
      if (r.chance(0.05)) {
        // A compound operation: several edits in one batch.
        model.startBatch();
        const n = 2 + r.int(3);
        for (let k = 0; k < n; k++) editModel(r, model, tag);
        model.completeBatch();
      } else {
        editModel(r, model, tag);
      }
    }
    // Let remote operations and acks arrive while local ones are still in flight.
    await h.sleep(r.int(4));
  }
}

test(`${CLIENTS} clients x ${OPS} unacknowledged random edits converge to the server's data (seed ${SEED})`, async () => {
  const modelId = `concurrency-${SEED}`;
  for (let i = 0; i < CLIENTS; i++) {
    // Mix the ways in: most by password, one anonymously.
    const d =
      i === CLIENTS - 1
        ? await h.connectAnonymously(server.url, `anon${i}`)
        : await h.connectPassword(server.url, `user${i}`, `pw${i}`);
    domains.push(d);
  }
  for (const d of domains) {
    models.push(await d.models().openAutoCreate({ collection: "e2e", id: modelId, data: INITIAL_DATA }));
  }
  // Every replica starts from the same data.
  for (const m of models) assert.deepEqual(m.root().value(), INITIAL_DATA);

  const closedEarly = [];
  models.forEach((m, i) => m.on("closed", (e) => closedEarly.push(`replica ${i} closed: ${JSON.stringify(e && e.reason)}`)));

  // Count remote changes applied while the receiving replica had operations in flight: the
  // test means nothing unless the client had to transform them.
  const concurrentRemote = models.map(() => 0);
  models.forEach((m, i) =>
    m.root().on("model_changed", (e) => {
      if (!e.local && !m.isCommitted()) concurrentRemote[i] += 1;
    }),
  );

  const started = Date.now();
  await Promise.all(models.map((m, i) => editor(m, rng(SEED + i * 7919), `c${i}`, OPS)));
  const version = await h.waitConverged(models, { timeoutMs: 120000 });
  assert.deepEqual(closedEarly, [], "no replica may be force-closed");
  for (const [i, n] of concurrentRemote.entries()) {
    assert.ok(n > 0, `replica ${i} never received a remote change while its own were in flight`);
  }

  const values = models.map((m) => m.root().value());
  for (let i = 1; i < values.length; i++) {
    assert.deepEqual(values[i], values[0], `replica ${i} diverged from replica 0 (seed ${SEED})`);
  }
  const stored = await server.dump(modelId);
  assert.deepEqual(stored, values[0], `the server's stored data differs from the replicas (seed ${SEED})`);
  // Every edit produced at least one version (batches and no-ops aside, most did).
  assert.ok(version > OPS, `version ${version} should reflect ${CLIENTS * OPS} edits`);
  console.log(
    `${CLIENTS} x ${OPS} edits converged at version ${version} in ${Date.now() - started} ms; ` +
      `remote changes met in flight: ${concurrentRemote.join(", ")}`,
  );
});
