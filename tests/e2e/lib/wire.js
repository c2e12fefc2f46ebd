// The Convergence wire format without the client's API: the client's own protobuf schema (read
// from its bundle, so the two cannot drift), frames encoded and decoded with it, and a raw
// socket that logs in and sends anything — what a hostile or out-of-date client can send and
// the real client never would (a resync it did not start, an operation without write, a
// reference on a resource it does not hold).

"use strict";

const fs = require("node:fs");
const path = require("node:path");
const WebSocket = require("ws");

const clientFile = require.resolve("@convergence/convergence/convergence.js");
// protobufjs is the client's dependency: load the copy it loads.
const protobuf = require(require.resolve("protobufjs/light", { paths: [path.dirname(clientFile)] }));

/** The schema the client bundles as a JSON descriptor (`var nested = {...}`). */
function clientSchema() {
  const src = fs.readFileSync(clientFile, "utf8");
  const start = src.indexOf("var nested = {");
  const end = src.indexOf("var convergenceProto = {", start);
  if (start < 0 || end < 0) throw new Error(`no protobuf descriptor found in ${clientFile}`);
  // The bundle's own object literal, evaluated on its own: data, no code.
  return new Function(`${src.slice(start, end)}; return nested;`)();
}

const root = protobuf.Root.fromJSON({ nested: clientSchema() });
const Message = root.lookupType("com.convergencelabs.convergence.proto.ConvergenceMessage");

/** A ConvergenceMessage (plain object, the client's field names) as bytes. */
function encode(message) {
  const err = Message.verify(message);
  if (err) throw new Error(`invalid ConvergenceMessage: ${err}`);
  return Buffer.from(Message.encode(Message.fromObject(message)).finish());
}

/** Bytes (Buffer, ArrayBuffer or a view) as a plain ConvergenceMessage; int64 as numbers. */
function decode(data) {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : Array.isArray(data) ? Buffer.concat(data) : data;
  return Message.toObject(Message.decode(bytes), { longs: Number });
}

/** The name of the body field set in a decoded message (requestId/responseId aside). */
function bodyName(message) {
  return Object.keys(message).find((k) => k !== "requestId" && k !== "responseId");
}

/**
 * A logged-in raw connection. `request(body)` sends a request and resolves with the reply's
 * body object ({error: {...}} or e.g. {openRealTimeModelResponse: {...}}); `send(body)` sends
 * a normal message; every message that is not a reply (normal messages, server requests) is
 * kept in `received`. Pings are answered; a server request (the auto-create exchange) is
 * answered with `answer(message)`'s body when set.
 */
class RawClient {
  constructor(ws) {
    this.ws = ws;
    this.nextId = 0;
    this.pending = new Map();
    this.received = [];
    this.closed = null;
    ws.on("message", (data) => this.onMessage(decode(data)));
    ws.on("close", (code) => {
      this.closed = code;
      for (const { reject } of this.pending.values()) reject(new Error(`socket closed (${code})`));
      this.pending.clear();
    });
    ws.on("error", () => {});
  }

  /**
   * Opens a socket to `url` and logs in with `auth`, one of {password: {username, password}},
   * {anonymous: {displayName}}, {jwt: {jwt}}. Resolves with the client once logged in, or
   * rejects with the failure's code.
   */
  static async connect(url, auth) {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const client = new RawClient(ws);
    const reply = await client.request({ connectionRequest: { client: "raw", clientVersion: "0", ...auth } });
    const res = reply.connectionResponse;
    if (!res || !res.success) {
      ws.terminate();
      const failure = (res && res.failure) || {};
      const e = new Error(`login refused: ${failure.code} ${failure.details}`);
      e.code = failure.code;
      throw e;
    }
    client.session = res.success;
    return client;
  }

  onMessage(message) {
    if (message.ping) {
      this.ws.send(encode({ pong: {} }));
      return;
    }
    if (message.pong) return;
    if (message.requestId && !message.responseId && this.answer) {
      const body = this.answer(message);
      if (body) this.ws.send(encode({ responseId: { value: message.requestId.value || 0 }, ...body }));
    }
    if (message.responseId && !message.requestId) {
      const id = message.responseId.value || 0;
      const waiter = this.pending.get(id);
      if (waiter) {
        this.pending.delete(id);
        const { responseId, ...body } = message;
        waiter.resolve(body);
        return;
      }
    }
    this.received.push(message);
  }

  /** Sends `body` as a request; resolves with the reply body (an error reply included). */
  request(body, timeoutMs = 10000) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${bodyName(body)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.ws.send(encode({ requestId: { value: id }, ...body }));
    });
  }

  /** Sends `body` as a normal (one-way) message. */
  send(body) {
    this.ws.send(encode(body));
  }

  /** The messages received (not replies) whose body is `name`, e.g. "forceCloseRealTimeModel". */
  ofType(name) {
    return this.received.filter((m) => m[name]).map((m) => m[name]);
  }

  close() {
    this.ws.terminate();
  }
}

/** A string splice operation for a submission: insert `text` at `index` of the string `id`. */
function insertOp(id, index, text) {
  return { discreteOperation: { stringSpliceOperation: { id, index, deleteCount: 0, insertedValue: text } } };
}

/** The value id of the child `key` of a wire ObjectValue (e.g. an open response's data). */
function childId(objectValue, key) {
  const child = objectValue.children && objectValue.children[key];
  if (!child) throw new Error(`no child ${key} in ${JSON.stringify(objectValue)}`);
  const v = Object.values(child)[0];
  return v.id;
}

module.exports = { RawClient, bodyName, childId, decode, encode, insertOp };
