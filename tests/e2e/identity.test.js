// Identity as the real client sees it: group memberships set by a JWT's `groups` claim, user
// search, group requests and their errors, the domain admin key (a convergence user that may
// do everything, including open a model nobody else may read), and the domain states:
// maintenance admits only admin-key logins, offline answers as if the domain did not exist.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const jwt = require("jsonwebtoken");
const h = require("./lib/harness");
const wire = require("./lib/wire");
const { assertAnswersAsMissing, assertRejectsWith, rights, RIGHTS } = require("./lib/perms");

const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});
const KID = "identity-key";

const token = (sub, claims = {}) =>
  jwt.sign(claims, privateKey, { algorithm: "RS256", keyid: KID, audience: "Convergence", subject: sub, expiresIn: "1h" });

// Search fixtures: every other user of the domain (the bootstrap admin, the group users, the
// JWT users) has no field containing "zeph" or "search.test".
const PEOPLE = [
  { username: "ada", displayName: "Ada Zephyrine", firstName: "Ada", lastName: "Zephyrine", email: "ada@search.test" },
  { username: "bea", displayName: "B. Quill", firstName: "Bea", lastName: "Quill", email: "bea@search.test" },
  { username: "cyd", displayName: "Cyd Z.", firstName: "Cyd", lastName: "Zephyr", email: "cyd@elsewhere.test" },
  { username: "dov", displayName: "Dov", firstName: "Dov", lastName: "Marsh", email: "zephyr.fan@search.test" },
].map((p) => ({ ...p, password: `${p.username}-pw` }));

const GROUPS = [
  { id: "editors", description: "They edit", members: ["alice", "jay"] },
  { id: "reviewers", description: "They review", members: ["jay"] },
  { id: "staff", description: "Everyone on staff", members: ["alice"] },
];

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({
    users: [...PEOPLE, { username: "alice", password: "alice-pw" }, { username: "jay", password: "jay-pw" }, { username: "bob", password: "bob-pw" }],
    groups: GROUPS,
    collections: [{ id: "private", world: "none", users: { bob: "create" } }],
    jwtKeys: [{ id: KID, publicKeyPem: publicKey }],
    adminTokens: ["root"],
  });
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

async function login(username) {
  const d = await h.connectPassword(server.url, username, `${username}-pw`);
  domains.push(d);
  return d;
}

async function jwtLogin(sub, claims) {
  const d = await h.connectJwt(server.url, token(sub, claims));
  domains.push(d);
  return d;
}

/** The reference search: normal users with a field containing the term (any case). */
function expectedSearch(users, { fields, term, orderBy = { field: "username", ascending: true }, offset = 0, limit }) {
  const t = term.toLowerCase();
  const found = users.filter((u) => fields.some((f) => (u[f] || "").toLowerCase().includes(t)));
  const sign = orderBy.ascending ? 1 : -1;
  found.sort((a, b) => (a[orderBy.field] < b[orderBy.field] ? -sign : a[orderBy.field] > b[orderBy.field] ? sign : 0));
  return found.slice(offset, limit === undefined ? undefined : offset + limit).map((u) => u.username);
}

const sorted = (a) => [...a].sort();
// rc.12 decodes an empty repeated field as absent: a user in no group has `undefined` groups.
const groupList = (groups) => (groups === undefined ? [] : groups);

test("user search: fields, any case, ordering, offset and limit, with the users' profiles", async () => {
  const d = await login("alice");
  const queries = [
    { fields: ["lastName"], term: "zeph" },
    { fields: ["email", "displayName"], term: "ZEPH" },
    { fields: ["email"], term: "search.test", orderBy: { field: "firstName", ascending: false }, offset: 1, limit: 2 },
    { fields: ["email"], term: "search.test", orderBy: { field: "lastName", ascending: true } },
    { fields: ["username", "firstName", "lastName", "displayName", "email"], term: "no-one-has-this" },
  ];
  for (const q of queries) {
    const found = await d.identity().search(q);
    assert.deepEqual(found.map((u) => u.username), expectedSearch(PEOPLE, q), `search ${JSON.stringify(q)}`);
    for (const u of found) {
      const p = PEOPLE.find((x) => x.username === u.username);
      assert.deepEqual(
        { displayName: u.displayName, firstName: u.firstName, lastName: u.lastName, email: u.email, normal: u.normal },
        { displayName: p.displayName, firstName: p.firstName, lastName: p.lastName, email: p.email, normal: true },
      );
    }
  }
});

