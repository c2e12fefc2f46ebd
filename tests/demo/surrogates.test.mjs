// Unpaired UTF-16 surrogates with the real client in headless Chromium (the browser build of
// protobufjs writes lone surrogates as 3-byte WTF-8; Node's Buffer path would replace them).
// Several pages edit one string: a textarea-style diff of 😀 into 😁 (a splice inserting a lone
// low surrogate), removing one half of a pair, inserting between halves, then random code-unit
// edits on emoji-dense text by three pages at once. At quiescence every replica, a fresh reader,
// a fresh reader after a server restart, and `tandem dump` all hold the same code units.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = process.env.TANDEM_BIN || path.join(root, "target/debug/tandem");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const clientDir = path.join(root, "examples/browser-demo/node_modules");

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A static folder with a blank page that loads the published client's browser build. */
function pageDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-surrogate-page-"));
  fs.copyFileSync(path.join(clientDir, "rxjs/bundles/rxjs.umd.min.js"), path.join(dir, "rxjs.js"));
  fs.copyFileSync(path.join(clientDir, "@convergence/convergence/convergence.global.min.js"),
    path.join(dir, "convergence.js"));
  fs.writeFileSync(path.join(dir, "index.html"),
    '<!doctype html><meta charset="utf-8"><script src="rxjs.js"></script>' +
    '<script src="convergence.js"></script><p>surrogates</p>');
  return dir;
}

