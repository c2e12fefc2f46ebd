// The admin console (/admin) in headless Chromium against a real tandem process, with real
// Convergence clients (@convergence/convergence 1.0.0-rc.12) editing, chatting and joining
// activities in this process. Every assertion is on what the page shows. A PNG of every page
// goes to $CONSOLE_SHOTS (default: tests/console/screenshots/).

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { promisify } = require("node:util");
const { chromium } = require("playwright-core");
const h = require("../e2e/lib/harness.js");

const BROWSER = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = path.resolve(process.env.CONSOLE_SHOTS || path.join(__dirname, "screenshots"));
const ADMIN = "root";
const ADMIN_PASSWORD = "console-test-password";
const USERS = [
  { username: "alice", password: "alice-pw" },
  { username: "bob", password: "bob-pw" },
];

let server;
let browser;
let page;
let base;
let token;
const domains = [];
const models = [];
const pageErrors = [];
let shotNumber = 0;

/** Saves a full-page PNG of what the browser shows, numbered in test order. */
async function shot(name) {
  shotNumber += 1;
  const file = path.join(SHOTS, `${String(shotNumber).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

const tid = (id) => page.getByTestId(id, { exact: true });

async function textOf(id) {
  return (await tid(id).textContent({ timeout: 5000 })) ?? "";
}

/** Waits until the element `id` shows text for which `pred` holds; answers that text. */
async function waitText(id, pred, what, timeoutMs = 15000) {
  let last = "";
  await h.waitFor(
    async () => {
      last = await tid(id)
        .textContent({ timeout: 1000 })
        .catch(() => "");
      return pred(last ?? "");
    },
    {
      timeoutMs,
      what: `${what} (in [data-testid=${id}])`,
      describe: () => `  last text: ${JSON.stringify(last)}`,
      intervalMs: 100,
    },
  );
  return last;
}

async function visible(id, timeout = 15000) {
  await tid(id).waitFor({ state: "visible", timeout });
}

async function gone(id, timeout = 15000) {
  await tid(id).waitFor({ state: "detached", timeout });
}

/** Clicks a delete/disconnect button and confirms in the page's dialog. */
async function confirmClick(id) {
  await tid(id).click();
  await visible("confirm-dialog");
  await tid("confirm-ok").click();
  await gone("confirm-dialog");
}

function rest(method, p, body) {
  return fetch(`${base}/api/v1${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: r.status === 204 ? null : await r.json() }));
}

const dp = (p) => `/domains/${server.namespace}/${server.domain}${p}`;
const domainHash = (section) => `#/d/${server.namespace}/${server.domain}/${section}`;

async function go(hash) {
  await page.goto(`${base}/admin${hash}`);
}

async function connect(user) {
  const d = await h.connectPassword(server.url, user, USERS.find((u) => u.username === user).password);
  domains.push(d);
  return d;
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const f of fs.readdirSync(SHOTS)) if (f.endsWith(".png")) fs.rmSync(path.join(SHOTS, f));
  server = new h.TandemServer({
    namespace: "console",
    domain: "main",
    users: USERS,
    collections: [{ id: "docs", world: "read,write,create,remove" }],
  });
  await server.prepare();
  await server.cli("permissions", "add", ...server.domainArgs(), "global", "--user", "alice=create_chat");
  // The administrator, as an operator adds one (the password through the environment).
  await promisify(execFile)(server.bin, ["admin", "add", "--data-dir", server.dataDir, ADMIN], {
    env: { ...process.env, TANDEM_PASSWORD: ADMIN_PASSWORD, RUST_LOG: "warn" },
  });
  await server.spawn();
  base = `http://127.0.0.1:${server.port}`;
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    body: JSON.stringify({ username: ADMIN, password: ADMIN_PASSWORD }),
  });
  token = (await login.json()).token;
  browser = await chromium.launch({
    executablePath: BROWSER,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => pageErrors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) pageErrors.push(`CSP: ${m.text()}`);
  });
});

after(async () => {
  await h.disposeAll(domains, models);
  if (browser) await browser.close();
  if (server) await server.close();
});