test("groups requests: groups with members, and group_not_found / user_not_found for unknown ids", async () => {
  const d = await login("bob");
  const groups = await d.identity().groups(GROUPS.map((g) => g.id));
  assert.deepEqual(
    groups.map((g) => ({ id: g.id, description: g.description, members: sorted(g.members) })),
    GROUPS.map((g) => ({ id: g.id, description: g.description, members: sorted(g.members) })),
  );
  const one = await d.identity().group("staff");
  assert.deepEqual(one.members, ["alice"]);
  let err = await assertRejectsWith(d.identity().group("no-such-group"), "group_not_found", "unknown group");
  assert.deepEqual(err.details, { id: "no-such-group" });
  err = await assertRejectsWith(d.identity().groups(["editors", "no-such-group"]), "group_not_found", "one unknown group among known ones");

  const forUsers = await d.identity().groupsForUsers(["alice", "bob"]);
  assert.deepEqual(sorted(Object.keys(forUsers)), ["alice", "bob"]);
  assert.deepEqual(sorted(forUsers.alice), ["editors", "staff"]);
  assert.deepEqual(groupList(forUsers.bob), []);
  await assertRejectsWith(d.identity().groupsForUser("nobody-here"), "user_not_found", "unknown user");
  await assertRejectsWith(d.identity().groupsForUsers(["alice", "nobody-here"]), "user_not_found", "one unknown user among known ones");
});

test("a JWT's groups claim sets the user's memberships to exactly the listed groups that exist", async () => {
  const observer = await login("bob");
  const groupsOf = async (u) => sorted(groupList(await observer.identity().groupsForUser(u)));
  assert.deepEqual(await groupsOf("jay"), ["editors", "reviewers"]);

  // Listed: staff and reviewers (and a group that does not exist, ignored); editors is dropped.
  await jwtLogin("jay", { groups: ["staff", "reviewers", "no-such-group"] });
  assert.deepEqual(await groupsOf("jay"), ["reviewers", "staff"]);
  const editors = await observer.identity().group("editors");
  assert.deepEqual(editors.members, ["alice"], "jay left editors, alice stayed");
  assert.deepEqual(sorted((await observer.identity().group("staff")).members), ["alice", "jay"]);

  // Without the claim the memberships stay; with an empty list they all go.
  await jwtLogin("jay", { displayName: "Jay" });
  assert.deepEqual(await groupsOf("jay"), ["reviewers", "staff"]);
  await jwtLogin("jay", { groups: [] });
  assert.deepEqual(await groupsOf("jay"), []);

  // A user created by its first JWT login joins the listed groups.
  const fresh = await jwtLogin("newcomer", { groups: ["editors"], email: "new@example.test" });
  assert.equal(fresh.session().user().email, "new@example.test");
  assert.deepEqual(await groupsOf("newcomer"), ["editors"]);
  assert.deepEqual(sorted((await observer.identity().group("editors")).members), ["alice", "newcomer"]);
});

test("an admin-key JWT logs in a convergence user who may do everything, where nobody else may read", async () => {
  const admin = await h.connectJwt(server.url, server.adminTokens.root);
  domains.push(admin);
  const user = admin.session().user();
  assert.equal(user.username, "root");
  assert.equal(user.convergence, true);

  // bob makes a model in a collection nobody reads, with no world and no other entries.
  const bob = await login("bob");
  const id = await bob.models().create({
    collection: "private",
    id: "bobs-secret",
    data: { text: "secret" },
    overrideCollectionWorldPermissions: true,
    worldPermissions: rights([]),
  });
  const alice = await login("alice");
  await assertAnswersAsMissing((x) => alice.models().open(x), id, "alice opens bob's model");

  // The admin opens, edits, reads the history and the permissions, manages, and deletes it.
  const m = await admin.models().open(id);
  assert.deepEqual(rights(m.permissions()), rights(RIGHTS));
  m.root().get("text").insert(0, "admin was here: ");
  await h.whenCommitted(m);
  assert.deepEqual(await server.dump(id), { text: "admin was here: secret" });
  const hist = await admin.models().history(id);
  assert.equal(hist.version(), 2);
  await admin.models().permissions(id).setUserPermissions("alice", rights(["read"]));
  const aliceModel = await alice.models().open(id);
  models.push(aliceModel);
  assert.deepEqual(rights(aliceModel.permissions()), rights(["read"]));
  await aliceModel.close();
  await m.close();
  // A model the admin creates with no permissions for anyone is still its to delete.
  await admin.models().create({ collection: "private", id: "admins-own", data: {}, overrideCollectionWorldPermissions: true, worldPermissions: rights([]) });
  await assertAnswersAsMissing((x) => bob.models().open(x), "admins-own", "bob opens the admin's model");
  await admin.models().remove(id);
  await admin.models().remove("admins-own");
  await assertRejectsWith(bob.models().open(id), "model_not_found", "bob opens his deleted model");

  // A token that was not signed with the admin key is refused like any bad token.
  const [head, body] = server.adminTokens.root.split(".");
  const forged = `${head}.${body}.${Buffer.from("not a signature").toString("base64url")}`;
  await assertRejectsWith(h.connectJwt(server.url, forged), "authentication_failed", "forged admin token");
});

