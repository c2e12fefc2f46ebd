// Pages: a domain's chats (live) and a chat's events, messages and permissions.

import {
  add, ago, api, badge, enc, eventStream, fmtTime, h, setChildren, throttle, userLabel, userName,
} from "./core.js";
import {
  card, checkbox, deleteButton, field, formCard, link, notify, page, pagedTable, remoteLoad,
} from "./widgets.js";
import { CHAT_PERMISSIONS, permissionRows } from "./views-permissions.js";

/** "alice, bob" from a comma list: normal users as REST names them. */
function userRefs(text) {
  return text
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean)
    .map((name) => ({ kind: "normal", name }));
}

export function viewChats(ctx) {
  if (ctx.rest.length > 0) return viewChat(ctx, ctx.rest[0]);
  const live = h("span", { class: "live", testid: "live-status" }, "connecting…");
  const body = page(ctx, { title: "Chats", crumbs: `${ctx.ns}/${ctx.d} ›`, actions: [live] });
  const table = pagedTable({
    testid: "chats",
    rowPrefix: "chat",
    rowId: (c) => c.id,
    placeholder: "Search chats…",
    empty: "No chats.",
    load: remoteLoad(ctx.dp("/chats")),
    columns: [
      { title: "Chat", render: (c) => link(ctx.href("chats", c.id), c.id, `chat-open-${c.id}`) },
      { title: "Kind", render: (c) => [badge(c.kind), c.private ? badge("private", "warn") : null] },
      { title: "Name", render: (c) => c.name || h("span", { class: "muted" }, "—") },
      { title: "Topic", render: (c) => c.topic || h("span", { class: "muted" }, "—") },
      { title: "Members", cls: "num", render: (c) => String((c.members || []).length) },
      { title: "Last event", cls: "num", render: (c) => String(c.last_event_number ?? 0) },
      {
        title: "Last activity",
        render: (c) => (c.last_event_ms ? h("span", { title: fmtTime(c.last_event_ms) }, ago(c.last_event_ms)) : "—"),
      },
      {
        title: "",
        cls: "actions",
        render: (c) =>
          deleteButton(
            ctx,
            `chat-delete-${c.id}`,
            `chat ${c.id} with its history`,
            () => api("DELETE", ctx.dp(`/chats/${enc(c.id)}`)),
            () => table.refresh(),
          ),
      },
    ],
  });
  const id = h("input", { testid: "chat-create-id", placeholder: "(generated when empty)" });
  const kind = h(
    "select",
    { testid: "chat-create-kind" },
    h("option", { value: "channel" }, "channel"),
    h("option", { value: "room" }, "room"),
  );
  const name = h("input", { testid: "chat-create-name" });
  const topic = h("input", { testid: "chat-create-topic" });
  const members = h("input", { testid: "chat-create-members", placeholder: "alice, bob (channels)" });
  const priv = checkbox("chat-create-private", "Private (channels only)");
  add(
    body,
    card(null, table.el),
    formCard({
      title: "Create a chat",
      testid: "chat-create",
      submit: "Create chat",
      fields: [
        field("Chat id", id),
        field("Kind", kind),
        field("Name", name),
        field("Topic", topic, "grow"),
        field("Members (comma separated)", members, "grow"),
        priv.el,
      ],
      onSubmit: async () => {
        const chat = { kind: kind.value, name: name.value.trim(), topic: topic.value.trim(), private: priv.input.checked };
        if (id.value.trim()) chat.id = id.value.trim();
        if (kind.value === "channel") chat.members = userRefs(members.value);
        const made = await api("POST", ctx.dp("/chats"), chat);
        notify(`Created chat ${made.id}`);
        id.value = name.value = topic.value = members.value = "";
        await table.refresh();
      },
    }),
  );
  const refresh = throttle(() => table.refresh(), 500);
  eventStream(ctx, ctx.dp("/events"), {
    statusEl: live,
    onOpen: refresh,
    onEvent: (ev) => {
      if (ev.type === "chat_changed") refresh();
    },
  });
}

