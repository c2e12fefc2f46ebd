// Starts server.js (from the directory given, default this one) against a live engine, makes
// one HTTP request and checks the answer; exits non-zero on any failure. Used by the Node
// binding's run-tests.sh, in the repository and in a fresh npm project.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const dir = path.resolve(process.argv[2] || __dirname);
const data = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-express-"));
const child = spawn(process.execPath, [path.join(dir, "server.js")], {
  cwd: dir,
  env: { ...process.env, PORT: "0", TANDEM_ADDR: "127.0.0.1:0", DATA_DIR: data },
  stdio: ["ignore", "pipe", "inherit"],
});
const fail = (msg) => {
  console.error(`example smoke test failed: ${msg}`);
  child.kill("SIGKILL");
  process.exit(1);
};
const timer = setTimeout(() => fail("no answer within 30 s"), 30000);
let out = "";
child.on("exit", (code) => code !== 0 && fail(`server exited with ${code}`));
child.stdout.on("data", async (chunk) => {
  out += chunk;
  const m = /app on (http:\/\/\S+),/.exec(out);
  if (!m || out.includes("\u0000")) return;
  out += "\u0000";
  const res = await fetch(`${m[1]}/docs/smoke`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text: "hello" }),
  });
  const body = await res.json();
  const want = JSON.stringify({ id: "smoke", version: 1, data: { text: "hello" } });
  if (res.status !== 201 || JSON.stringify(body) !== want) fail(`POST answered ${res.status} ${JSON.stringify(body)}`);
  clearTimeout(timer);
  child.removeAllListeners("exit");
  child.on("exit", () => {
    fs.rmSync(data, { recursive: true, force: true });
    console.log(`example answered ${res.status} ${JSON.stringify(body)}`);
  });
  child.kill("SIGTERM");
});
