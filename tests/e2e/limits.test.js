// The configurable limits (docs/limits.md), each met by the real client and answered with the
// protocol's error: connections per user, models per connection, references per model and
// session, failed and anonymous logins, history ranges, and connections in all.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    users: [
      { username: "carol", password: "carol-pw" },
      { username: "dave", password: "dave-pw" },
    ],
    config: [
      "[net]",
      "max_connections = 8",
      "[engine.models]",
      "max_history_range = 5",
      "[engine.limits]",
      "max_connections_per_user = 2",
      "max_models_per_connection = 2",
      "max_references_per_model = 2",
      "[engine.auth.limits]",
      "failed_per_user = 3",
      "failed_per_address = 100",
      "anonymous_per_address = 3",
      "window_secs = 60",
      "",
    ].join("\n"),
  });
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

/** Client options whose sockets claim, through a local proxy's header, to come from `ip`. */
function from(ip) {
  return {
    webSocket: {
      factory: (u) => new h.WebSocket(u, { headers: { "X-Forwarded-For": ip } }),
      class: h.WebSocket,
    },
  };
}

const rejectsWith = (promise, code) =>
  assert.rejects(promise, (e) => {
    assert.equal(e.code, code, e.message);
    return true;
  });

test("a user may hold at most max_connections_per_user connections", async () => {
  const a = await h.connectPassword(server.url, "carol", "carol-pw");
  const b = await h.connectPassword(server.url, "carol", "carol-pw");
  domains.push(a, b);
  await rejectsWith(h.connectPassword(server.url, "carol", "carol-pw"), "too_many_connections");
  // Another user is not affected; once one connection goes, carol may connect again.
  const other = await h.connectPassword(server.url, "dave", "dave-pw");
  domains.push(other);
  await h.disposeAll([b]);
  await h.waitFor(async () => {
    try {
      const c = await h.connectPassword(server.url, "carol", "carol-pw");
      domains.push(c);
      return true;
    } catch (e) {
      return false;
    }
  }, { what: "carol to connect again after a disconnect" });
  await h.disposeAll(domains.splice(0));
});

test("a connection may open at most max_models_per_connection models", async () => {
  const d = await h.connectAnonymously(server.url, "Opener", from("203.0.113.1"));
  domains.push(d);
  for (const id of ["m1", "m2"]) {
    models.push(await d.models().openAutoCreate({ collection: "limits", id, data: { n: 0 } }));
  }
  await rejectsWith(d.models().openAutoCreate({ collection: "limits", id: "m3", data: { n: 0 } }), "too_many_open_models");
  await models[1].close();
  models.push(await d.models().openAutoCreate({ collection: "limits", id: "m3", data: { n: 0 } }));
  await h.disposeAll(domains.splice(0), models.splice(0));
});

test("a session may share at most max_references_per_model references on a model", async () => {
  const da = await h.connectAnonymously(server.url, "Pointer", from("203.0.113.2"));
  const db = await h.connectAnonymously(server.url, "Watcher", from("203.0.113.2"));
  domains.push(da, db);
  const a = await da.models().openAutoCreate({ collection: "limits", id: "refs", data: { text: "hello" } });
  const b = await db.models().openAutoCreate({ collection: "limits", id: "refs", data: { text: "hello" } });
  models.push(a, b);
  const text = a.root().get("text");
  for (const key of ["k1", "k2", "k3"]) {
    const r = text.indexReference(key);
    r.set(1);
    r.share();
  }
  const session = da.session().sessionId();
  const seen = () => ["k1", "k2", "k3"].filter((k) => b.root().get("text").reference(session, k));
  await h.waitFor(() => seen().length === 2, { what: "two of the three references to arrive" });
  await h.sleep(300);
  assert.deepEqual(seen(), ["k1", "k2"], "the third reference was not shared");
  await h.disposeAll(domains.splice(0), models.splice(0));
});

test("failed logins lock a username until the window ends", async () => {
  for (let i = 0; i < 3; i++) {
    await rejectsWith(h.connectPassword(server.url, "dave", "wrong", from("203.0.113.3")), "authentication_failed");
  }
  // Now even the right password is refused, from anywhere.
  await rejectsWith(h.connectPassword(server.url, "dave", "dave-pw", from("203.0.113.4")), "too_many_login_attempts");
  // Another user still logs in.
  const c = await h.connectPassword(server.url, "carol", "carol-pw", from("203.0.113.3"));
  domains.push(c);
  await h.disposeAll(domains.splice(0));
});

test("anonymous logins are limited per address", async () => {
  for (let i = 0; i < 3; i++) {
    const d = await h.connectAnonymously(server.url, `Anon ${i}`, from("198.51.100.7"));
    await h.disposeAll([d]);
  }
  await rejectsWith(h.connectAnonymously(server.url, "Anon 3", from("198.51.100.7")), "too_many_anonymous_logins");
  const d = await h.connectAnonymously(server.url, "Elsewhere", from("198.51.100.8"));
  await h.disposeAll([d]);
});

test("a history request may cover at most max_history_range operations", async () => {
  const d = await h.connectAnonymously(server.url, "Historian", from("203.0.113.5"));
  domains.push(d);
  const m = await d.models().openAutoCreate({ collection: "limits", id: "hist", data: { n: 0 } });
  models.push(m);
  for (let i = 0; i < 10; i++) m.root().get("n").add(1);
  await h.whenCommitted(m);
  const hist = await d.models().history("hist");
  // History opens at the newest version (11): back to 8 takes operations 8..11.
  await hist.playTo(8);
  assert.equal(hist.root().get("n").value(), 7);
  const far = await d.models().history("hist");
  await assert.rejects(far.playTo(1), /at most 5 operations/);
  await h.disposeAll(domains.splice(0), models.splice(0));
});

test("connections in all are limited: the next upgrade is answered 503", async () => {
  // Earlier tests' sockets may still be closing (their disposal is bounded, not awaited to the
  // end): start from a server with none open, or the count below would drift while it runs.
  const openNow = async () => {
    const m = await fetch(`http://127.0.0.1:${server.port}/metrics`).then((r) => r.text());
    return Number(/^tandem_connections_open (\d+)$/m.exec(m)?.[1] ?? NaN);
  };
  for (let i = 0; i < 200 && (await openNow()) !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await openNow(), 0, "earlier tests' connections did not close");
  const open = [];
  try {
    for (;;) {
      const ws = new h.WebSocket(server.url);
      const outcome = await new Promise((resolve) => {
        ws.on("open", () => resolve("open"));
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode));
        ws.on("error", (e) => resolve(e.message));
      });
      if (outcome !== "open") {
        assert.equal(outcome, 503);
        break;
      }
      open.push(ws);
      assert.ok(open.length <= 8, "more than max_connections sockets were accepted");
    }
    assert.ok(open.length > 0);
    const metrics = await fetch(`http://127.0.0.1:${server.port}/metrics`).then((r) => r.text());
    assert.match(metrics, /^tandem_connections_open 8$/m, "refused exactly at max_connections");
  } finally {
    for (const ws of open) ws.terminate();
  }
});
