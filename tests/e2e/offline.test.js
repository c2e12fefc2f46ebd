// Offline storage with the real client (IndexedDB from fake-indexeddb, as a browser has it):
// a subscribed model is downloaded and kept current while the client is online; with the
// network gone it opens from storage and takes edits; back online those edits are replayed
// and converge with what others did meanwhile, whether the model stayed open or was closed
// offline. A deleted model, and one the user lost read on, are dropped from storage; a model
// the user never could read looks exactly like one that does not exist.
//
// The client reaches the server through a proxy that can refuse it (its network is down)
// while the server stays up for bob, who keeps editing.

"use strict";

require("fake-indexeddb/auto");
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");
const { proxyFor } = require("./lib/proxy");
const { rights } = require("./lib/perms");

const USERS = ["bob", "a1", "a2", "a3", "a4", "a5", "a6"].map((u) => ({ username: u, password: `${u}-pw` }));
const SYNC_MS = 300;

let server;
let proxy;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    users: USERS,
    collections: [{ id: "notes", world: "read,write,create,remove", users: {} }],
    config: `[engine.models]\noffline_sync_interval_ms = ${SYNC_MS}\n[engine.limits]\nmax_offline_models = 5\n`,
  });
  proxy = await proxyFor(server);
});

after(async () => {
  await h.disposeAll(domains, models);
  if (proxy) proxy.close();
  if (server) await server.close();
});

async function connect(user) {
  const d = await h.connectPassword(server.url, user, `${user}-pw`);
  domains.push(d);
  return d;
}

/** A domain with offline storage, through the proxy, reconnecting quickly. */
async function offlineDomain(user) {
  const d = new h.Convergence.ConvergenceDomain(
    proxy.url(server.url),
    h.clientOptions({
      offline: { storage: new h.Convergence.IdbStorageAdapter() },
      reconnect: { reconnectIntervals: [0, 0.2, 0.5] },
    }),
  );
  domains.push(d);
  await d.connectWithPassword({ username: user, password: `${user}-pw` });
  return d;
}

/** Records the offline events of a domain's model service by name. */
function recorder(domain) {
  const seen = [];
  for (const name of [
    "offline_model_downloaded",
    "offline_model_updated",
    "offline_model_deleted",
    "offline_model_permissions_revoked",
    "offline_models_sync_completed",
  ]) {
    domain.models().on(name, (e) => seen.push({ name, id: e.id, version: e.version, permissions: e.permissions }));
  }
  return {
    seen,
    async waitFor(name, id, what = `${name} for ${id}`) {
      await h.waitFor(() => seen.some((e) => e.name === name && e.id === id), {
        what,
        describe: () => JSON.stringify(seen),
      });
      return seen.filter((e) => e.name === name && e.id === id).pop();
    },
  };
}

async function goOffline(domain) {
  proxy.goOffline();
  await h.waitFor(() => !domain.isConnected(), { what: "the client noticed the network is gone" });
}

async function goOnline(domain) {
  proxy.goOnline();
  await h.waitFor(() => domain.isConnected(), { what: "the client reconnected" });
}

test("a subscribed model is downloaded, kept current, and edited offline converges after reconnect", async () => {
  const bob = await connect("bob");
  const a1 = await offlineDomain("a1");
  const events = recorder(a1);
  await bob.models().create({ collection: "notes", id: "trip", data: { title: "Trip", days: ["mon"] } });

  await a1.models().subscribeOffline("trip");
  const downloaded = await events.waitFor("offline_model_downloaded", "trip");
  assert.equal(downloaded.version, 1);
  assert.deepEqual(rights(downloaded.permissions), rights(["read", "write", "remove"]));

  // bob edits; the next sync brings the new version into a1's storage.
  const bm = await bob.models().open("trip");
  models.push(bm);
  bm.root().get("days").push("tue");
  await h.whenCommitted(bm);
  const updated = await events.waitFor("offline_model_updated", "trip");
  assert.equal(updated.version, 2);

  // Offline: the model opens from storage, as the last sync left it, and takes edits.
  await goOffline(a1);
  const am = await a1.models().open("trip");
  models.push(am);
  assert.deepEqual(am.root().value(), { title: "Trip", days: ["mon", "tue"] });
  assert.equal(am.version(), 2);
  am.root().get("title").insert(4, " to Rome");
  am.root().get("days").push("wed-a1");
  am.root().set("packed", true);
  // Meanwhile bob keeps editing the same places.
  bm.root().get("title").insert(0, "Our ");
  bm.root().get("days").push("thu-bob");
  await h.whenCommitted(bm);
  assert.equal(am.isCommitted(), false, "a1's offline edits wait for the server");

  await goOnline(a1);
  await h.waitConverged([am, bm]);
  // Both appended after "tue"; bob's reached the server first, so it comes first.
  const expected = { title: "Our Trip to Rome", days: ["mon", "tue", "thu-bob", "wed-a1"], packed: true };
  assert.deepEqual(bm.root().value(), expected);
  assert.deepEqual(am.root().value(), expected);
  assert.equal(bm.version(), 7, "created, bob's three edits and a1's three offline edits");

  // The server's copy is the converged one: a fresh reader sees it.
  const reader = await connect("a2");
  const rm = await reader.models().open("trip");
  assert.deepEqual(rm.root().value(), expected);
  await rm.close();
});

