// Logging in: password, JWT, anonymous, and the two refusals a user can meet.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const jwt = require("jsonwebtoken");
const h = require("./lib/harness");

const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});
const KID = "e2e-key";

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    anonymous: true,
    users: [{ username: "alice", password: "alice-pw", displayName: "Alice A." }],
    jwtKeys: [{ id: KID, publicKeyPem: publicKey }],
  });
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

/** Opens a shared model and checks a value written by one session reaches another. */
async function roundTrip(domain, modelId) {
  const model = await domain.models().openAutoCreate({ collection: "auth", id: modelId, data: { n: 0 } });
  models.push(model);
  model.root().get("n").add(1);
  await h.whenCommitted(model);
  return model;
}

test("password login: session carries the user and can edit", async () => {
  const d = await h.connectPassword(server.url, "alice", "alice-pw");
  domains.push(d);
  assert.equal(d.session().isConnected(), true);
  const user = d.session().user();
  assert.equal(user.username, "alice");
  assert.equal(user.displayName, "Alice A.");
  assert.equal(user.normal, true);
  const model = await roundTrip(d, "auth-password");
  assert.equal(model.root().get("n").value(), 1);
});

test("JWT login: a token signed by a registered RSA key logs its subject in", async () => {
  const token = jwt.sign(
    { firstName: "Jay", lastName: "Dub", displayName: "Jay W.", email: "jay@example.test" },
    privateKey,
    { algorithm: "RS256", keyid: KID, audience: "Convergence", subject: "jay", expiresIn: "1h" },
  );
  const d = await h.connectJwt(server.url, token);
  domains.push(d);
  const user = d.session().user();
  assert.equal(user.username, "jay");
  assert.equal(user.displayName, "Jay W.");
  assert.equal(user.firstName, "Jay");
  assert.equal(user.lastName, "Dub");
  assert.equal(user.email, "jay@example.test");
  const model = await roundTrip(d, "auth-jwt");
  assert.equal(model.root().get("n").value(), 1);
});

test("JWT login: a token signed by an unknown key is refused", async () => {
  const other = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const token = jwt.sign({}, other, {
    algorithm: "RS256",
    keyid: KID,
    audience: "Convergence",
    subject: "mallory",
    expiresIn: "1h",
  });
  await assert.rejects(h.connectJwt(server.url, token), (e) => {
    assert.equal(e.code, "authentication_failed");
    return true;
  });
});

test("anonymous login is allowed when the domain permits it", async () => {
  const d = await h.connectAnonymously(server.url, "Guest");
  domains.push(d);
  const user = d.session().user();
  assert.equal(user.anonymous, true);
  assert.equal(user.displayName, "Guest");
  assert.ok(user.username.length > 0);
  const model = await roundTrip(d, "auth-anonymous");
  assert.equal(model.root().get("n").value(), 1);
});

test("a wrong password is refused with authentication_failed", async () => {
  await assert.rejects(h.connectPassword(server.url, "alice", "not-her-password"), (e) => {
    assert.equal(e.code, "authentication_failed");
    return true;
  });
  await assert.rejects(h.connectPassword(server.url, "nobody", "whatever"), (e) => {
    assert.equal(e.code, "authentication_failed");
    return true;
  });
});

test("anonymous login is refused with anonymous_auth_disabled on a closed domain", async () => {
  const closed = await h.TandemServer.start({
    anonymous: false,
    users: [{ username: "bob", password: "bob-pw" }],
  });
  try {
    await assert.rejects(h.connectAnonymously(closed.url, "Intruder"), (e) => {
      assert.equal(e.code, "anonymous_auth_disabled");
      return true;
    });
    // The same server still admits a real user.
    const d = await h.connectPassword(closed.url, "bob", "bob-pw");
    try {
      assert.equal(d.session().user().username, "bob");
    } finally {
      // Before its server goes, or the client would keep trying to reconnect.
      await h.disposeAll([d]);
    }
  } finally {
    await closed.close();
  }
});

test("a JWT whose sub is too long to be a username is refused, and the store keeps working", async () => {
  // A server of its own: it is restarted, and the other tests' clients stay out of that.
  const own = await h.TandemServer.start({ anonymous: true, jwtKeys: [{ id: KID, publicKeyPem: publicKey }] });
  const mine = [];
  const mineModels = [];
  try {
    const long = "u".repeat(500);
    const token = jwt.sign({}, privateKey, {
      algorithm: "RS256",
      keyid: KID,
      audience: "Convergence",
      subject: long,
      expiresIn: "1h",
    });
    await assert.rejects(h.connectJwt(own.url, token), (e) => {
      assert.equal(e.code, "authentication_failed");
      return true;
    });
    // A long password-login name is an unknown user, not a storage error.
    await assert.rejects(h.connectPassword(own.url, long, "whatever"), (e) => {
      assert.equal(e.code, "authentication_failed");
      return true;
    });
    // Every later write still works: a new anonymous client logs in (its user is stored) and
    // edits; so it does after a restart on the same directory.
    const d = await h.connectAnonymously(own.url, "After");
    const model = await d.models().openAutoCreate({ collection: "auth", id: "after-long-sub", data: { n: 0 } });
    model.root().get("n").add(1);
    await h.whenCommitted(model);
    await h.disposeAll([d], [model]);
    await own.restart();
    const again = await h.connectAnonymously(own.url, "Again");
    mine.push(again);
    const reopened = await again.models().open("after-long-sub");
    mineModels.push(reopened);
    assert.equal(reopened.root().get("n").value(), 1);
    // The CLI refuses such a name with the documented limit.
    await assert.rejects(own.cli("user", "add", ...own.domainArgs(), long, "--password", "pw"), /at most 128 bytes/);
  } finally {
    await h.disposeAll(mine, mineModels);
    await own.close();
  }
});