/** What a chat event says, by its kind. */
function chatEventText(e) {
  const muted = (t) => h("span", { class: "muted" }, t);
  switch (e.kind) {
    case "message":
      return h("span", null, e.text ?? e.message ?? "");
    case "created":
      return muted(
        `created “${e.name || ""}”${e.topic ? ` (${e.topic})` : ""}${(e.members || []).length ? ` with ${e.members.map(userName).join(", ")}` : ""}`,
      );
    case "user_added":
      return muted(`added ${userName(e.added)}`);
    case "user_removed":
      return muted(`removed ${userName(e.removed)}`);
    case "name_changed":
      return muted(`renamed to “${e.name}”`);
    case "topic_changed":
      return muted(`topic: ${e.topic}`);
    case "user_joined":
      return muted("joined");
    case "user_left":
      return muted("left");
    default:
      return muted("—");
  }
}

function viewChat(ctx, id) {
  const live = h("span", { class: "live", testid: "live-status" }, "connecting…");
  const chatPath = ctx.dp(`/chats/${enc(id)}`);
  const body = page(ctx, {
    title: `Chat ${id}`,
    crumbs: h("span", null, link(ctx.href("chats"), "Chats", "crumb-chats"), " ›"),
    actions: [
      live,
      deleteButton(
        ctx,
        "chat-delete",
        `chat ${id} with its history`,
        async () => {
          await api("DELETE", chatPath);
          location.hash = ctx.href("chats");
        },
        async () => {},
      ),
    ],
  });
  const info = h("div", { class: "btn-row", testid: "chat-info" }, "loading…");
  const events = pagedTable({
    testid: "chat-events",
    rowPrefix: "chat-event",
    rowId: (e) => e.number,
    placeholder: "Search messages…",
    empty: "No events.",
    load: remoteLoad(`${chatPath}/events`),
    columns: [
      { title: "#", cls: "num", render: (e) => String(e.number) },
      { title: "Kind", render: (e) => badge(e.kind, e.kind === "message" ? "info" : "") },
      { title: "User", render: (e) => userLabel(e.user) },
      { title: "Time", render: (e) => fmtTime(e.timestamp_ms ?? e.time_ms) },
      { title: "Event", render: chatEventText },
    ],
  });
  async function loadInfo() {
    const chat = await api("GET", chatPath);
    const n = (chat.members || []).length;
    setChildren(
      info,
      badge(chat.kind),
      chat.private ? badge("private", "warn") : null,
      chat.name ? h("strong", null, chat.name) : null,
      chat.topic ? h("span", { class: "muted" }, `— ${chat.topic}`) : null,
      h("span", { class: "muted" }, ` · ${n} ${n === 1 ? "member" : "members"}${n ? ":" : ""} `),
      (chat.members || []).map((m) => badge(userName(m.user))),
      h("span", { class: "muted" }, ` · created ${fmtTime(chat.created_ms)}`),
    );
  }
  const message = h("input", { testid: "chat-message", required: true, placeholder: "Write a message…", autocomplete: "off" });
  add(
    body,
    card(null, info),
    formCard({
      title: "Post a message (as the server host)",
      testid: "chat-post",
      submit: "Send",
      fields: [field("Message", message, "grow")],
      onSubmit: async () => {
        const posted = await api("POST", `${chatPath}/messages`, { text: message.value });
        message.value = "";
        notify(`Posted message #${posted && posted.number !== undefined ? posted.number : "?"}`);
        await events.refresh();
      },
    }),
    card("Events, newest first (live)", events.el),
    permissionRows(ctx, {
      path: `${chatPath}/permissions`,
      names: CHAT_PERMISSIONS.filter((p) => p !== "create_chat"),
      testid: "chat-perm",
      title: "This chat's permissions",
    }),
  );
  loadInfo().catch((e) => ctx.showError(e));
  const refresh = throttle(() => {
    events.refresh();
    loadInfo().catch(() => {});
  }, 300);
  eventStream(ctx, ctx.dp("/events"), {
    statusEl: live,
    onOpen: refresh,
    onEvent: (ev) => {
      if (ev.type === "chat_changed" && (ev.chat_id === undefined || ev.chat_id === id)) refresh();
    },
  });
}