test("maintenance admits only admin-key logins (domain_unavailable otherwise); offline answers domain_not_found", async () => {
  const own = await h.TandemServer.start({
    anonymous: true,
    users: [{ username: "carl", password: "carl-pw" }],
    jwtKeys: [{ id: KID, publicKeyPem: publicKey }],
  });
  const mine = [];
  try {
    // Reconnect tokens of a normal user and of a convergence user, from logins while online.
    const normal = await wire.RawClient.connect(own.url, { password: { username: "carl", password: "carl-pw" } });
    normal.close();
    let adminToken = await own.whileStopped((s) => s.adminToken("maint"));
    const adminRaw = await wire.RawClient.connect(own.url, { jwt: { jwt: adminToken } });
    adminRaw.close();
    const pre = await h.connectPassword(own.url, "carl", "carl-pw");
    const m = await pre.models().openAutoCreate({ collection: "notes", id: "note", data: { n: 0 } });
    m.root().get("n").add(1);
    await h.whenCommitted(m);
    await h.disposeAll([pre], [m]);

    adminToken = await own.whileStopped(async (s) => {
      await s.setDomainConfig({ state: "maintenance" });
      assert.equal((await s.domainSettings()).state, "maintenance");
      return s.adminToken("maint");
    });
    await assertRejectsWith(h.connectPassword(own.url, "carl", "carl-pw"), "domain_unavailable", "password login in maintenance");
    await assertRejectsWith(h.connectAnonymously(own.url, "Guest"), "domain_unavailable", "anonymous login in maintenance");
    await assertRejectsWith(h.connectJwt(own.url, token("carl")), "domain_unavailable", "JWT login in maintenance");
    await assertRejectsWith(
      wire.RawClient.connect(own.url, { reconnect: { token: normal.session.reconnectToken } }),
      "domain_unavailable",
      "a normal user's reconnect token in maintenance",
    );
    const back = await wire.RawClient.connect(own.url, { reconnect: { token: adminRaw.session.reconnectToken } });
    assert.equal(back.session.user.userId.userType, 1, "the convergence user's reconnect token is taken");
    back.close();
    const admin = await h.connectJwt(own.url, adminToken);
    mine.push(admin);
    assert.equal(admin.session().user().convergence, true);
    const am = await admin.models().open("note");
    assert.equal(am.root().get("n").value(), 1);
    am.root().get("n").add(1);
    await h.whenCommitted(am);
    await h.disposeAll(mine.splice(0), [am]);

    adminToken = await own.whileStopped(async (s) => {
      await s.setDomainConfig({ state: "offline" });
      return s.adminToken("maint");
    });
    await assertRejectsWith(h.connectPassword(own.url, "carl", "carl-pw"), "domain_not_found", "password login offline");
    await assertRejectsWith(h.connectJwt(own.url, adminToken), "domain_not_found", "admin-key login offline");
    await assertRejectsWith(h.connectAnonymously(own.url, "Guest"), "domain_not_found", "anonymous login offline");

    await own.whileStopped((s) => s.setDomainConfig({ state: "online" }));
    const again = await h.connectPassword(own.url, "carl", "carl-pw");
    mine.push(again);
    const back2 = await again.models().open("note");
    assert.equal(back2.root().get("n").value(), 2, "the admin's edit in maintenance was kept");
    await back2.close();
  } finally {
    await h.disposeAll(mine);
    await own.close();
  }
});
