// A loopback TCP proxy between a client and the server whose two directions can be cut
// separately and whose connections can be dropped: acknowledgements lost on the way back,
// operations lost on the way in, and connection drops, on demand.

"use strict";

const net = require("node:net");

/** A loopback TCP proxy whose directions can be cut, and whose connections can be dropped. */
class GatedProxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.downstream = true; // server -> client
    this.upstream = true; // client -> server
    this.pairs = new Set();
    this.server = net.createServer((client) => this.accept(client));
  }

  async listen() {
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = this.server.address().port;
  }

  accept(client) {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.targetPort, "127.0.0.1");
    const pair = { client, upstream, held: [] };
    this.pairs.add(pair);
    client.on("data", (b) => this.upstream && !pair.abandoned && upstream.write(b));
    upstream.on("data", (b) => {
      if (!this.downstream || pair.abandoned) return;
      if (this.holding) pair.held.push(b);
      else client.write(b);
    });
    const end = () => {
      client.destroy();
      if (!pair.abandoned) upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  }

  /**
   * Holds what the server sends, in order, until `release()`: the client keeps talking but
   * hears nothing (a slow network), and then hears everything at once.
   */
  hold() {
    this.holding = true;
  }

  /** Delivers what `hold()` kept back and forwards normally again. */
  release() {
    this.holding = false;
    for (const pair of this.pairs) {
      // One write: the client reads it all at once, as after a stall on a real network.
      const held = pair.held.splice(0);
      if (held.length > 0) pair.client.write(Buffer.concat(held));
    }
  }

  /** Drops every proxied connection (both sides see a reset) and forwards normally again. */
  dropAll() {
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
    this.downstream = true;
    this.upstream = true;
    this.holding = false;
  }

  /**
   * The client's network goes away without the server hearing of it: the client side is
   * reset, the server side stays open and silent (nothing is forwarded on it any more).
   */
  abandonAll() {
    for (const pair of this.pairs) {
      pair.abandoned = true;
      (this.abandoned = this.abandoned || []).push(pair.upstream);
      pair.client.resetAndDestroy();
    }
    this.pairs.clear();
    this.downstream = true;
    this.upstream = true;
  }

  /**
   * The client's network is gone: its connections are dropped and new ones refused until
   * `goOnline()` (the server stays up for everyone else).
   */
  goOffline() {
    this.refusing = true;
    this.dropAll();
  }

  /** Connections are accepted again after `goOffline()`. */
  goOnline() {
    this.refusing = false;
  }

  /** `serverUrl` with its port replaced by the proxy's. */
  url(serverUrl) {
    const u = new URL(serverUrl);
    u.port = String(this.port);
    return u.toString();
  }

  close() {
    this.dropAll();
    for (const s of this.abandoned || []) s.destroy();
    this.server.close();
  }
}

/** A proxy in front of `server`, listening. */
async function proxyFor(server) {
  const proxy = new GatedProxy(server.port);
  await proxy.listen();
  return proxy;
}

/** The users alice (pw-a) and bob (pw-b), for `TandemServer.start`. */
const ALICE_AND_BOB = [
  { username: "alice", password: "pw-a" },
  { username: "bob", password: "pw-b" },
];

module.exports = { ALICE_AND_BOB, GatedProxy, proxyFor };
