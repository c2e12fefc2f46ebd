// Type-checked (tsc --noEmit --strict) by run-tests.sh: the public API as a TS user writes it.
import { Engine, Event, NotFoundError, TandemError, Change } from "tandem-node";

async function main(): Promise<void> {
  const engine = await Engine.open({ data_dir: null });
  const domain = await engine.createDomain("acme", "docs", { anonymous_auth: true });
  const model = await domain.createModel("notes", { text: "hi" }, "n1");
  const change: Change = { op: "splice", path: ["text"], index: 2, insert: "!" };
  const version: number = await model.apply([change]);
  const data: { text: string } = await model.json();
  const events = model.events();
  events.on("event", (e: Event) => {
    if (e.type === "operation_applied") console.log(e.version, e.operation);
  });
  for await (const e of domain.events()) {
    if (e.type === "last_session_left") break;
  }
  try {
    await domain.model("missing");
  } catch (err) {
    if (err instanceof NotFoundError) console.log(err.code, err.errno);
    else if (err instanceof TandemError) console.log(err.code);
  }
  const users = await domain.users();
  console.log(version, data.text, users.map((u) => u.username), await engine.listen("127.0.0.1:0"));
  await engine.shutdown();
}
void main();
