// Pages: a domain's collections and a collection's permissions (the world's, per user).

import { add, api, COLLECTION_RIGHTS, enc, h, rightsBadges, userLabel } from "./core.js";
import {
  card, deleteButton, field, formCard, link, localLoad, notify, page, pagedTable, remoteLoad,
  rightsChecks,
} from "./widgets.js";

export function viewCollections(ctx) {
  if (ctx.rest.length > 0) return viewCollection(ctx, ctx.rest[0]);
  const body = page(ctx, { title: "Collections", crumbs: `${ctx.ns}/${ctx.d} ›` });
  const table = pagedTable({
    testid: "collections",
    rowPrefix: "collection",
    rowId: (c) => c,
    placeholder: "Search collections…",
    empty: "No collections yet.",
    load: remoteLoad(ctx.dp("/collections")),
    columns: [
      { title: "Collection", render: (c) => link(ctx.href("collections", c), c, `collection-open-${c}`) },
      {
        title: "",
        cls: "actions",
        render: (c) =>
          h(
            "div",
            { class: "btn-row" },
            link(`${ctx.href("models")}?collection=${enc(c)}`, "Models", `collection-models-${c}`),
            deleteButton(
              ctx,
              `collection-delete-${c}`,
              `collection ${c} and its models`,
              () => api("DELETE", ctx.dp(`/collections/${enc(c)}`)),
              () => table.refresh(),
            ),
          ),
      },
    ],
  });
  const id = h("input", { testid: "collection-create-id", required: true, placeholder: "notes" });
  add(
    body,
    card(null, table.el),
    formCard({
      title: "Create a collection",
      testid: "collection-create",
      submit: "Create collection",
      fields: [field("Collection id", id)],
      onSubmit: async () => {
        const name = id.value.trim();
        await api("PUT", ctx.dp(`/collections/${enc(name)}`));
        notify(`Created collection ${name}`);
        id.value = "";
        await table.refresh();
        location.hash = ctx.href("collections", name);
      },
    }),
  );
}

async function viewCollection(ctx, id) {
  const body = page(ctx, {
    title: id,
    crumbs: h("span", null, link(ctx.href("collections"), "Collections", "crumb-collections"), " ›"),
    actions: [link(`${ctx.href("models")}?collection=${enc(id)}`, "Models in this collection", "collection-models")],
  });
  const world = rightsChecks("collection-world", COLLECTION_RIGHTS);
  let perms = { world: {}, users: [] };
  const users = pagedTable({
    testid: "collection-users",
    rowPrefix: "collection-user",
    rowId: ([u]) => u.name,
    placeholder: "Search users…",
    empty: "No per-user entries.",
    load: localLoad(
      () => perms.users,
      ([u]) => u.name,
    ),
    columns: [
      { title: "User", render: ([u]) => userLabel(u) },
      { title: "Rights", render: ([, r]) => rightsBadges(r, COLLECTION_RIGHTS) },
      {
        title: "",
        cls: "actions",
        render: ([u]) =>
          deleteButton(
            ctx,
            `collection-user-remove-${u.name}`,
            `the entry of ${u.name} on ${id}`,
            async () => {
              perms = await api("DELETE", ctx.dp(`/collections/${enc(id)}/permissions/users/${enc(u.name)}`));
            },
            () => users.refresh(),
            "Remove",
          ),
      },
    ],
  });
  const username = h("input", { testid: "collection-user-name", required: true, placeholder: "username" });
  const userRights = rightsChecks("collection-user", COLLECTION_RIGHTS, { read: true });
  async function load() {
    perms = await api("GET", ctx.dp(`/collections/${enc(id)}/permissions`));
    world.set(perms.world);
    await users.refresh();
  }
  add(
    body,
    formCard({
      title: "What everyone may do with this collection's models",
      testid: "collection-world",
      submit: "Save permissions",
      note: h(
        "p",
        { class: "muted" },
        "A model's own permissions and per-user entries take precedence (see the model's Permissions tab).",
      ),
      fields: [world.el],
      onSubmit: async () => {
        perms = await api("PUT", ctx.dp(`/collections/${enc(id)}/permissions/world`), world.value());
        world.set(perms.world);
        await users.refresh();
        notify(`Saved the permissions of ${id}`);
      },
    }),
    card("Per-user entries (they take precedence over the world's rights)", users.el),
    formCard({
      title: "Set a user's rights on this collection",
      testid: "collection-user",
      submit: "Set rights",
      fields: [field("User", username), field("Rights", userRights.el)],
      onSubmit: async () => {
        const name = username.value.trim();
        perms = await api("PUT", ctx.dp(`/collections/${enc(id)}/permissions/users/${enc(name)}`), userRights.value());
        username.value = "";
        await users.refresh();
        notify(`Set the rights of ${name} on ${id}`);
      },
    }),
  );
  await load();
}
