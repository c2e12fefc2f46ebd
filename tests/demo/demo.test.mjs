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

test("two tabs co-edit the demo textarea and see each other's caret", { skip: !fs.existsSync(browserPath) && "chromium not installed" }, async () => {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-demo-"));
  const server = spawn(bin, ["serve", "--data-dir", dir, "--listen", `127.0.0.1:${port}`,
    "--static-dir", path.join(root, "examples/browser-demo")], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  server.stdout.on("data", (d) => (out += d));
  await waitFor(() => out.includes("demo page"), "the server");
  const browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const url = `http://127.0.0.1:${port}/`;
    const a = await browser.newPage();
    const b = await browser.newPage();
    await a.goto(url + "?name=Ann");
    await b.goto(url + "?name=Ben");
    for (const p of [a, b]) {
      await waitFor(async () => !(await p.$eval("#text", (t) => t.disabled)), "the editor to connect");
    }
    const initial = await a.$eval("#text", (t) => t.value);
    assert.match(initial, /Type here/);
    await a.click("#text");
    await a.keyboard.press("Control+End");
    await a.keyboard.type(" hello from Ann");
    await waitFor(async () => (await b.$eval("#text", (t) => t.value)).includes("hello from Ann"), "Ann's text in Ben's tab");
    await b.click("#text");
    await b.keyboard.press("Control+Home");
    await b.keyboard.type("Ben was here. ");
    await waitFor(async () => (await a.$eval("#text", (t) => t.value)).startsWith("Ben was here. "), "Ben's text in Ann's tab");
    const textA = await a.$eval("#text", (t) => t.value);
    const textB = await b.$eval("#text", (t) => t.value);
    assert.equal(textA, textB);
    // Ben's caret shows up in Ann's tab, labelled with his name.
    await waitFor(async () => (await a.$$eval(".caret", (cs) => cs.map((c) => c.dataset.name))).includes("Ben"), "Ben's caret in Ann's tab");
  } finally {
    await browser.close();
    server.kill("SIGTERM");
    await new Promise((r) => server.on("exit", r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
