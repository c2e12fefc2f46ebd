// A client that stops reading is dropped, and nobody else is slowed: a raw socket logs in,
// opens a model that two real clients edit heavily, then stops reading (its socket is paused,
// like a stopped process). The server closes it within `write_timeout_ms` (plus the time the
// kernel buffers take to fill), its memory stays bounded, and the editors keep getting acks.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const h = require("./lib/harness");

const WRITE_TIMEOUT_MS = 2000;

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({ config: `[net]\nwrite_timeout_ms = ${WRITE_TIMEOUT_MS}\n` });
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

// ConvergenceMessage{requestId: {0}, connectionRequest (7): {client: "x", anonymous (5): {}}}.
const ANONYMOUS_LOGIN = Buffer.from([0x0a, 0x02, 0x08, 0x00, 0x3a, 0x05, 0x0a, 0x01, 0x78, 0x2a, 0x00]);
// ConvergenceMessage{requestId: {1}, openRealTimeModelRequest (100): {modelId: {"stuck"}}}.
const OPEN_STUCK = Buffer.from([0x0a, 0x02, 0x08, 0x01, 0xa2, 0x06, 0x09, 0x0a, 0x07, 0x0a, 0x05, ...Buffer.from("stuck")]);

function metric(name) {
  return new Promise((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${server.port}/metrics`, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => {
          const m = body.match(new RegExp(`^${name} (\\d+)`, "m"));
          resolve(m ? Number(m[1]) : NaN);
        });
      })
      .on("error", reject);
  });
}

function rssMb() {
  const status = fs.readFileSync(`/proc/${server.child.pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024;
}

test("a socket that stops reading is closed within the bound while the others keep editing", async () => {
  const da = await h.connectAnonymously(server.url, "Writer A");
  const db = await h.connectAnonymously(server.url, "Writer B");
  domains.push(da, db);
  const a = await da.models().openAutoCreate({ collection: "stuck", id: "stuck", data: { log: [] } });
  const b = await db.models().openAutoCreate({ collection: "stuck", id: "stuck", data: { log: [] } });
  models.push(a, b);

  // The raw socket logs in and opens the model, then stops reading.
  const raw = new h.WebSocket(server.url);
  let replies = 0;
  raw.on("message", () => (replies += 1));
  raw.on("error", () => {});
  await new Promise((resolve) => raw.on("open", resolve));
  raw.send(ANONYMOUS_LOGIN);
  raw.send(OPEN_STUCK);
  await h.waitFor(() => replies >= 2, { what: "the raw socket's login and open replies" });
  const before = await metric("tandem_connections_open");
  assert.equal(before, 3);
  raw._socket.pause();
  const stalled = Date.now();
  const rssBefore = rssMb();

  // The writers push large entries: the stuck socket's buffers fill within seconds.
  const chunk = "x".repeat(16 * 1024);
  let acked = 0;
  let maxRss = rssBefore;
  let closedAfter = null;
  const ackedWhenClosed = [];
  while (Date.now() - stalled < 30000) {
    for (const m of [a, b]) m.root().get("log").push(chunk);
    await Promise.all([h.whenCommitted(a), h.whenCommitted(b)]);
    acked += 2;
    maxRss = Math.max(maxRss, rssMb());
    if (closedAfter === null && (await metric("tandem_connections_open")) === 2) {
      closedAfter = Date.now() - stalled;
      ackedWhenClosed.push(acked);
    }
    if (closedAfter !== null && acked >= ackedWhenClosed[0] + 20) break;
    // Keep the log from growing without bound: the test is about the stuck reader.
    if (a.root().get("log").length() > 200) a.root().get("log").remove(0);
  }
  raw.terminate();
  assert.notEqual(closedAfter, null, `the stuck socket was still open after 30 s (${acked} entries acknowledged)`);
  console.log(`stuck socket closed after ${closedAfter} ms; ${acked} entries acknowledged; RSS ${rssBefore.toFixed(0)} -> max ${maxRss.toFixed(0)} MB`);
  assert.ok(closedAfter < 20000, `closed only after ${closedAfter} ms`);
  assert.ok(acked > ackedWhenClosed[0], "the writers kept getting acks after the close");
  assert.ok(maxRss < rssBefore + 150, `resident memory grew from ${rssBefore} to ${maxRss} MB`);
  assert.match(server.tail(400), /does not read its output|too slow to keep up/);
  // The writers are unaffected.
  assert.equal(da.session().isConnected(), true);
  assert.equal(a.isOpen(), true);
});

// The other side of the bound: a reader that keeps taking its output, only slowly (its socket
// is paused for less than `write_timeout_ms` at a time, then read briefly), falls behind but
// keeps its connection and, once it reads at full speed again, has every operation.
test("a slow but steady reader falls behind without being closed and receives every operation", async () => {
  const da = await h.connectAnonymously(server.url, "Steady A");
  const db = await h.connectAnonymously(server.url, "Steady B");
  domains.push(da, db);
  const opts = { collection: "stuck", id: "steady", data: { log: [] } };
  const a = await da.models().openAutoCreate(opts);
  const b = await db.models().openAutoCreate(opts);
  models.push(a, b);

  const open = await metric("tandem_connections_open");
  const raw = new h.WebSocket(server.url);
  let received = 0;
  let closed = null;
  raw.on("message", () => (received += 1));
  raw.on("close", (code) => (closed = code));
  raw.on("error", () => {});
  await new Promise((resolve) => raw.on("open", resolve));
  raw.send(ANONYMOUS_LOGIN);
  raw.send(Buffer.from([0x0a, 0x02, 0x08, 0x01, 0xa2, 0x06, 0x0a, 0x0a, 0x08, 0x0a, 0x06, ...Buffer.from("steady")]));
  await h.waitFor(() => received >= 2, { what: "the raw socket's login and open replies" });
  const replies = received;

  // Paused 60% of each 1.5 s period: never as long as the write timeout in one stretch.
  let reading = true;
  const rhythm = (async () => {
    while (reading) {
      raw._socket.pause();
      await h.sleep(WRITE_TIMEOUT_MS * 0.45);
      raw._socket.resume();
      await h.sleep(WRITE_TIMEOUT_MS * 0.3);
    }
  })();
  const chunk = "y".repeat(16 * 1024);
  let ops = 0;
  let behind = 0;
  const started = Date.now();
  while (Date.now() - started < 4 * WRITE_TIMEOUT_MS) {
    for (const m of [a, b]) m.root().get("log").push(chunk);
    ops += 2;
    if (a.root().get("log").length() > 100) {
      a.root().get("log").remove(0);
      ops += 1;
    }
    await Promise.all([h.whenCommitted(a), h.whenCommitted(b)]);
    behind = Math.max(behind, ops - (received - replies));
  }
  reading = false;
  await rhythm;
  raw._socket.resume();
  await h.waitFor(() => received - replies >= ops || closed !== null, {
    timeoutMs: 30000,
    what: "the slow reader to receive every operation",
    describe: () => `  received ${received - replies} of ${ops}, closed ${closed}`,
  });
  console.log(`slow reader: ${ops} operations, at most ${behind} behind, never closed`);
  assert.ok(behind > 20, `the reader fell only ${behind} operations behind`);
  assert.equal(closed, null, "the slow reader's connection was closed");
  assert.equal(received - replies, ops, "one remote operation per edit");
  assert.equal(await metric("tandem_connections_open"), open + 1);
  raw.terminate();
});
