// Pages: a domain's activities (live) and an activity's participants and permissions.

import { add, api, badge, enc, eventStream, fmtTime, h, pretty, throttle, userLabel } from "./core.js";
import { card, deleteButton, link, localLoad, page, pagedTable, remoteLoad } from "./widgets.js";
import { ACTIVITY_PERMISSIONS, permissionRows } from "./views-permissions.js";

export function viewActivities(ctx) {
  if (ctx.rest.length > 1) return viewActivity(ctx, ctx.rest[0], ctx.rest[1]);
  const live = h("span", { class: "live", testid: "live-status" }, "connecting…");
  const body = page(ctx, { title: "Activities", crumbs: `${ctx.ns}/${ctx.d} ›`, actions: [live] });
  const table = pagedTable({
    testid: "activities",
    rowPrefix: "activity",
    rowId: (a) => `${a.activity_type}/${a.id}`,
    placeholder: "Search activities…",
    empty: "No activity is going on.",
    load: remoteLoad(ctx.dp("/activities")),
    columns: [
      { title: "Type", render: (a) => badge(a.activity_type) },
      {
        title: "Activity",
        render: (a) => link(ctx.href("activities", a.activity_type, a.id), a.id, `activity-open-${a.activity_type}/${a.id}`),
      },
      { title: "Lifetime", render: (a) => (a.ephemeral ? badge("ephemeral") : badge("persistent", "info")) },
      { title: "Created", render: (a) => fmtTime(a.created_ms) },
      {
        title: "",
        cls: "actions",
        render: (a) =>
          deleteButton(
            ctx,
            `activity-delete-${a.activity_type}/${a.id}`,
            `activity ${a.activity_type}/${a.id} (its participants leave it)`,
            () => api("DELETE", ctx.dp(`/activities/${enc(a.activity_type)}/${enc(a.id)}`)),
            () => table.refresh(),
          ),
      },
    ],
  });
  add(body, card("Activities (live)", table.el));
  const refresh = throttle(() => table.refresh(), 300);
  eventStream(ctx, ctx.dp("/events"), {
    statusEl: live,
    onOpen: refresh,
    onEvent: (ev) => {
      if (ev.type === "activity_changed") refresh();
    },
  });
}

function viewActivity(ctx, type, id) {
  const live = h("span", { class: "live", testid: "live-status" }, "connecting…");
  const body = page(ctx, {
    title: `Activity ${id}`,
    crumbs: h("span", null, link(ctx.href("activities"), "Activities", "crumb-activities"), ` › ${type} ›`),
    actions: [live],
  });
  let participants = [];
  const table = pagedTable({
    testid: "activity-participants",
    rowPrefix: "participant",
    rowId: (p) => p.session,
    placeholder: "Search participants…",
    empty: "Nobody has joined.",
    load: localLoad(
      async () => {
        const a = await api("GET", ctx.dp(`/activities/${enc(type)}/${enc(id)}`));
        participants = a.participants || [];
        return participants;
      },
      (p) => `${p.session} ${JSON.stringify(p.user)}`,
    ),
    columns: [
      { title: "Session", render: (p) => h("code", null, p.session) },
      { title: "User", render: (p) => userLabel(p.user) },
      { title: "State", render: (p) => h("pre", { class: "mono" }, pretty(p.state ?? {})) },
    ],
  });
  add(
    body,
    card("Participants and their state (live)", table.el),
    permissionRows(ctx, {
      path: ctx.dp(`/activities/${enc(type)}/${enc(id)}/permissions`),
      names: ACTIVITY_PERMISSIONS,
      testid: "activity-perm",
      title: "This activity's permissions",
    }),
  );
  const refresh = throttle(() => table.refresh(), 300);
  eventStream(ctx, ctx.dp("/events"), {
    statusEl: live,
    onOpen: refresh,
    onEvent: (ev) => {
      if (ev.type === "activity_changed" && ev.activity_type === type && ev.activity_id === id) refresh();
    },
  });
}