test("the console's files are served with their types, no-cache and a strict policy", async () => {
  const res = await fetch(`${base}/admin`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/html/);
  assert.equal(res.headers.get("cache-control"), "no-cache");
  assert.match(res.headers.get("content-security-policy"), /^default-src 'self'/);
  assert.equal((await fetch(`${base}/admin/console.js`)).headers.get("content-type").split(";")[0], "text/javascript");
  assert.equal((await fetch(`${base}/admin/console.css`)).headers.get("content-type").split(";")[0], "text/css");
  assert.equal((await fetch(`${base}/admin/nothing.js`)).status, 404);
});

test("log in: a wrong password is refused with the server's message, the right one opens the domains", async () => {
  await go("");
  await visible("login-form");
  await shot("login");
  await tid("login-username").fill(ADMIN);
  await tid("login-password").fill("not-the-password");
  await tid("login-submit").click();
  const refused = await waitText("login-error", (t) => t.length > 0, "the refusal");
  assert.match(refused, /Login refused/);
  assert.equal(await page.locator("#app").isHidden(), true);
  await shot("login-refused");

  await tid("login-password").fill(ADMIN_PASSWORD);
  await tid("login-submit").click();
  await waitText("page-title", (t) => t === "Domains", "the domains page");
  await visible("domain-row-console/main");
  assert.match(await textOf("whoami"), /root/);
  await shot("domains");
});

