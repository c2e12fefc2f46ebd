// Shared cursors: a collaborator's caret and selection move when someone types before them.

"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const h = require("./lib/harness");

let server;
const domains = [];
const models = [];

before(async () => {
  server = await h.TandemServer.start({});
});

after(async () => {
  await h.disposeAll(domains, models);
  if (server) await server.close();
});

async function open(name, modelId) {
  const d = await h.connectAnonymously(server.url, name);
  domains.push(d);
  const m = await d.models().openAutoCreate({ collection: "refs", id: modelId, data: { text: "hello world" } });
  models.push(m);
  return m;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

test("a shared index and range reference move by the length of text inserted before them", async () => {
  const modelId = "cursor";
  const a = await open("Ann", modelId);
  const b = await open("Ben", modelId);
  const textA = a.root().get("text");
  const textB = b.root().get("text");
  const annSession = a.session().sessionId();

  // Ann puts her caret after "hello" and selects "world".
  const caret = textA.indexReference("caret");
  caret.set(5);
  caret.share();
  const selection = textA.rangeReference("selection");
  selection.set({ start: 6, end: 11 });
  selection.share();

  const remote = (key) => textB.reference(annSession, key);
  const describe = () =>
    `  Ben sees caret ${JSON.stringify(remote("caret") && remote("caret").value())}, ` +
    `selection ${JSON.stringify(remote("selection") && remote("selection").value())}`;
  await h.waitFor(
    () => remote("caret") && remote("caret").value() === 5 && remote("selection") && same(remote("selection").value(), { start: 6, end: 11 }),
    { what: "Ben to see Ann's caret at 5 and selection 6..11", describe },
  );
  assert.equal(remote("caret").user().displayName, "Ann");

  // Ben types before both; the emoji counts as two UTF-16 units.
  const typed = ">> 😀 ";
  textB.insert(0, typed);
  await h.whenCommitted(b);
  const n = typed.length;

  await h.waitFor(() => remote("caret").value() === 5 + n && same(remote("selection").value(), { start: 6 + n, end: 11 + n }), {
    what: `Ben to see Ann's caret at ${5 + n} and selection ${6 + n}..${11 + n}`,
    describe,
  });
  // Ann's own references moved with the text too.
  await h.waitFor(() => textA.value() === typed + "hello world", { what: "Ann to receive Ben's text" });
  assert.equal(caret.value(), 5 + n);
  assert.deepEqual(selection.value(), { start: 6 + n, end: 11 + n });

  // Someone who opens the model now gets the references from the server, already moved.
  const c = await open("Cat", modelId);
  const textC = c.root().get("text");
  assert.equal(textC.value(), typed + "hello world");
  await h.waitFor(() => textC.reference(annSession, "caret") && textC.reference(annSession, "selection"), {
    what: "Cat to see Ann's references",
  });
  assert.equal(textC.reference(annSession, "caret").value(), 5 + n);
  assert.deepEqual(textC.reference(annSession, "selection").value(), { start: 6 + n, end: 11 + n });

  // The caret still points at the same character for everyone.
  assert.equal(textB.value().slice(remote("caret").value()), " world");
});
