// A real Convergence client for the Python tests: connects as a user, then follows commands
// read from stdin, one per line, printing one JSON line per command done and per activity
// event. Commands: `join TYPE ID STATE-JSON`, `set KEY VALUE-JSON`, `leave`, `quit`.
// The client comes from NODE_PATH (tests/e2e/node_modules).
const Convergence = require("@convergence/convergence");
const WebSocket = require("ws");
const readline = require("node:readline");

const [url, user, password] = process.argv.slice(2);
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
// rc.12 leaves a rejection unhandled when a join is refused (the join's own promise rejects
// too, and that is the reply): note it on stderr, do not crash.
process.on("unhandledRejection", (e) => process.stderr.write(`unhandled: ${(e && e.message) || e}\n`));

async function run(client, state, line) {
  const [cmd, ...rest] = line.split(" ");
  if (cmd === "join") {
    const [type, id, ...json] = rest;
    state.activity = await client.activities().join(type, id, { state: JSON.parse(json.join(" ") || "{}") });
    for (const name of ["deleted", "force_leave"]) state.activity.on(name, () => say({ event: name }));
    const others = state.activity.participants().filter((p) => !p.local).length;
    return { joined: client.session().sessionId(), others };
  }
  if (cmd === "set") {
    const [key, ...json] = rest;
    state.activity.setState(key, JSON.parse(json.join(" ")));
    return { set: key };
  }
  if (cmd === "leave") {
    await state.activity.leave();
    return { left: true };
  }
  throw new Error(`unknown command ${cmd}`);
}

async function main() {
  const opts = { webSocket: { factory: (u) => new WebSocket(u), class: WebSocket }, reconnect: { autoReconnect: false } };
  const client = await Convergence.connect(url, user, password, opts);
  say({ connected: client.session().sessionId() });
  const state = { activity: null };
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === "quit") break;
    try {
      say(await run(client, state, line));
    } catch (e) {
      say({ error: String((e && e.message) || e) });
    }
  }
  await client.dispose();
}

main().catch((e) => {
  say({ fatal: String((e && e.message) || e) });
  process.exit(1);
});