test("create a domain, a user, a group, a JWT key and a collection with permissions", async () => {
  // A domain, from the domains page; it shows in the table and in the domain picker.
  await go("#/domains");
  await tid("domain-create-namespace").fill("acme");
  await tid("domain-create-id").fill("crm");
  await tid("domain-create-submit").click();
  await visible("domain-row-acme/crm");
  await waitText("notice", (t) => t.includes("Created domain acme/crm"), "the notice");
  await h.waitFor(async () => (await tid("domain-picker").textContent()).includes("acme/crm"), {
    what: "acme/crm in the picker",
  });
  // Creating it twice shows the server's error next to the form.
  await tid("domain-create-id").fill("crm");
  await tid("domain-create-submit").click();
  await waitText("domain-create-error", (t) => /already/i.test(t), "the duplicate's error");

  // Search narrows the list through the `filter` parameter.
  await tid("domains-search").fill("acm");
  await h.waitFor(async () => (await tid("domain-row-console/main").count()) === 0, { what: "console/main filtered out" });
  await visible("domain-row-acme/crm");
  await tid("domains-search").fill("");
  await visible("domain-row-console/main");

  // Its settings, as a form; saved, read back after a reload.
  await tid("domain-settings-acme/crm").click();
  await visible("settings-anonymous");
  await tid("settings-anonymous").check();
  await tid("settings-auto-create").uncheck();
  await tid("settings-reconnect-minutes").fill("90");
  await tid("settings-default-world-remove").uncheck();
  await tid("settings-default-world-manage").uncheck();
  await tid("settings-snapshot-custom").check();
  await tid("settings-snapshot-max_version_interval").fill("250");
  await tid("settings-state").selectOption("maintenance");
  await tid("settings-submit").click();
  await waitText("notice", (t) => t.includes("Settings saved"), "the saved notice");
  await page.reload();
  await h.waitFor(async () => (await tid("settings-reconnect-minutes").inputValue()) === "90", { what: "the saved lifetime" });
  assert.equal(await tid("settings-anonymous").isChecked(), true);
  assert.equal(await tid("settings-auto-create").isChecked(), false);
  assert.equal(await tid("settings-default-world-remove").isChecked(), false);
  assert.equal(await tid("settings-state").inputValue(), "maintenance");
  assert.equal(await tid("settings-snapshot-max_version_interval").inputValue(), "250");
  const settings = await rest("GET", "/domains/acme/crm/settings");
  assert.deepEqual(settings.body.default_collection_world, ["create", "read", "write"]);
  assert.equal(settings.body.snapshot_policy.max_version_interval, 250);
  await shot("domain-settings");

  // A user, from the users page of the picked domain.
  await tid("nav-users").click();
  await waitText("page-title", (t) => t === "Users", "the users page");
  await tid("user-create-username").fill("carol");
  await tid("user-create-password").fill("carol-pw");
  await tid("user-create-display-name").fill("Carol Danvers");
  await tid("user-create-email").fill("carol@example.com");
  await tid("user-create-submit").click();
  await visible("user-row-carol");
  assert.match(await tid("user-row-carol").textContent(), /Carol Danvers/);
  await tid("user-create-username").fill("dan");
  await tid("user-create-submit").click();
  await visible("user-row-dan");
  await confirmClick("user-delete-dan");
  await gone("user-row-dan");
  await tid("user-create-username").fill("dan");
  await tid("user-create-submit").click();
  await visible("user-row-dan");
  await shot("users");

  // One user's page: profile, disabled, password.
  await tid("user-open-carol").click();
  await waitText("page-title", (t) => t === "carol", "carol's page");
  await h.waitFor(async () => (await tid("user-edit-display-name").inputValue()) === "Carol Danvers", {
    what: "the profile filled in",
  });
  await tid("user-edit-display-name").fill("Captain Carol");
  await tid("user-edit-disabled").check();
  await tid("user-edit-submit").click();
  await waitText("user-summary", (t) => t.includes("disabled"), "carol disabled");
  await tid("user-password").fill("a-new-password");
  await tid("user-password-form-submit").click();
  await waitText("notice", (t) => t.includes("Set the password of carol"), "the password notice");
  const carol = await rest("GET", "/domains/acme/crm/users/carol");
  assert.equal(carol.body.display_name, "Captain Carol");
  assert.equal(carol.body.disabled, true);
  await shot("user");
  await tid("crumb-users").click();
  await visible("user-row-carol");
  assert.match(await tid("user-row-carol").textContent(), /Captain Carol.*disabled/);

  // A group with carol in it; its members page.
  await tid("nav-groups").click();
  await tid("group-create-id").fill("editors");
  await tid("group-create-description").fill("People who edit");
  await tid("group-create-members").fill("carol");
  await tid("group-create-submit").click();
  await visible("group-row-editors");
  await shot("groups");
  await tid("group-open-editors").click();
  await visible("group-member-row-carol");
  await tid("group-member-add-name").fill("dan");
  await tid("group-member-add-submit").click();
  await visible("group-member-row-dan");
  await confirmClick("group-member-remove-dan");
  await gone("group-member-row-dan");
  await shot("group-members");

  // The domain's permission rows (chats and activities): the world and a group.
  await tid("nav-permissions").click();
  await waitText("page-title", (t) => t === "Domain permissions", "the permissions page");
  await tid("domain-perm-world-join_chat").check();
  await tid("domain-perm-world-submit").click();
  await waitText("notice", (t) => t.includes("Saved the world's permissions"), "the saved notice");
  await tid("domain-perm-grant-kind").selectOption("group");
  await tid("domain-perm-grant-name").fill("editors");
  await tid("domain-perm-grant-join").check();
  await tid("domain-perm-grant-create_chat").check();
  await tid("domain-perm-grant-submit").click();
  await visible("domain-perm-row-group:editors");
  const rows = await rest("GET", "/domains/acme/crm/permissions");
  assert.deepEqual(rows.body.world, ["join_chat"]);
  assert.deepEqual(rows.body.groups, [["editors", ["create_chat", "join"]]]);
  await shot("domain-permissions");

  // A JWT key.
  await tid("nav-jwt-keys").click();
  const { publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  await tid("jwt-create-id").fill("app-key");
  await tid("jwt-create-description").fill("The app's login key");
  await tid("jwt-create-pem").fill(publicKey.export({ type: "spki", format: "pem" }));
  await tid("jwt-create-submit").click();
  await visible("jwt-row-app-key");
  await shot("jwt-keys");

  // A collection whose world may only read and create.
  await tid("nav-collections").click();
  await tid("collection-create-id").fill("contacts");
  await tid("collection-create-submit").click();
  await waitText("page-title", (t) => t === "contacts", "the collection's page");
  await visible("collection-world-read");
  for (const r of ["write", "remove", "manage"]) await tid(`collection-world-${r}`).uncheck();
  await tid("collection-world-read").check();
  await tid("collection-world-create").check();
  await tid("collection-world-submit").click();
  await waitText("notice", (t) => t.includes("Saved the permissions of contacts"), "the saved notice");
  await page.reload();
  await visible("collection-world-read");
  await h.waitFor(
    async () => (await tid("collection-world-read").isChecked()) && !(await tid("collection-world-write").isChecked()),
    { what: "the saved rights after a reload" },
  );
  // Carol's own entry on it.
  await tid("collection-user-name").fill("carol");
  await tid("collection-user-write").check();
  await tid("collection-user-submit").click();
  await visible("collection-user-row-carol");
  const perms = await rest("GET", "/domains/acme/crm/collections/contacts/permissions");
  assert.deepEqual(perms.body.world, { create: true, read: true, write: false, remove: false, manage: false });
  assert.deepEqual(perms.body.users, [
    [
      { kind: "normal", name: "carol" },
      { create: false, read: true, write: true, remove: false, manage: false },
    ],
  ]);
  await shot("collection-permissions");
  await tid("crumb-collections").click();
  await visible("collection-row-contacts");
  await shot("collections");

  // Deleting the domain asks first, then it is gone from the table and the picker.
  await tid("nav-domains").click();
  await tid("domain-delete-acme/crm").click();
  await visible("confirm-dialog");
  assert.match(await textOf("confirm-message"), /acme\/crm/);
  await tid("confirm-cancel").click();
  await visible("domain-row-acme/crm");
  await confirmClick("domain-delete-acme/crm");
  await gone("domain-row-acme/crm");
  await h.waitFor(async () => !(await tid("domain-picker").textContent()).includes("acme/crm"), {
    what: "acme/crm gone from the picker",
  });
});

let alice;
let bob;
let aliceModel;
let bobModel;

test("a model two real clients are editing: the page's version advances while they type", async () => {
  alice = await connect("alice");
  bob = await connect("bob");
  aliceModel = await alice.models().openAutoCreate({ collection: "docs", id: "live-doc", data: { text: "" } });
  models.push(aliceModel);
  bobModel = await bob.models().open("live-doc");
  models.push(bobModel);

  await go(domainHash("models"));
  await visible("model-row-live-doc");
  await shot("models");
  await tid("model-open-live-doc").click();
  await waitText("page-title", (t) => t === "live-doc", "the model's page");
  await h
    .waitFor(async () => (await tid("live-status").getAttribute("data-state")) === "on", {
      what: "the live event stream",
      describe: () => "",
    })
    .catch(async (e) => {
      throw new Error(`${e.message}; the page says: ${await textOf("live-status")}`);
    });
  const before = Number(await waitText("model-version", (t) => /^\d+$/.test(t), "a version"));

  // Both clients type, a character each every 30 ms, while the page watches.
  let typing = true;
  let typed = 0;
  const typer = (model, letter) =>
    (async () => {
      while (typing) {
        const s = model.root().get("text");
        s.insert(Math.floor(Math.random() * (s.length() + 1)), letter);
        typed += 1;
        await h.sleep(30);
      }
    })();
  const loops = [typer(aliceModel, "a"), typer(bobModel, "b")];
  const seenVersions = new Set();
  try {
    await h.waitFor(
      async () => {
        const v = Number(await textOf("model-version"));
        seenVersions.add(v);
        return v >= before + 40 && seenVersions.size >= 4;
      },
      {
        timeoutMs: 30000,
        what: "the page's version to advance in several steps",
        describe: () => `  versions seen: ${[...seenVersions].join(", ")}`,
        intervalMs: 50,
      },
    );
    assert.ok(Number(await textOf("model-ops-seen")) > 0, "operations arrived on the live stream");
    await shot("model-live");
  } finally {
    typing = false;
    await Promise.all(loops);
  }
  const version = await h.waitConverged([aliceModel, bobModel]);
  await waitText("model-version", (t) => Number(t) === version, `the page at the clients' version ${version}`);
  const shown = JSON.parse(await textOf("model-json"));
  assert.deepEqual(shown, aliceModel.root().value());
  assert.ok(shown.text.includes("a") && shown.text.includes("b"), "both clients' letters are shown");
  assert.ok(typed > 0);
});

test("step through the model's history version by version", async () => {
  // The clients' edits make the history (a few more, so this test stands on its own).
  for (let i = 0; i < 12; i++) {
    const [m, letter] = i % 2 ? [bobModel, "y"] : [aliceModel, "x"];
    m.root().get("text").insert(0, letter);
    await h.sleep(20);
  }
  await h.waitConverged([aliceModel, bobModel]);
  await go(domainHash("models/live-doc"));
  await tid("model-tab-history").click();
  const max = Number(await waitText("history-max-version", (t) => /^\d+$/.test(t), "the newest version"));
  assert.equal(max, aliceModel.version());
  await waitText("history-shown-version", (t) => Number(t) === max, "the newest version shown first");

  await tid("history-first").click();
  await waitText("history-shown-version", (t) => t === "1", "version 1");
  assert.deepEqual(JSON.parse(await textOf("history-json")), { text: "" });
  assert.match(await textOf("history-op-note"), /creation/);
  assert.equal(await tid("history-prev").isDisabled(), true);

  await tid("history-next").click();
  await waitText("history-shown-version", (t) => t === "2", "version 2");
  const v2 = JSON.parse(await textOf("history-json"));
  assert.equal(v2.text.length, 1, "one character typed at version 2");
  assert.match(await textOf("history-op"), /StringInsert|insert/i);
  await shot("model-history");

  await tid("history-version").fill("10");
  await tid("history-version").press("Enter");
  await waitText("history-shown-version", (t) => t === "10", "version 10");
  const atTen = await rest("GET", dp("/models/live-doc?version=10"));
  assert.deepEqual(JSON.parse(await textOf("history-json")), atTen.body.data);
  assert.notDeepEqual(atTen.body.data, v2);
  const op10 = await rest("GET", dp("/models/live-doc/history?first=10&last=10"));
  assert.deepEqual(JSON.parse(await textOf("history-op")), op10.body[0].operation);

  await tid("history-prev").click();
  await waitText("history-shown-version", (t) => t === "9", "version 9");
  await tid("history-last").click();
  await waitText("history-shown-version", (t) => Number(t) === max, "the newest version");
  assert.deepEqual(JSON.parse(await textOf("history-json")), aliceModel.root().value());
  assert.equal(await tid("history-next").isDisabled(), true);
});

test("a model's permissions: world rights and a user's entry", async () => {
  await tid("model-tab-permissions").click();
  await visible("perm-override");
  await tid("perm-user-name").fill("bob");
  await tid("perm-user-read").check();
  await tid("perm-user-write").uncheck();
  await tid("perm-user-submit").click();
  await visible("perm-user-row-bob");
  assert.match(await tid("perm-user-row-bob").textContent(), /read/);
  await tid("perm-override").check();
  await tid("perm-world-read").check();
  await tid("perm-world-write").check();
  await tid("perm-world-submit").click();
  await waitText("notice", (t) => t.includes("world permissions"), "the saved notice");
  const p = await rest("GET", dp("/models/live-doc/permissions"));
  assert.equal(p.body.override_world, true);
  assert.deepEqual(p.body.world, { read: true, write: true, remove: false, manage: false });
  const entry = p.body.users.find(([u]) => u.kind === "normal" && u.name === "bob");
  assert.deepEqual(entry, [
    { kind: "normal", name: "bob" },
    { read: true, write: false, remove: false, manage: false },
  ]);
  await shot("model-permissions");
});

test("disconnect a session: the client reconnects and its new session appears in the list", async () => {
  await go(domainHash("sessions"));
  await waitText("page-title", (t) => t === "Sessions", "the sessions page");
  const oldSession = alice.session().sessionId();
  await visible(`session-row-${oldSession}`);
  await visible(`session-row-${bob.session().sessionId()}`);
  assert.match(await tid(`session-row-${oldSession}`).textContent(), /alice/);
  await h.waitFor(async () => (await tid("live-status").getAttribute("data-state")) === "on", { what: "the live event stream" });
  await shot("sessions");

  await confirmClick(`session-disconnect-${oldSession}`);
  const newSession = await h.waitFor(
    () => {
      const s = alice.session().sessionId();
      return alice.session().isConnected() && s && s !== oldSession ? s : null;
    },
    { timeoutMs: 30000, what: "alice's client to reconnect with a new session" },
  );
  // The list follows by itself (the events stream), no reload.
  await visible(`session-row-${newSession}`, 20000);
  await gone(`session-row-${oldSession}`, 20000);
  assert.match(await tid(`session-row-${newSession}`).textContent(), /alice/);
  await shot("sessions-after-disconnect");
  // Her model came back and still edits.
  await h.waitFor(() => aliceModel.isOpen(), { what: "alice's model open again" });
});

test("register a webhook, see its secret once, and its deliveries in the page", async () => {
  const received = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ url: req.url, headers: req.headers, body });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${receiver.address().port}/hook`;
    await go(domainHash("webhooks"));
    await waitText("page-title", (t) => t === "Webhooks", "the webhooks page");
    await tid("webhook-url").fill(url);
    await tid("webhook-event-chat.message").uncheck();
    await tid("webhook-create-submit").click();
    const secret = await waitText("webhook-secret", (t) => t.length >= 16, "the secret");
    await shot("webhook-registered");
    const list = await rest("GET", dp("/webhooks"));
    const hook = list.body.items.find((w) => w.url === url);
    assert.ok(hook, "the webhook is registered");
    assert.deepEqual([...hook.events].sort(), ["model.created", "model.deleted", "model.last_session_left"]);
    assert.equal(hook.secret, undefined, "the list never shows the secret");
    await visible(`webhook-row-${hook.id}`);

    // Something to deliver: a model created and deleted over REST.
    assert.equal((await rest("POST", dp("/models"), { collection: "docs", id: "hooked", data: { n: 1 } })).status, 201);
    assert.equal((await rest("DELETE", dp("/models/hooked"))).status, 204);

    await tid(`webhook-open-${hook.id}`).click();
    await waitText("page-title", (t) => t === `Webhook ${hook.id}`, "the deliveries page");
    await h.waitFor(
      async () =>
        (await page.locator('[data-testid^="delivery-status-"]').allTextContents()).filter((t) => t === "delivered").length >= 2,
      {
        timeoutMs: 30000,
        what: "two delivered rows in the deliveries table",
        intervalMs: 200,
      },
    );
    const rows = await page.locator('[data-testid^="delivery-row-"]').allTextContents();
    assert.ok(rows.some((r) => r.includes("model.created")) && rows.some((r) => r.includes("model.deleted")), rows.join("\n"));
    assert.ok(received.length >= 2, "the receiver got the deliveries");
    const attempts = await page.locator('[data-testid^="delivery-last-status-"]').allTextContents();
    assert.ok(attempts.includes("200"), `last status 200 shown: ${attempts}`);
    assert.ok(secret.length > 0);
    await shot("webhook-deliveries");

    await tid("crumb-webhooks").click();
    await confirmClick(`webhook-delete-${hook.id}`);
    await gone(`webhook-row-${hook.id}`);
  } finally {
    receiver.close();
  }
});

test("chats: the list, a chat's events, and a message posted from the page reaches a client", async () => {
  await alice.chat().create({ id: "general", type: "channel", membership: "public", name: "General", topic: "Anything goes" });
  const chat = await alice
    .chat()
    .join("general")
    .catch(() => alice.chat().get("general"));
  await chat.send("hello from alice");
  const got = [];
  alice.chat().on("message", (e) => got.push(e.message));

  await go(domainHash("chats"));
  await visible("chat-row-general");
  assert.match(await tid("chat-row-general").textContent(), /General/);
  await shot("chats");
  await tid("chat-open-general").click();
  await h.waitFor(async () => (await tid("chat-events").textContent()).includes("hello from alice"), {
    what: "alice's message in the events",
  });
  await tid("chat-message").fill("hello from the console");
  await tid("chat-post-submit").click();
  await h.waitFor(async () => (await tid("chat-events").textContent()).includes("hello from the console"), {
    what: "the posted message in the events",
  });
  await h.waitFor(() => got.includes("hello from the console"), { what: "alice to receive the console's message" });
  // The chat's own permission rows: bob may join it.
  await tid("chat-perm-grant-name").fill("bob");
  await tid("chat-perm-grant-join_chat").check();
  await tid("chat-perm-grant-submit").click();
  await visible("chat-perm-row-user:bob");
  const chatRows = await rest("GET", dp("/chats/general/permissions"));
  assert.ok(
    chatRows.body.users.some(([u, p]) => u.name === "bob" && p.includes("join_chat")),
    JSON.stringify(chatRows.body),
  );
  await shot("chat");

  // A channel made from the page, then removed.
  await tid("crumb-chats").click();
  await tid("chat-create-id").fill("made-here");
  await tid("chat-create-name").fill("Made here");
  await tid("chat-create-members").fill("alice, bob");
  await tid("chat-create-submit").click();
  await visible("chat-row-made-here");
  assert.match(await tid("chat-row-made-here").textContent(), /Made here/);
  await h.waitFor(async () => (await alice.chat().joined()).some((c) => c.chatId === "made-here"), {
    what: "alice a member of the new channel",
  });
  await confirmClick("chat-delete-made-here");
  await gone("chat-row-made-here");
});

test("activities: the list and an activity's participants", async () => {
  const activity = await bob.activities().join("board", "b1", {
    state: { pointer: [1, 2] },
    autoCreate: { ephemeral: true, worldPermissions: ["join", "view_state", "set_state"] },
  });
  await go(domainHash("activities"));
  await visible("activity-row-board/b1");
  await shot("activities");
  await tid("activity-open-board/b1").click();
  await visible(`participant-row-${bob.session().sessionId()}`);
  assert.match(await tid(`participant-row-${bob.session().sessionId()}`).textContent(), /bob/);
  await shot("activity");
  activity.leave();
});

test("server health and metrics in a readable table", async () => {
  await tid("nav-server").click();
  await waitText("health-status", (t) => t === "ok", "health ok");
  await visible("metric-row-tandem_connections_open");
  const open = Number((await textOf("metric-value-tandem_connections_open")).replace(/\D/g, ""));
  assert.ok(open >= 2, `open connections shown: ${open}`);
  await shot("server");
  await tid("metrics-search").fill("models_loaded");
  await h.waitFor(async () => (await tid("metric-row-tandem_connections_open").count()) === 0, {
    what: "the search to narrow the metrics",
  });
  await visible("metric-row-tandem_models_loaded");
});

test("a refused token anywhere sends the page back to the login with a message", async () => {
  await go(domainHash("users"));
  await visible("user-row-alice");
  await page.evaluate(() => {
    const key = "tandem-console.login";
    const saved = JSON.parse(sessionStorage.getItem(key));
    saved.token = "ta1.00.0.00";
    sessionStorage.setItem(key, JSON.stringify(saved));
  });
  await page.reload();
  await visible("login-form");
  assert.match(await waitText("login-message", (t) => t.length > 0, "the message"), /log in again/i);
  await shot("login-after-401");
  // Logging in again returns to the page that was open.
  await tid("login-username").fill(ADMIN);
  await tid("login-password").fill(ADMIN_PASSWORD);
  await tid("login-submit").click();
  await waitText("page-title", (t) => t === "Users", "back on the users page");
  await tid("logout").click();
  await visible("login-form");
  assert.match(await textOf("login-message"), /logged out/i);
});

test("no script error and no Content-Security-Policy violation in the page", () => {
  assert.deepEqual(pageErrors, []);
});