test("edits made offline in a model closed before the reconnect are synced when the client is back", async () => {
  const bob = await connect("bob");
  await bob.models().create({ collection: "notes", id: "list", data: { items: ["a"] } });
  const a2 = await offlineDomain("a2");
  const events = recorder(a2);
  await a2.models().subscribeOffline(["list"]);
  await events.waitFor("offline_model_downloaded", "list");

  await goOffline(a2);
  const am = await a2.models().open("list");
  am.root().get("items").push("from-a2");
  am.root().set("note", "written on a plane");
  await am.close();
  const bm = await bob.models().open("list");
  models.push(bm);
  bm.root().get("items").insert(0, "from-bob");
  await h.whenCommitted(bm);

  await goOnline(a2);
  await events.waitFor("offline_models_sync_completed", undefined, "the offline sync completed");
  await h.waitFor(() => bm.root().get("note").value() === "written on a plane", {
    what: "bob sees a2's offline edit",
    describe: () => JSON.stringify(bm.root().value()),
  });
  assert.deepEqual(bm.root().value(), { items: ["from-bob", "a", "from-a2"], note: "written on a plane" });
  // a2's storage follows the server again: reopened online, the model is the converged one.
  const again = await a2.models().open("list");
  models.push(again);
  assert.deepEqual(again.root().value(), bm.root().value());
  assert.equal(again.version(), bm.version());
});

test("a deleted model and a revoked one are dropped from storage; a forbidden one looks missing", async () => {
  const bob = await connect("bob");
  const onlyA3 = {
    overrideCollectionWorldPermissions: true,
    worldPermissions: rights([]),
    userPermissions: { a3: rights(["read", "write"]) },
  };
  await bob.models().create({ collection: "notes", id: "doomed", data: { n: 1 } });
  await bob.models().create({ collection: "notes", id: "shared", data: { n: 2 }, ...onlyA3 });
  await bob.models().create({
    collection: "notes",
    id: "secret",
    data: { n: 3 },
    overrideCollectionWorldPermissions: true,
    worldPermissions: rights([]),
  });
  const a3 = await offlineDomain("a3");
  const events = recorder(a3);
  await a3.models().subscribeOffline(["doomed", "shared", "secret", "never-existed"]);
  await events.waitFor("offline_model_downloaded", "doomed");
  const shared = await events.waitFor("offline_model_downloaded", "shared");
  assert.deepEqual(rights(shared.permissions), rights(["read", "write"]));
  // Never readable and never created answer alike: both are "deleted", nothing downloaded.
  await events.waitFor("offline_model_deleted", "secret");
  await events.waitFor("offline_model_deleted", "never-existed");
  assert.equal(events.seen.filter((e) => e.id === "secret" || e.id === "never-existed").length, 2);

  // Fewer rights, still readable: an update of the permissions only.
  await bob.models().permissions("shared").setUserPermissions("a3", rights(["read"]));
  const narrowed = await events.waitFor("offline_model_updated", "shared");
  assert.deepEqual(rights(narrowed.permissions), rights(["read"]));
  assert.equal(narrowed.version, null, "the data did not change");

  await bob.models().remove("doomed");
  await events.waitFor("offline_model_deleted", "doomed");
  await bob.models().permissions("shared").setUserPermissions("a3", rights([]));
  await events.waitFor("offline_model_permissions_revoked", "shared");

  const subscribed = await a3.models().getOfflineSubscriptions();
  assert.deepEqual([...subscribed].sort(), []);
  const stored = (await a3.models().getOfflineModelMetaData()).map((m) => m.modelId).sort();
  assert.deepEqual(stored, []);
  // Offline, none of them opens from storage.
  await goOffline(a3);
  await assert.rejects(a3.models().open("shared"), /not available offline/);
  await assert.rejects(a3.models().open("doomed"), /not available offline/);
  await goOnline(a3);
});

