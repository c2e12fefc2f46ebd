// The shared facade scenario (tests/conformance/scenario.json) through the Node binding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";

const require = createRequire(import.meta.url);
const { Engine } = require("../tandem.js");
const scenario = JSON.parse(fs.readFileSync(new URL("../../../tests/conformance/scenario.json", import.meta.url)));

async function call(e, name, a) {
  switch (name) {
    case "create_domain": return e.createDomain(a.namespace, a.domain);
    case "domains": return e.domains();
    case "create_collection": return e.createCollection(a.namespace, a.domain, a.collection);
    case "collections": return e.collections(a.namespace, a.domain);
    case "create_user": return e.createUser(a.namespace, a.domain, { username: a.username, password: a.password });
    case "users": return e.users(a.namespace, a.domain);
    case "set_password": return e.setPassword(a.namespace, a.domain, a.username, a.password);
    case "create_model": return e.createModel(a.namespace, a.domain, a.collection, a.data, a.model_id);
    case "apply": return e.apply(a.namespace, a.domain, a.model_id, a.changes);
    case "model_json": return e.modelJson(a.namespace, a.domain, a.model_id, a.version);
    case "delete_model": return e.deleteModel(a.namespace, a.domain, a.model_id);
    case "shutdown": return e.shutdown();
    default: throw new Error(`unknown call ${name}`);
  }
}

test("the shared scenario passes through the Node binding", async () => {
  const e = new Engine();
  for (const [i, step] of scenario.steps.entries()) {
    let got, err;
    try {
      got = await call(e, step.call, step.args);
    } catch (x) {
      err = x;
    }
    const expect = step.expect;
    if (expect.error) {
      assert.ok(err, `step ${i} ${step.call}: expected ${expect.error}, got ${JSON.stringify(got)}`);
      assert.equal(err.code, expect.error, `step ${i} ${step.call}: ${err.message}`);
    } else {
      assert.ifError(err);
      if (typeof expect === "object" && "result" in expect) assert.deepEqual(got, expect.result, `step ${i} ${step.call}`);
    }
  }
});
