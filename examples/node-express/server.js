// An Express app server that hosts real-time collaboration in-process: the Convergence client
// connects to the engine's listener, and when the last session leaves a model the app writes
// the model back to its own store (here: a JSON file per model) and serves it over REST.
// Run: (cd ../../bindings/node && ./run-tests.sh) once to build the module, then npm i && npm start.
"use strict";
const express = require("express");
const fs = require("fs");
const path = require("path");
const { Engine } = require("tandem-node");

async function main() {
  const store = path.join(__dirname, "saved");
  fs.mkdirSync(store, { recursive: true });
  const engine = new Engine({ data_dir: path.join(__dirname, "tandem-data") });
  try {
    await engine.createDomain("demo", "default", { anonymousAuth: true });
  } catch (e) {
    if (e.code !== "already_exists") throw e;
  }
  const realtime = await engine.listen("127.0.0.1:8001");

  // Write a model back to the app's own storage when its last editor leaves.
  engine.subscribe("demo", "default", null, async (err, event) => {
    if (err || event.type !== "last_session_left") return;
    const data = await engine.modelJson("demo", "default", event.model);
    fs.writeFileSync(path.join(store, `${event.model}.json`), JSON.stringify(data, null, 2));
    console.log(`saved ${event.model} at version ${event.version}`);
  });

  const app = express();
  app.use(express.json());
  app.get("/docs/:id", (req, res) => {
    const file = path.join(store, `${path.basename(req.params.id)}.json`);
    if (!fs.existsSync(file)) return res.status(404).json({ error: "not saved yet" });
    res.type("json").send(fs.readFileSync(file));
  });
  app.post("/docs/:id", async (req, res) => {
    try {
      const id = await engine.createModel("demo", "default", "docs", req.body, req.params.id);
      res.status(201).json({ id });
    } catch (e) {
      res.status(e.code === "already_exists" ? 409 : 400).json({ error: e.code, message: e.message });
    }
  });
  const server = app.listen(3000, "127.0.0.1", () => {
    console.log("app on http://127.0.0.1:3000, Convergence clients on ws://" + realtime + "/realtime/demo/default");
  });
  const stop = async () => {
    server.close();
    await engine.shutdown();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