test("subscriptions past the connection's limit are refused; those within it sync", async () => {
  const a4 = await offlineDomain("a4");
  const events = recorder(a4);
  const bob = await connect("bob");
  for (let i = 0; i < 7; i++) {
    await bob.models().create({ collection: "notes", id: `lim-${i}`, data: { n: i } });
  }
  await a4.models().subscribeOffline(["lim-0", "lim-1", "lim-2"]);
  await assert.rejects(a4.models().subscribeOffline(["lim-3", "lim-4", "lim-5", "lim-6"]), (e) => {
    assert.equal(e.code, "too_many_offline_models", e.message);
    assert.match(e.message, /at most 5 models/);
    return true;
  });
  for (let i = 0; i < 5; i++) await events.waitFor("offline_model_downloaded", `lim-${i}`);
  // What was subscribed within the limit keeps syncing.
  const m = await bob.models().open("lim-0");
  m.root().set("n", 10);
  await h.whenCommitted(m);
  await m.close();
  const updated = await events.waitFor("offline_model_updated", "lim-0");
  assert.equal(updated.version, 2);
  // Past the limit nothing was downloaded.
  assert.equal(events.seen.filter((e) => e.id === "lim-5" || e.id === "lim-6").length, 0);
  // Once there is room again, a subscription goes through. (The client counts the refused ones
  // as subscribed, so it must drop them before it asks again.)
  await a4.models().unsubscribeOffline(["lim-1", "lim-2", "lim-5", "lim-6"]);
  await a4.models().subscribeOffline(["lim-5"]);
  await events.waitFor("offline_model_downloaded", "lim-5");
});

test("a page loaded without a network edits from storage and syncs once it connects", async () => {
  const bob = await connect("bob");
  await bob.models().create({ collection: "notes", id: "memo", data: { text: "hello" } });
  const earlier = await offlineDomain("a5");
  const events = recorder(earlier);
  await earlier.models().subscribeOffline("memo");
  await events.waitFor("offline_model_downloaded", "memo");
  await earlier.dispose();

  // A new page load with the network down: the domain starts from its storage alone.
  const page = new h.Convergence.ConvergenceDomain(
    proxy.url(server.url),
    h.clientOptions({ offline: { storage: new h.Convergence.IdbStorageAdapter() } }),
  );
  domains.push(page);
  await page.initializeOffline("a5");
  const am = await page.models().open("memo");
  models.push(am);
  assert.deepEqual(am.root().value(), { text: "hello" });
  am.root().get("text").insert(5, " world");
  const bm = await bob.models().open("memo");
  models.push(bm);
  bm.root().get("text").insert(0, ">> ");
  await h.whenCommitted(bm);

  await page.connectWithPassword({ username: "a5", password: "a5-pw" });
  await h.waitConverged([am, bm]);
  assert.equal(bm.root().get("text").value(), ">> hello world");
  assert.equal(am.root().get("text").value(), ">> hello world");
});

test("a model created offline is created at the server with its offline edits once online", async () => {
  const a = await offlineDomain("a6");
  const events = recorder(a);
  await goOffline(a);
  const am = await a.models().openAutoCreate({ collection: "notes", id: "made-offline", data: { items: ["first"] } });
  models.push(am);
  am.root().get("items").push("second");
  am.root().set("done", false);
  await goOnline(a);
  await h.whenCommitted(am);
  const bob = await connect("bob");
  const bm = await bob.models().open("made-offline");
  models.push(bm);
  assert.deepEqual(bm.root().value(), { items: ["first", "second"], done: false });
  bm.root().set("done", true);
  await h.waitConverged([am, bm]);
  assert.deepEqual(am.root().value(), { items: ["first", "second"], done: true });
  assert.equal(events.seen.filter((e) => e.name === "offline_model_deleted").length, 0);
});
