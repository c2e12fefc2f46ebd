// The shared facade scenario (tests/conformance/scenario.json) through the Node handles:
// engine.domain(..).model(..)...
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";

const require = createRequire(import.meta.url);
const { Engine, TandemError } = require("../tandem.js");
const scenario = JSON.parse(fs.readFileSync(new URL("../../../tests/conformance/scenario.json", import.meta.url)));

async function call(e, name, a) {
  const domain = () => e.domain(a.namespace, a.domain);
  const model = async () => (await domain()).model(a.model_id);
  switch (name) {
    case "create_domain": return e.createDomain(a.namespace, a.domain).then(() => undefined);
    case "domains": return e.domains();
    case "create_collection": return (await domain()).createCollection(a.collection);
    case "collections": return (await domain()).collections();
    case "create_user": return (await domain()).createUser({ username: a.username, password: a.password });
    case "users": return (await (await domain()).users()).map((u) => u.username);
    case "set_password": return (await domain()).setPassword(a.username, a.password);
    case "create_model": return (await (await domain()).createModel(a.collection, a.data, a.model_id)).id;
    case "apply": return (await model()).apply(a.changes);
    case "model_json": return a.version === undefined ? (await model()).json() : (await model()).jsonAt(a.version);
    case "delete_model": return (await model()).delete();
    case "shutdown": return e.shutdown();
    default: throw new Error(`unknown call ${name}`);
  }
}

test("the shared scenario passes through the Node handles", async () => {
  const e = await Engine.open();
  for (const [i, step] of scenario.steps.entries()) {
    let got, err;
    try {
      got = await call(e, step.call, step.args);
    } catch (x) {
      err = x;
    }
    const expect = step.expect;
    const what = `step ${i} ${step.call}`;
    if (expect.error) {
      assert.ok(err, `${what}: expected ${expect.error}, got ${JSON.stringify(got)}`);
      assert.ok(err instanceof TandemError, `${what}: ${err}`);
      assert.equal(err.code, expect.error, `${what}: ${err.message}`);
    } else {
      assert.ifError(err);
      if (typeof expect === "object" && "result" in expect) assert.deepEqual(got, expect.result, what);
    }
  }
});
