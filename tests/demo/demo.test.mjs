// The README's demo: the page ./run.sh serves, opened in two headless Chromium tabs. Typing in
// one tab appears in the other, and the other tab's caret is drawn as a remote cursor.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = process.env.TANDEM_BIN || path.join(root, "target/debug/tandem");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Two tabs on `url` co-edit the demo textarea and see each other's caret. */
async function coEdit(url) {
  const browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const a = await browser.newPage();
    const b = await browser.newPage();
    await a.goto(url + "?name=Ann");
    await b.goto(url + "?name=Ben");
    for (const p of [a, b]) {
      await waitFor(async () => !(await p.$eval("#text", (t) => t.disabled)), "the editor to connect");
    }
    const initial = await a.$eval("#text", (t) => t.value);
    assert.match(initial, /Type here/);
    const mark = `${Date.now()}`;
    await a.click("#text");
    await a.keyboard.press("Control+End");
    await a.keyboard.type(` hello from Ann ${mark}`);
    await waitFor(async () => (await b.$eval("#text", (t) => t.value)).includes(`hello from Ann ${mark}`), "Ann's text in Ben's tab");
    await b.click("#text");
    await b.keyboard.press("Control+Home");
    await b.keyboard.type(`Ben was here ${mark}. `);
    await waitFor(async () => (await a.$eval("#text", (t) => t.value)).startsWith(`Ben was here ${mark}. `), "Ben's text in Ann's tab");
    const textA = await a.$eval("#text", (t) => t.value);
    const textB = await b.$eval("#text", (t) => t.value);
    assert.equal(textA, textB);
    // Ben's caret shows up in Ann's tab, labelled with his name.
    await waitFor(async () => (await a.$$eval(".caret", (cs) => cs.map((c) => c.dataset.name))).includes("Ben"), "Ben's caret in Ann's tab");
  } finally {
    await browser.close();
  }
}

const noBrowser = !fs.existsSync(browserPath) && "chromium not installed";

test("two tabs co-edit the demo textarea and see each other's caret", { skip: noBrowser }, async () => {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-demo-"));
  const server = spawn(bin, ["serve", "--data-dir", dir, "--listen", `127.0.0.1:${port}`,
    "--static-dir", path.join(root, "examples/browser-demo")], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  server.stdout.on("data", (d) => (out += d));
  try {
    await waitFor(() => out.includes("demo page"), "the server");
    await coEdit(`http://127.0.0.1:${port}/`);
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.on("exit", r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The README's first command, exactly as written: `./run.sh` builds and starts the server with
// its defaults (./tandem-data, 127.0.0.1:8000) and prints the demo's URL; two tabs edit through
// it; Ctrl-C (SIGINT) stops it cleanly.
test("./run.sh serves the demo, two tabs co-edit through it, SIGINT stops it cleanly", { skip: noBrowser, timeout: 1200000 }, async () => {
  const busy = await new Promise((resolve) => {
    const probe = net.connect(8000, "127.0.0.1");
    probe.on("connect", () => { probe.destroy(); resolve(true); });
    probe.on("error", () => resolve(false));
  });
  assert.equal(busy, false, "port 8000 is in use: ./run.sh listens there by default; stop whatever holds it");
  const child = spawn("./run.sh", [], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  try {
    // The first run builds the server (a release build unless TANDEM_RUN_PROFILE says dev): allow for it.
    const url = await waitFor(() => (out.match(/demo page:\s+(http:\/\/\S+)/) || [])[1], "./run.sh to print the demo URL", 1100000);
    assert.equal(url, "http://127.0.0.1:8000/");
    await coEdit(url);
  } finally {
    child.kill("SIGINT");
  }
  const { code, signal } = await exited;
  assert.equal(signal, null, `./run.sh died by ${signal}\n${err.slice(-2000)}`);
  assert.equal(code, 0, `./run.sh exited with ${code}\n${err.slice(-2000)}`);
  assert.match(out + err, /stopped/, "the server logs its clean stop");
});
