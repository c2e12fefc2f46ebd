// Type-checked (tsc --noEmit --strict) by run-tests.sh: the public API as a TS user writes it.
import {
  Engine, Event, NotFoundError, TandemError, Change, ModelRights, UserId, ActivityParticipant, ActivityChangeKind,
  ChatHistory, ChatInfo, PostedMessage, QueryPage, ActivityInfo, ConnectedSession, RegisteredWebhook, Webhook,
  WebhookDelivery, Admin, AdminToken, ApiKey, NewApiKey, UndoOutcome,
} from "tandem-node";

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
  const bob: UserId = { kind: "normal", name: "bob" };
  await domain.createGroup("editors", "Editors");
  await domain.addGroupMember("editors", bob);
  await domain.setCollectionWorld("notes", { read: true });
  await model.setPermissions({ override_world: true, world: {}, set_users: [[bob, { read: true, write: true }]] });
  const rights: ModelRights = await model.rightsOf(bob);
  const undone: UndoOutcome = await model.undo({ last_of: bob }, { by: bob });
  if (undone.outcome === "undone") console.log(undone.version, undone.undid);
  else if (undone.outcome === "conflict") console.log(undone.versions);
  await model.redo({ version: 3 });
  const token: string = await domain.adminToken("ops", 3600);
  await domain.changePermissions({ kind: "chat", id: "lobby" }, { add: { world: ["join_chat"] } });
  await domain.createActivity("board", "b1", { world: ["join", "view_state"] });
  const participants: ActivityParticipant[] = await domain.activityParticipants("board", "b1");
  const exists: boolean = await domain.activityExists("board", "b1");
  for await (const e of domain.events()) {
    if (e.type === "activity_changed") {
      const kind: ActivityChangeKind = e.kind;
      console.log(kind, e.activity_type, e.activity_id, e.session ?? "-", e.user?.name, e.state);
      break;
    }
  }
  await domain.deleteActivity("board", "b1");
  console.log(participants.map((p) => [p.session, p.user.name, p.state]), exists);
  await domain.setState((await domain.settings()).state === "online" ? "maintenance" : "online");
  console.log(rights.write, token.length, (await model.permissions()).users[0][0].name);
  const chatId: string = await domain.createChat({ kind: "channel", name: "Lobby", members: [bob] });
  const posted: PostedMessage = await domain.postChatMessage(chatId, "hello", { user: bob });
  const page: ChatHistory = await domain.chatHistory(chatId, { kinds: ["message"], limit: 10 });
  for (const ev of page.events) if (ev.kind === "message") console.log(ev.number, ev.text);
  const info: ChatInfo | null = await domain.chat(chatId);
  const direct: ChatInfo = await domain.directChat([bob]);
  console.log(direct.id, direct.members.map((m) => m.max_seen_event));
  const found: QueryPage = await domain.query("SELECT * FROM notes WHERE text = 'hi!'", { user: bob });
  for (const m of found.models) console.log(m.id, m.version, m.data["text"], found.total);
  domain.events().on("event", (e: Event) => {
    if (e.type === "chat_changed" && e.change === "event" && e.event.kind === "message") console.log(e.chat_id, e.event.text);
  });
  console.log(posted.number, info?.topic);
  const admin: Admin = await engine.addAdmin("root", "s3cret");
  const login: AdminToken = await engine.adminLogin("root", "s3cret");
  console.log(admin.username, (await engine.verifyAdminToken(login.token)).updated_ms, login.expires_ms);
  await engine.setAdminPassword("root", "n3w");
  console.log((await engine.admins()).map((a: Admin) => a.created_ms));
  await engine.removeAdmin("root");
  const key: NewApiKey = await domain.createApiKey("ci", true);
  const verified: ApiKey = await domain.verifyApiKey(key.token);
  console.log(verified.read_only, (await domain.apiKeys()).map((k) => k.name));
  await domain.revokeApiKey(key.key.id);
  const hook: RegisteredWebhook = await domain.addWebhook({ url: "http://127.0.0.1:9/x", events: ["model.created"] });
  const hooks: Webhook[] = await domain.webhooks();
  const deliveries: WebhookDelivery[] = await domain.webhookDeliveries(hook.id);
  for (const d of deliveries) console.log(d.id, d.status, d.last_status ?? "-", d.last_error ?? "-", JSON.parse(d.payload));
  await domain.removeWebhook(hook.id);
  const sessions: ConnectedSession[] = await domain.sessions();
  for (const s of sessions) await domain.disconnectSession(s.id);
  const activities: ActivityInfo[] = await domain.activities();
  console.log(hooks.length, hook.secret, activities.map((a) => [a.activity_type, a.id, a.ephemeral]));
  for await (const e of domain.events()) {
    if (e.type === "model_created" || e.type === "model_deleted") {
      console.log(e.model, e.collection);
      break;
    }
  }
  const users = await domain.users();
  console.log(version, data.text, users.map((u) => u.username), await engine.listen("127.0.0.1:0"));
  await engine.shutdown();
}
void main();