function startServer(port, dataDir, staticDir) {
  const server = spawn(bin, ["serve", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`,
    "--static-dir", staticDir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  server.stdout.on("data", (d) => (out += d));
  server.stderr.on("data", (d) => (out += d));
  const ready = waitFor(() => out.includes("demo page"), "the server");
  return { server, ready, log: () => out };
}

async function stopServer(server) {
  const exited = new Promise((r) => server.on("exit", r));
  server.kill("SIGTERM");
  await exited;
}

// --- In-page helpers. Strings cross the page boundary as arrays of code units, so that no
// --- layer in between can "repair" a lone surrogate.

/** Installs `window.T` in a page and opens the model (auto-created with `initial`). */
async function openIn(page, url, name, initialUnits) {
  await page.evaluate(async ({ url, name, initialUnits }) => {
    const str = (u) => String.fromCharCode(...u);
    const units = (s) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
    const domain = await Convergence.connectAnonymously(url, name);
    const model = await domain.models().openAutoCreate({
      id: "surrogates", collection: "tests", data: { text: str(initialUnits) },
    });
    const rts = model.elementAt("text");
    const errors = [];
    model.on("closed", (e) => errors.push("closed: " + (e && e.reason)));
    domain.on("disconnected", () => errors.push("disconnected"));
    window.T = {
      str, units, rts, model, domain, errors,
      value: () => units(rts.value()),
      // A textarea binding: diff the old and new text and send one splice (like the demo).
      typeInto(nowUnits) {
        const last = rts.value(), now = str(nowUnits);
        let start = 0;
        while (start < last.length && start < now.length && last[start] === now[start]) start++;
        let endOld = last.length, endNew = now.length;
        while (endOld > start && endNew > start && last[endOld - 1] === now[endNew - 1]) { endOld--; endNew--; }
        const removed = endOld - start, inserted = now.slice(start, endNew);
        if (removed > 0 && inserted.length > 0) rts.splice(start, removed, inserted);
        else if (removed > 0) rts.remove(start, removed);
        else if (inserted.length > 0) rts.insert(start, inserted);
        return { start, removed, inserted: units(inserted) };
      },
      committed: () => model.isCommitted(),
    };
  }, { url, name, initialUnits });
}

/** `count` random code-unit edits on emoji-dense text, with short pauses. */
async function randomEdits(page, seed, count) {
  await page.evaluate(async ({ seed, count }) => {
    let x = seed >>> 0 || 1;
    const rnd = (n) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
    const pieces = ["😀", "😁", "\uD83D", "\uDE00", "\uDE01", "🎉", "a", "é", " "];
    for (let i = 0; i < count; i++) {
      const len = T.rts.length();
      const at = rnd(len + 1); // any code-unit position, between halves included
      const del = Math.min(rnd(3), len - at);
      let ins = "";
      for (let k = rnd(3); k > 0; k--) ins += pieces[rnd(pieces.length)];
      if (del > 0 && ins) T.rts.splice(at, del, ins);
      else if (del > 0) T.rts.remove(at, del);
      else if (ins) T.rts.insert(at, ins);
      if (rnd(4) === 0) await new Promise((r) => setTimeout(r, rnd(15)));
    }
  }, { seed, count });
}

const U = (s) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));

test("lone surrogates from real browser clients converge and survive a restart", {
  skip: !fs.existsSync(browserPath) && "chromium not installed",
  timeout: 110000,
}, async () => {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-surrogates-"));
  const staticDir = pageDir();
  let srv = startServer(port, dataDir, staticDir);
  await srv.ready;
  const browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const url = `http://127.0.0.1:${port}/`;
  const ws = `ws://127.0.0.1:${port}/realtime/demo/default`;
  const pages = [];
  const newPage = async (name) => {
    const p = await browser.newPage();
    await p.goto(url);
    await openIn(p, ws, name, U("a😀b 😀😀 c"));
    pages.push(p);
    return p;
  };
  const values = () => Promise.all(pages.map((p) => p.evaluate(() => T.value())));
  const quiet = async (what) => {
    await waitFor(async () => {
      const ok = await Promise.all(pages.map((p) => p.evaluate(() => T.committed())));
      if (!ok.every(Boolean)) return false;
      const vs = await values();
      return vs.every((v) => JSON.stringify(v) === JSON.stringify(vs[0]));
    }, what);
    const errors = await Promise.all(pages.map((p) => p.evaluate(() => T.errors)));
    assert.deepEqual(errors.flat(), [], "no client was closed or disconnected");
    return (await values())[0];
  };
  const freshRead = async () => {
    const p = await browser.newPage();
    await p.goto(url);
    await openIn(p, ws, "reader", U("unused"));
    const v = await p.evaluate(() => T.value());
    await p.evaluate(() => T.domain.dispose());
    await p.close();
    return v;
  };
  try {
    const [a, b, c] = [await newPage("Ann"), await newPage("Ben"), await newPage("Cy")];

    // 1. 😀 -> 😁 in a textarea: one unit spliced, a lone low surrogate inserted.
    const sent = await a.evaluate((now) => T.typeInto(now), U("a😁b 😀😀 c"));
    assert.deepEqual(sent, { start: 2, removed: 1, inserted: [0xde01] });
    assert.deepEqual(await quiet("the diff everywhere"), U("a😁b 😀😀 c"));

    // 2. Remove one half of a pair (the high surrogate of the first 😀 after "b ").
    await b.evaluate(() => T.rts.remove(5, 1));
    const afterRemove = [...U("a😁b "), 0xde00, ...U("😀 c")];
    assert.deepEqual(await quiet("the removal everywhere"), afterRemove);

    // 3. Insert between the halves of the remaining pair (and a lone high surrogate elsewhere).
    await c.evaluate(() => { T.rts.insert(7, "x"); T.rts.insert(0, "\uD83D"); });
    const afterInsert = [0xd83d, ...U("a😁b "), 0xde00, 0xd83d, 0x78, 0xde00, ...U(" c")];
    assert.deepEqual(await quiet("the insertions everywhere"), afterInsert);

    // 4. Random code-unit edits by three pages at once.
    await Promise.all([randomEdits(a, 11, 150), randomEdits(b, 22, 150), randomEdits(c, 33, 150)]);
    const final = await quiet("quiescence after random edits");
    assert.ok(final.some((u) => u >= 0xd800 && u < 0xe000), "the text still holds surrogates");
    assert.deepEqual(await freshRead(), final, "a fresh reader sees the replicas' text");

    // 5. Restart the server: the model reloads with the same code units.
    for (const p of pages) await p.evaluate(() => T.domain.dispose());
    await stopServer(srv.server);
    const dump = execFileSync(bin, ["dump", "--data-dir", dataDir, "surrogates"], { encoding: "utf8" });
    assert.deepEqual(U(JSON.parse(dump).text), final, "tandem dump writes \\uXXXX escapes");
    assert.match(dump, /\\ud[89a-f][0-9a-f]{2}/, "dump escapes lone surrogates");
    srv = startServer(port, dataDir, staticDir);
    await srv.ready;
    pages.length = 0;
    assert.deepEqual(await freshRead(), final, "a fresh reader after a restart");
  } catch (e) {
    console.error(srv.log().slice(-4000));
    throw e;
  } finally {
    await browser.close();
    await stopServer(srv.server);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(staticDir, { recursive: true, force: true });
  }
});
