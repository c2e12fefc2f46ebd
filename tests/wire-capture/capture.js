// Records the frames the real Convergence client (@convergence/convergence 1.0.0-rc.12)
// sends, as fixtures for engine/tests/wire.rs.
//
// A throw-away `ws` server on 127.0.0.1 answers just enough, with hand-built protobuf bytes
// (no schema, no protobuf library), for the client to go on to its next message. Every
// binary frame the client sends is written as one line `<body>.<step> <hex>`, where <body>
// is the protocol name of the frame's body. Usage: node capture.js <output file>

"use strict";

const fs = require("fs");
const WebSocket = require("ws");
const Convergence = require("@convergence/convergence");

// Body field numbers of the messages a client sends (protocol reference, §7).
const CLIENT_BODIES = {
  4: "error", 5: "ping", 6: "pong", 7: "connectionRequest", 20: "serverTimeRequest",
  100: "openRealTimeModelRequest", 102: "closeRealTimeModelRequest",
  104: "createRealTimeModelRequest", 106: "deleteRealtimeModelRequest",
  112: "modelAutoCreateConfigResponse", 114: "operationSubmission", 116: "shareReference",
  117: "setReference", 118: "clearReference", 119: "unshareReference",
  124: "modelsQueryRequest", 126: "getModelPermissionsRequest",
  128: "setModelPermissionsRequest", 131: "modelResyncRequest",
  133: "modelResyncClientComplete", 137: "modelOfflineSubscriptionChange",
  139: "historicalDataRequest", 141: "historicalOperationsRequest",
  143: "modelGetVersionAtTimeRequest", 201: "usersGetRequest", 202: "userSearchRequest",
  204: "userGroupsRequest", 206: "userGroupsForUsersRequest",
  300: "activityParticipantsRequest", 302: "activityCreateRequest",
  304: "activityDeleteRequest", 306: "activityJoinRequest", 308: "activityLeaveRequest",
  312: "activityUpdateState", 400: "presenceSetState", 401: "presenceRemoveState",
  402: "presenceClearState", 407: "presenceRequest", 409: "presenceSubscribeRequest",
  411: "presenceUnsubscribe", 500: "createChatRequest", 502: "removeChatRequest",
  505: "getChatsRequest", 507: "chatsExistRequest", 509: "getDirectChatsRequest",
  511: "getJoinedChatsRequest", 513: "chatsSearchRequest", 515: "joinChatRequest",
  518: "leaveChatRequest", 521: "addUserToChatRequest", 524: "removeUserFromChatRequest",
  527: "setChatNameRequest", 530: "setChatTopicRequest", 533: "markChatEventsSeenRequest",
  536: "publishChatMessageRequest", 539: "getChatHistoryRequest",
  601: "resolvePermissionsForConnectedSessionRequest", 603: "addPermissionsRequest",
  605: "removePermissionsRequest", 607: "setPermissionsRequest", 609: "getPermissionsRequest",
};

// ---- Minimal protobuf writing and reading ------------------------------------------------

