// An Express app server that hosts real-time collaboration in-process: Convergence clients
// connect to the engine's listener; the app reads and creates models over REST, and when the
// last editor leaves a model it writes the model back to its own store (a JSON file per model),
// consuming the domain's events with an async iterator.
//   PORT (default 3000), TANDEM_ADDR (default 127.0.0.1:8001), DATA_DIR (default ./data)
"use strict";
const express = require("express");
const fs = require("node:fs");
const path = require("node:path");
const { Engine, AlreadyExistsError, NotFoundError } = require("tandem-node");

async function writeBack(domain, saved) {
  for await (const event of domain.events()) {
    if (event.type !== "last_session_left") continue;
    const model = await domain.model(event.model);
    fs.writeFileSync(path.join(saved, `${event.model}.json`), JSON.stringify(await model.json(), null, 2));
    console.log(`saved ${event.model} at version ${event.version}`);
  }
}

async function main() {
  const dataDir = process.env.DATA_DIR || path.join(__dirname, "data");
  const saved = path.join(dataDir, "saved");
  fs.mkdirSync(saved, { recursive: true });
  const engine = await Engine.open({ data_dir: path.join(dataDir, "tandem") });
  const domain = await engine
    .createDomain("demo", "default", { anonymous_auth: true })
    .catch((e) => (e instanceof AlreadyExistsError ? engine.domain("demo", "default") : Promise.reject(e)));
  const realtime = await engine.listen(process.env.TANDEM_ADDR || "127.0.0.1:8001");
  const saving = writeBack(domain, saved);

  const app = express();
  app.use(express.json());
  app.get("/docs/:id", async (req, res) => {
    try {
      const model = await domain.model(req.params.id);
      res.json({ id: model.id, version: (await model.info()).version, data: await model.json() });
    } catch (e) {
      res.status(e instanceof NotFoundError ? 404 : 500).json({ error: e.code, message: e.message });
    }
  });
  app.post("/docs/:id", async (req, res) => {
    try {
      const model = await domain.createModel("docs", req.body, req.params.id);
      res.status(201).json({ id: model.id, version: (await model.info()).version, data: await model.json() });
    } catch (e) {
      res.status(e instanceof AlreadyExistsError ? 409 : 400).json({ error: e.code, message: e.message });
    }
  });
  const server = app.listen(Number(process.env.PORT || 3000), "127.0.0.1", () => {
    const { port } = server.address();
    console.log(`app on http://127.0.0.1:${port}, Convergence clients on ws://${realtime}/realtime/demo/default`);
  });
  const stop = async () => {
    server.close();
    await engine.shutdown(); // ends the event iterator
    await saving;
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
