// Page: who is connected to a domain (live), with Disconnect.

import { add, ago, api, enc, eventStream, fmtTime, h, throttle, userLabel, userName } from "./core.js";
import { card, deleteButton, page, pagedTable, remoteLoad } from "./widgets.js";

export function viewSessions(ctx) {
  const live = h("span", { class: "live", testid: "live-status" }, "connecting…");
  const body = page(ctx, { title: "Sessions", crumbs: `${ctx.ns}/${ctx.d} ›`, actions: [live] });
  const table = pagedTable({
    testid: "sessions",
    rowPrefix: "session",
    rowId: (s) => s.id,
    placeholder: "Search sessions or users…",
    empty: "Nobody is connected.",
    load: remoteLoad(ctx.dp("/sessions")),
    columns: [
      { title: "Session", render: (s) => h("code", { testid: `session-id-${s.id}` }, s.id) },
      { title: "User", render: (s) => h("span", { testid: `session-user-${s.id}` }, userLabel(s.user ?? s)) },
      {
        title: "Connected",
        render: (s) => h("span", { title: fmtTime(s.connected_ms) }, `${fmtTime(s.connected_ms)} (${ago(s.connected_ms)})`),
      },
      { title: "Address", render: (s) => s.address || h("span", { class: "muted" }, "—") },
      { title: "Client", render: (s) => s.client || h("span", { class: "muted" }, "—") },
      {
        title: "",
        cls: "actions",
        render: (s) =>
          deleteButton(
            ctx,
            `session-disconnect-${s.id}`,
            `session ${s.id} of ${userName(s.user ?? s)} (the client reconnects by itself)`,
            () => api("DELETE", ctx.dp(`/sessions/${enc(s.id)}`)),
            () => table.refresh(),
            "Disconnect",
          ),
      },
    ],
  });
  add(body, card("Who is connected (live)", table.el));
  const refresh = throttle(() => table.refresh(), 300);
  eventStream(ctx, ctx.dp("/events"), {
    statusEl: live,
    onOpen: refresh,
    onEvent: (ev) => {
      if (ev.type === "user_connected" || ev.type === "user_disconnected" || (ev.type && ev.type.startsWith("session_")))
        refresh();
    },
  });
}