function varint(n) {
  const out = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const cat = (...parts) => Buffer.concat(parts.filter(Boolean));
const vint = (f, n) => cat(varint(f * 8), varint(n));
const bytes = (f, b) => cat(varint(f * 8 + 2), varint(b.length), b);
const str = (f, s) => bytes(f, Buffer.from(s, "utf8"));
const msg = (f, ...parts) => bytes(f, cat(...parts));
function ts(f, ms) {
  const s = Math.floor(ms / 1000);
  return msg(f, vint(1, s), vint(2, (ms - s * 1000) * 1e6));
}

// Top-level fields of a message: [{f, wt, v (number) | b (Buffer)}].
function fields(buf) {
  const out = [];
  let i = 0;
  const rv = () => {
    let r = 0n, s = 0n, b;
    do { b = buf[i++]; r |= BigInt(b & 0x7f) << s; s += 7n; } while (b & 0x80);
    return r;
  };
  while (i < buf.length) {
    const key = Number(rv());
    const f = key >> 3, wt = key & 7;
    if (wt === 0) out.push({ f, wt, v: Number(BigInt.asIntN(64, rv())) });
    else if (wt === 2) { const n = Number(rv()); out.push({ f, wt, b: buf.subarray(i, i + n) }); i += n; }
    else if (wt === 1) { out.push({ f, wt, b: buf.subarray(i, i + 8) }); i += 8; }
    else if (wt === 5) { out.push({ f, wt, b: buf.subarray(i, i + 4) }); i += 4; }
    else throw new Error("wire type " + wt);
  }
  return out;
}
const field = (buf, f) => fields(buf).find((x) => x.f === f);
const all = (buf, f) => fields(buf).filter((x) => x.f === f);
const wrapped = (x) => (x ? (field(x.b, 1) ? field(x.b, 1).v : 0) : null);
const text = (x) => (x ? x.b.toString("utf8") : "");

// Envelopes.
const reply = (id, body, content) => cat(msg(2, vint(1, id)), bytes(body, content));
const request = (id, body, content) => cat(msg(1, vint(1, id)), bytes(body, content));
const normal = (body, content) => bytes(body, content);
const error = (id, code) => reply(id, 4, cat(str(1, code), str(2, "not in the capture mock")));

// ---- Recording ---------------------------------------------------------------------------

const lines = [];
const counts = {};
let step = "start";

function record(frame) {
  const body = fields(frame).find((x) => x.f > 2);
  const name = body ? CLIENT_BODIES[body.f] || `body${body.f}` : "nobody";
  let label = `${name}.${step}`;
  counts[label] = (counts[label] || 0) + 1;
  if (counts[label] > 1) label += `.${counts[label]}`;
  lines.push(`${label} ${frame.toString("hex")}`);
}

// ---- The mock server ---------------------------------------------------------------------

const NOW = 1700000000123;
const PERMS_ALL = cat(vint(1, 1), vint(2, 1), vint(3, 1), vint(4, 1));
let sessionCounter = 0;
let resourceCounter = 0;
const sockets = new Set();

function userId(type, name) {
  return cat(vint(1, type), str(2, name));
}
function userData(type, name) {
  return cat(msg(1, userId(type, name)), msg(4, str(1, name)));
}

function startServer() {
  const wss = new WebSocket.Server({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (ws) => {
    sockets.add(ws);
    ws.on("close", () => sockets.delete(ws));
    const conn = {
      session: "",
      user: userId(0, "nobody"),
      userFull: userData(0, "nobody"),
      serverRequests: 0,
      pendingOpens: new Map(), // server request id -> {id, modelId}
      versions: new Map(), // resource id -> next version
      models: new Map(), // resource id -> model id
    };
    const send = (b) => ws.send(b);
    const identity = () =>
      normal(200, cat(msg(1, str(1, conn.session), msg(2, conn.user)), msg(2, conn.userFull)));
    const chatInfo = (id, type) =>
      cat(str(1, id), str(2, type), str(3, "public"), str(4, "name"), str(5, "topic"),
        ts(6, NOW), ts(7, NOW), vint(8, 1), msg(9, msg(1, conn.user), vint(2, 0)));

    function openResponse(id, modelId, data) {
      const rid = resourceCounter++;
      conn.versions.set(rid, 1);
      conn.models.set(rid, modelId);
      send(identity());
      send(reply(id, 101, cat(vint(1, rid), str(2, modelId), str(3, "notes"), str(4, String(rid + 2)),
        vint(5, 1), ts(6, NOW), ts(7, NOW), bytes(8, data), str(9, conn.session), msg(12, PERMS_ALL))));
    }

    ws.on("message", (data, isBinary) => {
      if (!isBinary) return;
      const frame = Buffer.from(data);
      record(frame);
      const top = fields(frame);
      const rq = wrapped(top.find((x) => x.f === 1));
      const rs = wrapped(top.find((x) => x.f === 2));
      const body = top.find((x) => x.f > 2);
      if (!body) return;
      const b = body.b;
      switch (body.f) {
        case 5: send(normal(6, Buffer.alloc(0))); return;
        case 7: {
          conn.session = `s${++sessionCounter}`;
          const auth = fields(b).find((x) => x.f >= 3);
          let type = 0, name = "user";
          if (auth.f === 3) name = text(field(auth.b, 1));
          if (auth.f === 4) name = "jwt-user";
          if (auth.f === 5) { type = 2; name = `anon${sessionCounter}`; }
          if (auth.f === 6) { type = 2; name = "anon1"; }
          conn.user = userId(type, name);
          conn.userFull = userData(type, name);
          send(reply(rq, 8, cat(msg(1, str(1, "capture-mock")), msg(3, str(1, "convergence"),
            str(2, "default"), msg(3, conn.userFull), str(4, conn.session), str(5, "tok-" + name)))));
          return;
        }
        case 20: send(reply(rq, 21, ts(1, NOW))); return;
        case 100: {
          const modelId = field(b, 1) ? text(field(field(b, 1).b, 1)) : "generated";
          const auto = field(b, 2);
          if (auto) {
            const sid = conn.serverRequests++;
            conn.pendingOpens.set(sid, { id: rq, modelId });
            send(request(sid, 111, vint(1, wrapped(auto))));
          } else {
            openResponse(rq, modelId, cat(str(1, "0:0")));
          }
          return;
        }
        case 112: {
          const pending = conn.pendingOpens.get(rs);
          conn.pendingOpens.delete(rs);
          openResponse(pending.id, pending.modelId, field(b, 2).b);
          return;
        }
        case 102: send(reply(rq, 103, Buffer.alloc(0))); return;
        case 104: send(reply(rq, 105, str(1, field(b, 2) ? text(field(field(b, 2).b, 1)) : "new-id"))); return;
        case 106: send(reply(rq, 107, Buffer.alloc(0))); return;
        case 114: {
          const rid = field(b, 1) ? field(b, 1).v : 0;
          const seq = field(b, 2) ? field(b, 2).v : 0;
          const version = conn.versions.get(rid);
          conn.versions.set(rid, version + 1);
          send(normal(115, cat(vint(1, rid), vint(2, seq), vint(3, version), ts(4, NOW))));
          return;
        }
        case 124: send(reply(rq, 125, cat(vint(2, 0), vint(3, 0)))); return;
        case 126:
          send(reply(rq, 127, cat(vint(1, 1), msg(2, PERMS_ALL), msg(3, msg(1, conn.user), msg(2, PERMS_ALL)))));
          return;
        case 128: send(reply(rq, 129, Buffer.alloc(0))); return;
        case 131: {
          const rid = resourceCounter++;
          const modelId = text(field(b, 1));
          const version = field(b, 2) ? field(b, 2).v : 0;
          conn.versions.set(rid, version);
          conn.models.set(rid, modelId);
          send(reply(rq, 132, cat(vint(1, rid), vint(2, version), msg(3, PERMS_ALL))));
          return;
        }
        case 133: {
          send(identity());
          send(normal(134, cat(vint(1, field(b, 1) ? field(b, 1).v : 0), str(2, conn.session))));
          return;
        }
        case 137: send(reply(rq, 3, Buffer.alloc(0))); return;
        case 139:
          send(reply(rq, 140, cat(str(1, "notes"), msg(2, str(1, "0:0")), vint(3, 3), ts(4, NOW), ts(5, NOW))));
          return;
        case 141: send(reply(rq, 142, Buffer.alloc(0))); return;
        case 143: send(reply(rq, 144, vint(1, 1))); return;
        case 201:
          send(identity());
          send(reply(rq, 203, cat(...all(b, 1).map((u) => msg(1, msg(1, u.b), msg(4, str(1, "User")))))));
          return;
        case 202: send(reply(rq, 203, Buffer.alloc(0))); return;
        case 204:
          send(reply(rq, 205, cat(...all(b, 1).map((g) => msg(1, bytes(1, g.b), str(2, "group"), msg(3, conn.user))))));
          return;
        case 206:
          send(reply(rq, 207, cat(...all(b, 1).map((u) => msg(1, bytes(1, u.b), str(2, "g1"))))));
          return;
        case 302: case 304: case 308: case 603: case 605: case 607:
          send(reply(rq, 3, Buffer.alloc(0)));
          return;
        case 306: {
          const rid = resourceCounter++;
          // The joiner's own state: the request's state entries (field 4) as ActivityStateData.
          const state = cat(...all(b, 4).map((e) => bytes(1, e.b)));
          send(identity());
          send(reply(rq, 307, cat(vint(1, rid), msg(2, str(1, conn.session), bytes(2, state)),
            vint(3, 1), ts(5, NOW))));
          return;
        }
        case 407: case 409: {
          const users = all(b, 1).map((u) => msg(1, bytes(1, u.b), vint(2, 1)));
          send(reply(rq, body.f + 1, cat(...users)));
          return;
        }
        case 500: send(reply(rq, 501, str(1, field(b, 1) ? text(field(field(b, 1).b, 1)) : "chat-x"))); return;
        case 502: case 518: case 521: case 524: case 527: case 530: case 533:
          send(reply(rq, body.f + 1, Buffer.alloc(0)));
          return;
        case 505:
          send(identity());
          send(reply(rq, 506, cat(...all(b, 1).map((c) => msg(1, chatInfo(text(c), "channel"))))));
          return;
        case 507:
          send(reply(rq, 508, cat(...all(b, 1).map(() => vint(1, 1)))));
          return;
        case 509:
          send(identity());
          send(reply(rq, 510, cat(...all(b, 1).map(() => msg(1, chatInfo("direct-1", "direct"))))));
          return;
        case 511: send(reply(rq, 512, Buffer.alloc(0))); return;
        case 513: send(reply(rq, 514, cat(vint(2, 0), vint(3, 0)))); return;
        case 515:
          send(identity());
          send(reply(rq, 516, msg(1, chatInfo(text(field(b, 1)), "room"))));
          return;
        case 536: send(reply(rq, 537, cat(vint(1, 2), ts(2, NOW)))); return;
        case 539: send(reply(rq, 540, cat(vint(2, 0), vint(3, 0)))); return;
        case 601: send(reply(rq, 602, cat(str(1, "join"), str(1, "view_state")))); return;
        case 609: send(reply(rq, 610, msg(2, str(1, "editors"), msg(2, str(1, "join"))))); return;
        default:
          if (rq !== null) send(error(rq, "not_supported"));
      }
    });
  });
  return new Promise((resolve) => wss.on("listening", () => resolve(wss)));
}

// ---- Driving the real client -------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run(label, fn) {
  step = label;
  try {
    await fn();
  } catch (e) {
    console.error(`step ${label}: ${e && e.message ? e.message : e}`);
  }
  await sleep(60);
}

async function main() {
  const out = process.argv[2] || "client_frames.txt";
  const wss = await startServer();
  const url = `ws://127.0.0.1:${wss.address().port}/api/realtime/convergence/default`;
  const options = {
    webSocket: { class: WebSocket },
    protocol: { defaultRequestTimeout: 2, heartbeat: { enabled: true, pingInterval: 1, pongTimeout: 5 } },
    reconnect: { autoReconnect: true, reconnectIntervals: [0] },
  };

  // Authentication methods, each on its own socket.
  for (const [label, connect] of [
    ["anonymous_no_name", () => Convergence.connectAnonymously(url, undefined, options)],
    ["password", () => Convergence.connect(url, "bob", "secret", options)],
    ["jwt", () => Convergence.connectWithJwt(url, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln", options)],
  ]) {
    let d;
    await run(label, async () => { d = await connect(); await sleep(100); });
    if (d) await d.dispose();
    await sleep(100);
  }

  let domain;
  await run("anonymous", async () => { domain = await Convergence.connectAnonymously(url, "Alice", options); });
  await sleep(100);

  await run("server_time", () => domain.serverTime ? domain.serverTime() : null);

  // Presence.
  const presence = domain.presence();
  let subscription;
  await run("presence", async () => {
    presence.setState({ status: "busy", count: 0, nothing: null, list: [1, "two", false], nested: { a: 1.5 } });
    presence.removeState("count");
    presence.clearState();
    await presence.presence(["bob", "carol"]);
    subscription = await presence.subscribe("bob");
  });
  await run("presence_unsubscribe", async () => { if (subscription) subscription.unsubscribe(); });

  // Models: open with auto-create, then every kind of operation.
  const models = domain.models();
  let model;
  await run("open_auto_create", async () => {
    model = await models.openAutoCreate({
      collection: "notes",
      id: "m1",
      data: {
        text: "hello",
        list: [1, "a", null, true],
        obj: { k: true, n: 2 },
        num: 1,
        zero: 0,
        flag: false,
        when: new Date(1600000000123),
        before1970: new Date(-1500),
      },
    });
  });
  if (model) {
    const text = model.elementAt("text");
    const list = model.elementAt("list");
    const obj = model.elementAt("obj");
    const num = model.elementAt("num");
    const flag = model.elementAt("flag");
    const when = model.elementAt("when");
    await run("string_insert", () => text.insert(5, " world"));
    await run("string_remove", () => text.remove(0, 1));
    await run("string_splice_emoji", () => text.splice(1, 2, "😀é"));
    await run("string_set", () => text.value("fresh 🎉 text"));
    await run("array_insert", () => list.insert(1, { deep: [1, { x: "y" }] }));
    await run("array_remove", () => list.remove(0));
    await run("array_replace", () => list.set(0, "replaced"));
    await run("array_move", () => list.reorder(0, 2));
    await run("array_set", () => list.value([3, 2, 1]));
    await run("object_add_property", () => obj.set("added", "v"));
    await run("object_set_property", () => obj.set("k", false));
    await run("object_remove_property", () => obj.remove("n"));
    await run("object_set", () => obj.value({ a: 1, b: [] , c: {} }));
    await run("number_delta", () => num.add(2.5));
    await run("number_set", () => num.value(-7));
    await run("number_set_zero", () => num.value(0));
    await run("boolean_set", () => flag.value(true));
    await run("date_set", () => when.value(new Date(1700000000999)));
    await run("compound", () => {
      model.startBatch();
      text.insert(0, ">");
      list.insert(0, 9);
      obj.set("batch", { inner: null });
      model.completeBatch();
    });

    // References: string index and range, object property, model-level elements.
    await run("reference_index", () => {
      const r = text.indexReference("cursor");
      r.set(3);
      r.share();
      r.set(4);
      r.clear();
      r.unshare();
    });
    await run("reference_range", () => {
      const r = text.rangeReference("selection");
      r.share();
      r.set({ start: 1, end: 4 });
      r.set([{ start: 0, end: 1 }, { start: 2, end: 3 }]);
    });
    await run("reference_property", () => {
      const r = obj.propertyReference("prop");
      r.share();
      r.set(["a", "k"]);
    });
    await run("reference_element", () => {
      const r = model.elementReference("sel");
      r.set([text, list]);
      r.share();
      r.unshare();
    });

    // Drop the socket: the client reconnects with its token and resyncs the open model.
    await run("reconnect", async () => {
      for (const ws of sockets) ws.terminate();
      await sleep(1500);
    });
    await run("after_reconnect", () => text.insert(0, "!"));
    await run("close_model", () => model.close());
  }

  await run("create_model", () => models.create({
    collection: "notes", id: "m2", data: { a: 1 },
    overrideCollectionWorldPermissions: true,
    worldPermissions: { read: true, write: false, remove: false, manage: false },
    userPermissions: { bob: { read: true, write: true, remove: false, manage: false } },
  }));
  await run("create_model_no_id", () => models.create({ collection: "notes" }));
  await run("open_existing", async () => { const m = await models.open("m2"); await m.close(); });
  await run("delete_model", () => models.remove("m2"));
  await run("query", () => models.query("SELECT * FROM notes WHERE a > 0 LIMIT 5"));
  await run("model_permissions", async () => {
    const pm = models.permissions("m1");
    await pm.getPermissions();
    await pm.setOverridesCollection(true);
    await pm.setWorldPermissions({ read: true, write: false, remove: false, manage: false });
    await pm.setUserPermissions("bob", { read: true, write: true, remove: true, manage: false });
    await pm.removeUserPermissions("bob");
  });
  await run("history", async () => {
    const h = await models.history("m1");
    await h.playTo(1);
    await h.playToTime(new Date(NOW - 1000));
  });

  // Identity.
  const identity = domain.identity();
  await run("identity_user", () => identity.user("bob"));
  await run("identity_users", () => identity.users(["bob", "carol"]));
  await run("identity_search", () => identity.search({ term: "bo", fields: ["username", "email"], offset: 0, limit: 10, orderBy: { field: "username", ascending: true } }));
  await run("identity_groups", () => identity.groups(["g1", "g2"]));
  await run("identity_groups_for_users", () => identity.groupsForUsers(["bob"]));

  // Activities.
  const activities = domain.activities();
  await run("activity_create", () => activities.create({
    activityType: "doc", activityId: "a0", worldPermissions: ["join", "view_state"],
    userPermissions: { bob: ["join"] },
  }));
  let activity;
  await run("activity_join", async () => {
    activity = await activities.join("doc", "a1", {
      state: { cursor: 3, name: "Alice" },
      autoCreate: { ephemeral: true, worldPermissions: ["join", "view_state", "set_state"] },
    });
  });
  if (activity) {
    await run("activity_state", () => {
      activity.setState("cursor", 7);
      activity.setState({ a: true, b: null });
      activity.removeState("name");
      activity.removeState(["a", "b"]);
      activity.clearState();
    });
    await run("activity_permissions", async () => {
      const pm = activity.permissions();
      await pm.resolveSessionPermissions();
      await pm.getPermissions();
      await pm.addWorldPermissions(["lurk"]);
      await pm.removeWorldPermissions(["lurk"]);
      await pm.setWorldPermissions(["join"]);
      await pm.addUserPermissions({ bob: ["join"] });
      await pm.removeUserPermissions({ bob: ["join"] });
      await pm.setUserPermissions({ bob: ["join", "lurk"] }, true);
      await pm.addGroupPermissions({ editors: ["join"], empty: [] });
      await pm.removeGroupPermissions({ editors: ["join"] });
      await pm.setGroupPermissions({ editors: ["join"], empty: [] }, true);
    });
    await run("activity_leave", () => activity.leave());
  }
  await run("activity_lurk", async () => { const a = await activities.join("doc", "a2", { lurk: true }); await a.leave(); });
  await run("activity_delete", () => activities.remove("a0", "doc"));

  // Chat.
  const chat = domain.chat();
  await run("chat_create", () => chat.create({ id: "room1", type: "room", membership: "public", name: "Room", topic: "Talk", ignoreExistsError: true }));
  await run("chat_create_channel", () => chat.create({ type: "channel", membership: "private", members: ["bob"] }));
  await run("chat_exists", () => chat.exists(["room1", "nope"]));
  await run("chat_get", () => chat.get("chan1"));
  await run("chat_joined", () => chat.joined());
  await run("chat_search", () => chat.search({ searchTerm: "ro", searchFields: ["name"], types: ["room"], membership: "public", offset: 5, limit: 10 }));
  await run("chat_direct", () => chat.direct("bob"));
  let room;
  await run("chat_join", async () => { room = await chat.join("room1"); });
  if (room) {
    await run("chat_send", () => room.send("hi 👋 there"));
    await run("chat_name", () => room.setName("New name"));
    await run("chat_topic", () => room.setTopic("New topic"));
    await run("chat_mark_seen", () => room.markSeen(2));
    await run("chat_history", () => room.getHistory({ startEvent: 2, limit: 10, forward: true, eventFilter: ["message"] }));
    await run("chat_leave", () => room.leave());
  }
  await run("chat_channel_members", async () => {
    const c = await chat.get("chan1");
    await c.add("carol");
    await c.remove("carol");
  });
  await run("chat_permissions", async () => {
    const pm = chat.permissions("room1");
    await pm.getPermissions();
    await pm.resolveSessionPermissions();
    await pm.addGroupPermissions({ editors: ["join_chat"] });
    await pm.setWorldPermissions(["join_chat", "leave_chat"]);
  });
  await run("chat_remove", () => chat.remove("room1"));

  // Heartbeat: the server pings (the client answers pong), then the line goes idle so the
  // client pings.
  await run("server_ping", async () => {
    for (const ws of sockets) ws.send(normal(5, Buffer.alloc(0)));
    await sleep(200);
  });
  await run("heartbeat", () => sleep(1500));

  await domain.dispose();
  await sleep(200);
  wss.close();
  fs.writeFileSync(out, lines.join("\n") + "\n");
  console.error(`${lines.length} frames written to ${out}`);
  process.exit(0);
}

// A rejected request the mock could not satisfy must not end the capture.
process.on("unhandledRejection", (e) => console.error(`unhandled: ${e && e.message ? e.message : e}`));

main().catch((e) => { console.error(e); process.exit(1); });
