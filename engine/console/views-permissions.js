// Permission rows (the world's, users', groups') of the domain, a chat or an activity, and
// the domain's permissions page.

import { add, api, badge, h, userLabel } from "./core.js";
import {
  card, deleteButton, field, formCard, link, localLoad, notify, page, pagedTable, rightsChecks,
} from "./widgets.js";

/**
 * The generic permission rows of a target (the domain, a chat, an activity): what everyone,
 * a user or a group holds, as strings among `names`. `path` answers and takes
 * `{world, users: [[user, [..]]], groups: [[group, [..]]]}` (GET, PATCH).
 */
export function permissionRows(ctx, { path, names, testid, title }) {
  let rows = { world: [], users: [], groups: [] };
  const has = (list) => Object.fromEntries((list || []).map((p) => [p, true]));
  const held = (obj) => names.filter((n) => obj[n]);
  const world = rightsChecks(`${testid}-world`, names);
  const grantees = () => [
    ...(rows.users || []).map(([u, p]) => ({ key: `user:${u.name}`, user: u, perms: p })),
    ...(rows.groups || []).map(([g, p]) => ({ key: `group:${g}`, group: g, perms: p })),
  ];
  const table = pagedTable({
    testid: `${testid}-rows`,
    rowPrefix: testid,
    rowId: (r) => r.key,
    placeholder: "Search users and groups…",
    empty: "No user or group rows.",
    load: localLoad(grantees, (r) => r.key),
    columns: [
      { title: "Grantee", render: (r) => (r.user ? userLabel(r.user) : [h("strong", null, r.group), " ", badge("group")]) },
      {
        title: "Permissions",
        render: (r) => (r.perms.length ? r.perms.map((p) => badge(p, "info")) : h("span", { class: "muted" }, "none")),
      },
      {
        title: "",
        cls: "actions",
        render: (r) =>
          deleteButton(
            ctx,
            `${testid}-remove-${r.key}`,
            `the row of ${r.user ? r.user.name : `group ${r.group}`}`,
            () => change({ remove: r.user ? { users: [[r.user, r.perms]] } : { groups: [[r.group, r.perms]] } }),
            async () => {},
            "Remove",
          ),
      },
    ],
  });
  async function change(delta) {
    rows = await api("PATCH", path, delta);
    fill();
  }
  function fill() {
    world.set(has(rows.world));
    table.refresh();
  }
  const kind = h(
    "select",
    { testid: `${testid}-grant-kind` },
    h("option", { value: "user" }, "user"),
    h("option", { value: "group" }, "group"),
  );
  const name = h("input", { testid: `${testid}-grant-name`, required: true, placeholder: "username or group id" });
  const grant = rightsChecks(`${testid}-grant`, names);
  const el = h(
    "div",
    { class: "stack" },
    formCard({
      title: `${title}: what everyone holds`,
      testid: `${testid}-world`,
      submit: "Save",
      fields: [world.el],
      onSubmit: async () => {
        await change({ set: { world: held(world.value()) } });
        notify("Saved the world's permissions");
      },
    }),
    card(`${title}: users and groups`, table.el),
    formCard({
      title: "Set the row of a user or a group",
      testid: `${testid}-grant`,
      submit: "Set row",
      fields: [field("Grantee", kind), field("Name", name), field("Permissions", grant.el, "full")],
      onSubmit: async () => {
        const who = name.value.trim();
        const perms = held(grant.value());
        await change({
          set: kind.value === "user" ? { users: [[{ kind: "normal", name: who }, perms]] } : { groups: [[who, perms]] },
        });
        name.value = "";
        notify(`Set the row of ${who}`);
      },
    }),
  );
  api("GET", path)
    .then((r) => {
      rows = r;
      fill();
    })
    .catch((e) => ctx.showError(e));
  return el;
}

export const CHAT_PERMISSIONS = [
  "create_chat",
  "remove_chat",
  "join_chat",
  "leave_chat",
  "add_chat_user",
  "remove_chat_user",
  "set_chat_name",
  "set_topic",
  "manage_chat_permissions",
];
export const ACTIVITY_PERMISSIONS = ["join", "lurk", "view_state", "set_state", "remove", "manage"];

export function viewPermissions(ctx) {
  const body = page(ctx, { title: "Domain permissions", crumbs: `${ctx.ns}/${ctx.d} ›` });
  add(
    body,
    h(
      "p",
      { class: "muted" },
      "These rows hold on every chat and activity of the domain (a chat's or an activity's own rows add to them). ",
      "Models are governed by their collection's and their own permissions; a collection created on demand starts with the ",
      link(ctx.href("settings"), "default permissions", "permissions-settings-link"),
      ".",
    ),
    permissionRows(ctx, {
      path: ctx.dp("/permissions"),
      names: [...CHAT_PERMISSIONS, ...ACTIVITY_PERMISSIONS],
      testid: "domain-perm",
      title: "The domain",
    }),
  );
}
