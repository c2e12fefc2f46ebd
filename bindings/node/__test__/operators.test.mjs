// Operator calls through the Node handles: administrators and API keys, the connected
// sessions, webhooks with their deliveries, the list of activities, and the model_created /
// model_deleted events; each failure as its Error subclass.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";

const require = createRequire(import.meta.url);
const { Engine, NotFoundError, AlreadyExistsError, InvalidArgumentError, UnauthenticatedError } = require("../tandem.js");

// The next event of `type` (`next()` rather than `for await`, which would close the subscription).
async function nextOf(events, type) {
  for (let ev = await events.next(); ev; ev = await events.next()) if (ev.type === type) return ev;
  throw new Error(`no ${type} event`);
}

test("administrators are added, listed, logged in, re-passworded and removed", async () => {
  const e = await Engine.open();
  assert.deepEqual(await e.admins(), []);
  const root = await e.addAdmin("root", "s3cret");
  assert.equal(root.username, "root");
  assert.equal(typeof root.created_ms, "number");
  await assert.rejects(e.addAdmin("root", "other"), AlreadyExistsError);
  assert.deepEqual((await e.admins()).map((a) => a.username), ["root"]);
  await assert.rejects(e.adminLogin("root", "wrong"), UnauthenticatedError);
  await assert.rejects(e.adminLogin("nobody", "s3cret"), UnauthenticatedError);
  const login = await e.adminLogin("root", "s3cret");
  assert.equal(typeof login.token, "string");
  assert.ok(login.expires_ms > Date.now());
  assert.equal((await e.verifyAdminToken(login.token)).username, "root");
  await assert.rejects(e.verifyAdminToken(login.token + "x"), UnauthenticatedError);
  await e.setAdminPassword("root", "n3w");
  await assert.rejects(e.verifyAdminToken(login.token), UnauthenticatedError);
  assert.equal((await e.verifyAdminToken((await e.adminLogin("root", "n3w")).token)).username, "root");
  await assert.rejects(e.setAdminPassword("nobody", "x"), NotFoundError);
  await e.removeAdmin("root");
  await assert.rejects(e.removeAdmin("root"), NotFoundError);
  assert.deepEqual(await e.admins(), []);
  await e.shutdown();
});

test("API keys are created, verified, listed and revoked, one domain each", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("acme", "docs");
  const other = await e.createDomain("acme", "other");
  const created = await d.createApiKey("ci", true);
  assert.deepEqual([created.key.name, created.key.read_only], ["ci", true]);
  assert.equal(typeof created.token, "string");
  assert.deepEqual(await d.verifyApiKey(created.token), created.key);
  await assert.rejects(other.verifyApiKey(created.token), UnauthenticatedError);
  await assert.rejects(d.verifyApiKey("nope"), UnauthenticatedError);
  const rw = await d.createApiKey("deploy");
  assert.equal(rw.key.read_only, false);
  assert.deepEqual((await d.apiKeys()).map((k) => k.id).sort(), [created.key.id, rw.key.id].sort());
  assert.ok((await d.apiKeys()).every((k) => !("token" in k)));
  await d.revokeApiKey(created.key.id);
  await assert.rejects(d.verifyApiKey(created.token), UnauthenticatedError);
  await assert.rejects(d.revokeApiKey(created.key.id), NotFoundError);
  assert.deepEqual((await d.apiKeys()).map((k) => k.id), [rw.key.id]);
  await e.shutdown();
});

test("sessions: none connected, and disconnecting an unknown one is NotFound", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("acme", "docs");
  assert.deepEqual(await d.sessions(), []);
  await assert.rejects(d.disconnectSession("nope"), NotFoundError);
  await assert.rejects(d.disconnectSession("nope"), (err) => err.code === "not_found");
  await e.shutdown();
});

test("a webhook is registered, listed, gets a delivery for a created model, and is removed", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("acme", "docs");
  assert.deepEqual(await d.webhooks(), []);
  await assert.rejects(d.addWebhook({ url: "ftp://127.0.0.1/x", events: ["model.created"] }), InvalidArgumentError);
  await assert.rejects(d.addWebhook({ url: "http://127.0.0.1:9/x", events: ["bogus"] }), InvalidArgumentError);
  await assert.rejects(d.addWebhook({ url: "http://127.0.0.1:9/x" }), InvalidArgumentError);
  const hook = await d.addWebhook({ url: "http://127.0.0.1:9/x", events: ["model.created"] });
  assert.deepEqual([hook.url, hook.events], ["http://127.0.0.1:9/x", ["model.created"]]);
  assert.equal(typeof hook.secret, "string");
  assert.ok(hook.secret.length > 0);
  const { secret, ...listed } = hook;
  assert.ok(secret);
  assert.deepEqual(await d.webhooks(), [listed]);

  const events = d.events();
  await d.createModel("notes", { t: 1 }, "w1");
  const created = await nextOf(events, "model_created");
  assert.deepEqual(created, { type: "model_created", namespace: "acme", domain: "docs", model: "w1", collection: "notes" });

  let deliveries = [];
  for (let i = 0; i < 200 && deliveries.length === 0; i++) {
    deliveries = await d.webhookDeliveries(hook.id);
    if (deliveries.length === 0) await sleep(25);
  }
  assert.equal(deliveries.length, 1);
  const [delivery] = deliveries;
  assert.equal(delivery.event, "model.created");
  assert.ok(delivery.id.startsWith(`${hook.id}.`), delivery.id);
  assert.equal(delivery.number, 1);
  assert.ok(["pending", "failed"].includes(delivery.status), delivery.status);
  const body = JSON.parse(delivery.payload);
  assert.deepEqual([body.event, body.data.model, body.data.collection], ["model.created", "w1", "notes"]);

  await (await d.model("w1")).delete();
  const deleted = await nextOf(events, "model_deleted");
  assert.deepEqual(deleted, { type: "model_deleted", namespace: "acme", domain: "docs", model: "w1", collection: "notes" });
  events.close();

  await d.removeWebhook(hook.id);
  await assert.rejects(d.removeWebhook(hook.id), NotFoundError);
  await assert.rejects(d.webhookDeliveries(hook.id), NotFoundError);
  assert.deepEqual(await d.webhooks(), []);
  await e.shutdown();
});

test("activities() lists the activities a host created", async () => {
  const e = await Engine.open();
  const d = await e.createDomain("acme", "docs");
  assert.deepEqual(await d.activities(), []);
  await d.createActivity("board", "b2");
  await d.createActivity("board", "b1", { world: ["join"] });
  await assert.rejects(d.createActivity("board", "b1"), AlreadyExistsError);
  const listed = await d.activities();
  assert.deepEqual(listed.map((a) => [a.activity_type, a.id, a.ephemeral]), [["board", "b1", false], ["board", "b2", false]]);
  assert.equal(typeof listed[0].created_ms, "number");
  await d.deleteActivity("board", "b1");
  assert.deepEqual((await d.activities()).map((a) => a.id), ["b2"]);
  await e.shutdown();
});
