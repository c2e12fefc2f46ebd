// Test harness: runs the real `tandem` binary on a temporary data directory and connects the
// unmodified Convergence client (@convergence/convergence 1.0.0-rc.12) to it.

"use strict";

const { spawn, execFile } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { promisify } = require("node:util");
const WebSocket = require("ws");
const Convergence = require("@convergence/convergence");

const execFileP = promisify(execFile);

/** The tandem binary: $TANDEM_BIN, else the workspace's debug build. */
function tandemBin() {
  const bin = process.env.TANDEM_BIN
    ? path.resolve(process.env.TANDEM_BIN)
    : path.resolve(__dirname, "..", "..", "..", "target", "debug", "tandem");
  if (!fs.existsSync(bin)) {
    throw new Error(`tandem binary not found at ${bin} (build it or set TANDEM_BIN)`);
  }
  return bin;
}

/** A free loopback TCP port (bound and released, so another process may race for it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or a rejection with message() after `ms` (the timer never outlives the race). */
function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Polls `cond` (sync or async) until it returns a truthy value; throws after `timeoutMs` with
 * `what` and, if given, `describe()` of the state at the end. Returns the truthy value.
 */
async function waitFor(cond, { timeoutMs = 10000, what = "condition", describe, intervalMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await cond();
    if (last) return last;
    if (Date.now() > deadline) {
      const state = describe ? `\n${describe()}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state}`);
    }
    await sleep(intervalMs);
  }
}

// Children still running when the test process exits are killed, so that a failed or
// interrupted test never leaves a server behind.
const live = new Set();
process.on("exit", () => {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch (_) {
      /* already gone */
    }
  }
});

/**
 * One `tandem serve` process on a temporary data directory.
 *
 * options: namespace, domain, anonymous (bool, default true), users [{username, password,
 * displayName, firstName, lastName, email}], groups [{id, description, members: [usernames]}],
 * collections [{id, world: PERMS, users: {username: PERMS}}] (PERMS: see `perms()`),
 * domainConfig {key: value} (`tandem domain config --set key=value`, e.g. state,
 * collection_auto_create, default_collection_world), adminTokens [usernames] (admin-key JWTs
 * minted before the first start, in `server.adminTokens[username]`), jwtKeys [{id,
 * publicKeyPem}], config (TOML text written to a file and passed with --config), env (extra
 * environment).
 *
 * Everything but `dump` is set up with the CLI, which must not run while the server holds the
 * data directory: for a change in the middle of a test use `whileStopped()`, which stops the
 * server, runs the CLI and starts it again on the same port (clients reconnect by themselves).
 */
class TandemServer {
  constructor(options = {}) {
    this.bin = tandemBin();
    this.namespace = options.namespace || "e2e";
    this.domain = options.domain || "default";
    this.anonymous = options.anonymous !== false;
    this.users = options.users || [];
    this.jwtKeys = options.jwtKeys || [];
    this.groups = options.groups || [];
    this.collections = options.collections || [];
    this.domainConfig = options.domainConfig || null;
    this.adminTokenUsers = options.adminTokens || [];
    this.adminTokens = {};
    this.configText = options.config || null;
    this.env = options.env || {};
    this.adminPassword = "admin-secret";
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-e2e-"));
    this.dataDir = path.join(this.dir, "data");
    this.logFile = path.join(this.dir, "server.log");
    this.child = null;
    this.exited = null;
    this.port = null;
    this.starts = 0;
  }

  static async start(options) {
    const server = new TandemServer(options);
    await server.prepare();
    await server.spawn();
    return server;
  }

  get url() {
    return `ws://127.0.0.1:${this.port}/realtime/${this.namespace}/${this.domain}`;
  }

  domainArgs() {
    return ["--data-dir", this.dataDir, "--namespace", this.namespace, "--domain", this.domain];
  }

