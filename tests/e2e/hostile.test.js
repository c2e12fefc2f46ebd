// Hostile or broken peers: each bad socket is closed with the right code, and a real client on
// the same server keeps working throughout.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

const MAX_FRAME = 64 * 1024;

let server;
let domain;
let model;
let edits = 0;

before(async () => {
  server = await h.TandemServer.start({
    config: `[net]\nmax_frame_bytes = ${MAX_FRAME}\nrate_limit_per_sec = 200\nrate_burst = 400\nrate_limit_max_throttle_ms = 500\n`,
  });
  domain = await h.connectAnonymously(server.url, "Steady");
  model = await domain.models().openAutoCreate({ collection: "hostile", id: "steady", data: { log: [] } });
});

after(async () => {
  await h.disposeAll([domain], [model]);
  if (server) await server.close();
});

/**
 * Opens a raw WebSocket, lets `act` misbehave on it, and resolves with the close code and
 * reason the server sent.
 */
function misbehave(act, onMessage = () => {}) {
  return new Promise((resolve, reject) => {
    const ws = new h.WebSocket(server.url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("the server did not close the bad socket within 10 s"));
    }, 10000);
    ws.on("open", () => act(ws));
    ws.on("message", (data) => onMessage(ws, data));
    ws.on("error", () => {}); // a close follows
    ws.on("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/** The steady client still edits, gets its acknowledgement, and the server stores the edit. */
async function steadyClientStillWorks(label) {
  assert.equal(domain.session().isConnected(), true, `steady client disconnected after ${label}`);
  assert.equal(model.isOpen(), true, `steady model closed after ${label}`);
  model.root().get("log").push(label);
  edits += 1;
  await h.whenCommitted(model, 10000);
  const stored = await server.dump("steady");
  assert.equal(stored.log.length, edits);
  assert.equal(stored.log[edits - 1], label);
}

test("garbage bytes close the socket with 1002", async () => {
  const { code } = await misbehave((ws) => ws.send(Buffer.from("garbage!! \xff\xfe not protobuf", "latin1")));
  assert.equal(code, 1002);
  await steadyClientStillWorks("garbage");
});

test("a text frame closes the socket with 1003", async () => {
  const { code } = await misbehave((ws) => ws.send("hello, I am text"));
  assert.equal(code, 1003);
  await steadyClientStillWorks("text");
});

test("a frame over max_frame_bytes closes the socket with 1009", async () => {
  const { code } = await misbehave((ws) => ws.send(Buffer.alloc(MAX_FRAME * 80, 0x0a)));
  assert.equal(code, 1009);
  await steadyClientStillWorks("oversize");
});

test("a valid message other than connectionRequest before auth closes the socket with 1002", async () => {
  // ConvergenceMessage{requestId: Int32Value{0}, serverTimeRequest (field 20): {}}.
  const serverTimeRequest = Buffer.from([0x0a, 0x02, 0x08, 0x00, 0xa2, 0x01, 0x00]);
  const { code } = await misbehave((ws) => ws.send(serverTimeRequest));
  assert.equal(code, 1002);
  await steadyClientStillWorks("before-auth");
});

test("an empty binary frame before auth closes the socket with 1002", async () => {
  const { code } = await misbehave((ws) => ws.send(Buffer.alloc(0)));
  assert.equal(code, 1002);
  await steadyClientStillWorks("empty");
});

// ConvergenceMessage{requestId: {0}, connectionRequest (7): {client: "x", anonymous (5): {}}}.
const ANONYMOUS_LOGIN = Buffer.from([0x0a, 0x02, 0x08, 0x00, 0x3a, 0x05, 0x0a, 0x01, 0x78, 0x2a, 0x00]);

test("garbage after a successful login closes the socket with 1002", async () => {
  let replies = 0;
  const { code } = await misbehave(
    (ws) => ws.send(ANONYMOUS_LOGIN),
    (ws) => {
      // The first frame is the connection response; then misbehave.
      if (++replies === 1) ws.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    },
  );
  assert.equal(replies >= 1, true, "the login was answered first");
  assert.equal(code, 1002);
  await steadyClientStillWorks("garbage-after-login");
});

test("an unknown request after login is answered with an error and the socket stays open", async () => {
  const ws = new h.WebSocket(server.url);
  const frames = [];
  ws.on("message", (data) => frames.push(Buffer.from(data)));
  let closed = null;
  ws.on("close", (code) => (closed = code));
  await new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("error", reject);
  });
  ws.send(ANONYMOUS_LOGIN);
  await h.waitFor(() => frames.length >= 1, { what: "the connection response" });
  // requestId {5} and field 999 (unknown to every schema), empty.
  ws.send(Buffer.from([0x0a, 0x02, 0x08, 0x05, 0xba, 0x3e, 0x00]));
  // The reply: responseId {5} (12 02 08 05) with an error body (field 4).
  const reply = await h.waitFor(
    () => frames.find((f) => f.subarray(0, 5).equals(Buffer.from([0x12, 0x02, 0x08, 0x05, 0x22])))
      || closed !== null,
    { what: "an error reply to request 5" },
  );
  assert.notEqual(reply, true, `the socket was closed (${closed}) instead of answered`);
  assert.equal(closed, null);
  ws.close(1000);
  await steadyClientStillWorks("unknown-request");
});

test("a flood of messages closes the socket with 1008", async () => {
  const ping = Buffer.from([0x2a, 0x00]); // ConvergenceMessage{ping (5): {}}
  const { code } = await misbehave((ws) => {
    for (let i = 0; i < 2000; i++) ws.send(ping);
  });
  assert.equal(code, 1008);
  await steadyClientStillWorks("flood");
});