  /** Runs a tandem CLI subcommand on the data directory; resolves with its stdout. */
  async cli(...args) {
    try {
      const { stdout } = await execFileP(this.bin, args, {
        env: { ...process.env, RUST_LOG: "warn", ...this.env },
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (e) {
      throw new Error(`tandem ${args.join(" ")} failed: ${e.stderr || e.message}`);
    }
  }

  /**
   * Creates the domain, its users, groups, collections, JWT keys, settings and admin tokens with
   * the CLI before the server starts (in that order: groups and collections name users).
   */
  async prepare() {
    const create = ["domain", "create", ...this.domainArgs()];
    if (this.anonymous) create.push("--anonymous");
    await this.cli(...create);
    for (const u of this.users) {
      const args = ["user", "add", ...this.domainArgs(), u.username, "--password", u.password];
      if (u.displayName) args.push("--display-name", u.displayName);
      await this.cli(...args);
      const profile = [];
      if (u.firstName) profile.push("--first-name", u.firstName);
      if (u.lastName) profile.push("--last-name", u.lastName);
      if (u.email) profile.push("--email", u.email);
      if (profile.length > 0) await this.cli("user", "update", ...this.domainArgs(), u.username, ...profile);
    }
    for (const g of this.groups) await this.addGroup(g);
    for (const c of this.collections) await this.addCollection(c);
    for (const k of this.jwtKeys) {
      const pemFile = path.join(this.dir, `jwt-${k.id}.pem`);
      fs.writeFileSync(pemFile, k.publicKeyPem);
      await this.cli("jwt-key", "add", ...this.domainArgs(), "--id", k.id, "--public-key-file", pemFile);
    }
    if (this.domainConfig) await this.setDomainConfig(this.domainConfig);
    for (const name of this.adminTokenUsers) this.adminTokens[name] = await this.adminToken(name);
    if (this.configText) {
      this.configFile = path.join(this.dir, "tandem.toml");
      fs.writeFileSync(this.configFile, this.configText);
    }
  }

  /** Refuses a CLI change while the server runs (it holds the data directory). */
  assertStopped(what) {
    if (this.isRunning()) {
      throw new Error(`${what}: the CLI cannot change the data directory while tandem serve runs; use whileStopped()`);
    }
  }

  /** `tandem group create` and `add-member` for {id, description, members}. */
  async addGroup({ id, description, members = [] }) {
    this.assertStopped(`group ${id}`);
    const args = ["group", "create", ...this.domainArgs(), id];
    if (description) args.push("--description", description);
    await this.cli(...args);
    for (const m of members) await this.cli("group", "add-member", ...this.domainArgs(), id, m);
  }

  /** `tandem collection create`, `set-world` and `set-user` for {id, world, users}. */
  async addCollection({ id, world, users = {} }) {
    this.assertStopped(`collection ${id}`);
    await this.cli("collection", "create", ...this.domainArgs(), id);
    if (world !== undefined) await this.cli("collection", "set-world", ...this.domainArgs(), id, perms(world));
    for (const [name, p] of Object.entries(users)) {
      await this.cli("collection", "set-user", ...this.domainArgs(), id, name, perms(p));
    }
  }

  /** `tandem domain config --set key=value ...`; values go through `perms()` when not strings. */
  async setDomainConfig(settings) {
    this.assertStopped("domain config");
    const sets = Object.entries(settings).flatMap(([k, v]) => ["--set", `${k}=${typeof v === "string" ? v : perms(v)}`]);
    await this.cli("domain", "config", ...this.domainArgs(), ...sets);
  }

  /** The domain's settings as `tandem domain config` prints them. */
  async domainSettings() {
    this.assertStopped("domain config");
    return JSON.parse(await this.cli("domain", "config", ...this.domainArgs()));
  }

  /**
   * A JWT signed with the domain's admin key (kid ConvergenceAdminKey) for `username`, which
   * logs in as a convergence user (`tandem domain admin-token`). Only while the server is
   * stopped: pass `adminTokens` to `start()`, or call it inside `whileStopped()`.
   */
  async adminToken(username, { ttlSecs } = {}) {
    this.assertStopped("admin-token");
    const args = ["domain", "admin-token", ...this.domainArgs(), "--username", username];
    if (ttlSecs !== undefined) args.push("--ttl-secs", String(ttlSecs));
    return (await this.cli(...args)).trim();
  }

  /**
   * Stops the server, runs `fn(server)` (CLI changes: setDomainConfig, adminToken, cli ...) and
   * starts it again on the same data directory and port, even when `fn` throws.
   */
  async whileStopped(fn) {
    await this.stop();
    try {
      return await fn(this);
    } finally {
      await this.spawn();
    }
  }

  /** Starts `tandem serve` (on a new free port the first time, the same port afterwards). */
  async spawn() {
    if (this.port === null) this.port = await freePort();
    const args = [
      "serve",
      "--data-dir", this.dataDir,
      "--listen", `127.0.0.1:${this.port}`,
      "--namespace", this.namespace,
      "--domain", this.domain,
      "--admin-password", this.adminPassword,
      "--anonymous", String(this.anonymous),
    ];
    if (this.configFile) args.push("--config", this.configFile);
    this.starts += 1;
    const log = fs.openSync(this.logFile, "a");
    fs.writeSync(log, `\n==== start #${this.starts}: tandem ${args.join(" ")}\n`);
    const child = spawn(this.bin, args, {
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "info", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(child);
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      });
    });
    let out = "";
    const ready = new Promise((resolve, reject) => {
      const onData = (chunk) => {
        fs.writeSync(log, chunk);
        out += chunk.toString();
        if (/realtime endpoint: ws:\/\//.test(out)) resolve();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", (chunk) => fs.writeSync(log, chunk));
      child.on("exit", (code, signal) =>
        reject(new Error(`tandem serve exited before ready (code ${code}, signal ${signal}); log ${this.logFile}:\n${this.tail()}`)),
      );
    });
    // Keep the log file open until the child is gone.
    this.exited.then(() => fs.closeSync(log));
    await withTimeout(ready, 30000, () => `tandem serve not ready after 30 s; log ${this.logFile}:\n${this.tail()}`);
  }

  /** The last lines of the server log (for failure messages). */
  tail(lines = 40) {
    try {
      return fs.readFileSync(this.logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch (_) {
      return "";
    }
  }

  isRunning() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops the server gracefully (SIGTERM) and waits for it to exit. */
  async stop() {
    if (!this.isRunning()) return;
    this.child.kill("SIGTERM");
    const res = await withTimeout(this.exited, 15000, () => "stop").catch(() => null);
    if (res === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }

  /** Kills the server with SIGKILL (no shutdown path runs) and waits until it is gone. */
  async kill9() {
    if (!this.isRunning()) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** Starts the server again on the same data directory and port. */
  async restart() {
    await this.stop();
    await this.spawn();
  }

  /** The model's data as `tandem dump` prints it (works while the server runs). */
  async dump(modelId) {
    const out = await this.cli("dump", ...this.domainArgs(), modelId);
    return JSON.parse(out);
  }

  /** Stops the server and removes the temporary directory (kept with KEEP_TANDEM_DATA=1). */
  async close() {
    await this.stop();
    if (!process.env.KEEP_TANDEM_DATA) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A permission set for the CLI: a comma list ("read,write"), an array of names, an object of
 * booleans ({read: true, write: false}) or an empty set ("none").
 */
function perms(p) {
  let names;
  if (typeof p === "string") names = p === "none" ? [] : p.split(",").filter(Boolean);
  else if (Array.isArray(p)) names = p;
  else names = Object.keys(p).filter((k) => p[k]);
  return names.length === 0 ? "none" : names.join(",");
}

/** Client options for Node 20, which has no global WebSocket. */
function clientOptions(extra = {}) {
  return {
    webSocket: { factory: (u) => new WebSocket(u), class: WebSocket },
    ...extra,
  };
}

/**
 * Client options whose sockets record every message the client receives, decoded (see
 * lib/wire.js), in `frames`: what the client was told that its API does not show (a
 * force-close's reason code, the acks it got).
 */
function tappedOptions(extra = {}) {
  const wire = require("./wire");
  const frames = [];
  const factory = (u) => {
    const ws = new WebSocket(u);
    ws.on("message", (data) => frames.push(wire.decode(data)));
    return ws;
  };
  return { frames, options: { webSocket: { factory, class: WebSocket }, ...extra } };
}

const connectPassword = (url, username, password, extra) =>
  Convergence.connect(url, username, password, clientOptions(extra));
const connectAnonymously = (url, displayName, extra) =>
  Convergence.connectAnonymously(url, displayName, clientOptions(extra));
const connectJwt = (url, jwt, extra) => Convergence.connectWithJwt(url, jwt, clientOptions(extra));

/**
 * Closes the given models, then disposes every domain, ignoring errors from connections that
 * are already gone. (Disposing with models still open makes the client log "connection was
 * closed while waiting for a reply" for each model, which is noise, not a failure.)
 */
async function disposeAll(domains, models = []) {
  await Promise.all(
    models.filter((m) => m && m.isOpen()).map((m) => withTimeout(m.close(), 5000, () => "close").catch(() => {})),
  );
  await Promise.all(
    domains.filter(Boolean).map(async (d) => {
      try {
        // rc.12's dispose waits for every open model to finish closing, which it may never do
        // after its socket was closed under it and it reconnected: bounded, like every wait.
        await withTimeout(d.dispose(), 5000, () => "dispose");
      } catch (_) {
        /* the connection may be gone already */
      }
      // rc.12's dispose disconnects only a connected domain: one waiting to reconnect would
      // keep trying (and keep the process alive) after the server is gone.
      try {
        if (!d.isDisconnected()) await withTimeout(d.disconnect(), 5000, () => "disconnect");
      } catch (_) {
        /* nothing more to stop */
      }
    }),
  );
}

/** Resolves when the model has no uncommitted local operations. */
function whenCommitted(model, timeoutMs = 20000) {
  return waitFor(() => model.isCommitted(), {
    timeoutMs,
    what: `model ${model.modelId()} committed`,
  });
}

/**
 * Waits until every model has committed all its local operations and all report the same
 * version; returns that version.
 */
async function waitConverged(models, { timeoutMs = 60000 } = {}) {
  await waitFor(
    () => models.every((m) => m.isCommitted()) && models.every((m) => m.version() === models[0].version()),
    {
      timeoutMs,
      what: "all replicas committed at one version",
      describe: () =>
        models.map((m, i) => `  replica ${i}: version ${m.version()} committed ${m.isCommitted()} open ${m.isOpen()}`).join("\n"),
    },
  );
  return models[0].version();
}

module.exports = {
  Convergence,
  TandemServer,
  WebSocket,
  clientOptions,
  connectAnonymously,
  connectJwt,
  connectPassword,
  disposeAll,
  freePort,
  perms,
  sleep,
  tappedOptions,
  tandemBin,
  waitConverged,
  waitFor,
  whenCommitted,
  withTimeout,
};
