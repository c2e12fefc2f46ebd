// Pages: a domain's users (and a user's profile and password), groups (and their members)
// and the JWT keys users may log in with.

import { add, api, badge, enc, fmtTime, h, setChildren } from "./core.js";
import {
  card, checkbox, deleteButton, field, findInList, formCard, link, localLoad, notify, page,
  pagedTable, remoteLoad,
} from "./widgets.js";

export function viewUsers(ctx) {
  if (ctx.rest.length > 0) return viewUser(ctx, ctx.rest[0]);
  const body = page(ctx, { title: "Users", crumbs: `${ctx.ns}/${ctx.d} ›` });
  const table = pagedTable({
    testid: "users",
    rowPrefix: "user",
    rowId: (u) => u.username,
    placeholder: "Search users…",
    empty: "No users yet.",
    load: remoteLoad(ctx.dp("/users")),
    columns: [
      {
        title: "Username",
        render: (u) => h("strong", null, link(ctx.href("users", u.username), u.username, `user-open-${u.username}`)),
      },
      { title: "Display name", render: (u) => u.display_name || h("span", { class: "muted" }, "—") },
      {
        title: "Name",
        render: (u) => [u.first_name, u.last_name].filter(Boolean).join(" ") || h("span", { class: "muted" }, "—"),
      },
      { title: "E-mail", render: (u) => u.email || h("span", { class: "muted" }, "—") },
      {
        title: "Login",
        render: (u) => [
          u.disabled ? badge("disabled", "bad") : badge("enabled", "ok"),
          u.has_password ? badge("password") : badge("no password", "warn"),
        ],
      },
      {
        title: "Last login",
        render: (u) => (u.last_login_ms ? fmtTime(u.last_login_ms) : h("span", { class: "muted" }, "never")),
      },
      {
        title: "",
        cls: "actions",
        render: (u) =>
          deleteButton(
            ctx,
            `user-delete-${u.username}`,
            `user ${u.username}`,
            () => api("DELETE", ctx.dp(`/users/${enc(u.username)}`)),
            () => table.refresh(),
          ),
      },
    ],
  });
  const inputs = {
    username: h("input", { testid: "user-create-username", required: true, autocomplete: "off" }),
    password: h("input", { testid: "user-create-password", type: "password", autocomplete: "new-password" }),
    display_name: h("input", { testid: "user-create-display-name" }),
    first_name: h("input", { testid: "user-create-first-name" }),
    last_name: h("input", { testid: "user-create-last-name" }),
    email: h("input", { testid: "user-create-email", type: "email" }),
  };
  add(
    body,
    card(null, table.el),
    formCard({
      title: "Create a user",
      testid: "user-create",
      submit: "Create user",
      fields: [
        field("Username", inputs.username),
        field("Password (empty: no password login)", inputs.password),
        field("Display name", inputs.display_name),
        field("First name", inputs.first_name),
        field("Last name", inputs.last_name),
        field("E-mail", inputs.email),
      ],
      onSubmit: async () => {
        const user = {};
        for (const [k, input] of Object.entries(inputs)) {
          const v = k === "password" ? input.value : input.value.trim();
          if (v) user[k] = v;
        }
        await api("POST", ctx.dp("/users"), user);
        notify(`Created user ${user.username}`);
        for (const input of Object.values(inputs)) input.value = "";
        await table.refresh();
      },
    }),
  );
}

async function viewUser(ctx, name) {
  const userPath = ctx.dp(`/users/${enc(name)}`);
  const body = page(ctx, {
    title: name,
    crumbs: h("span", null, link(ctx.href("users"), "Users", "crumb-users"), " ›"),
    actions: [
      deleteButton(
        ctx,
        "user-delete",
        `user ${name}`,
        async () => {
          await api("DELETE", userPath);
          location.hash = ctx.href("users");
        },
        async () => {},
      ),
    ],
  });
  const summary = h("div", { class: "btn-row", testid: "user-summary" }, "loading…");
  const inputs = {
    display_name: h("input", { testid: "user-edit-display-name" }),
    first_name: h("input", { testid: "user-edit-first-name" }),
    last_name: h("input", { testid: "user-edit-last-name" }),
    email: h("input", { testid: "user-edit-email", type: "email" }),
  };
  const disabled = checkbox("user-edit-disabled", "Disabled (cannot log in; open sessions are closed)");
  const password = h("input", { testid: "user-password", type: "password", required: true, autocomplete: "new-password" });
  function fill(u) {
    for (const [k, input] of Object.entries(inputs)) input.value = u[k] || "";
    disabled.input.checked = !!u.disabled;
    setChildren(
      summary,
      u.disabled ? badge("disabled", "bad") : badge("enabled", "ok"),
      u.has_password ? badge("password") : badge("no password", "warn"),
      h(
        "span",
        { class: "muted" },
        `created ${fmtTime(u.created_ms)} · last login ${u.last_login_ms ? fmtTime(u.last_login_ms) : "never"}`,
      ),
    );
  }
  add(
    body,
    card(null, summary),
    formCard({
      title: "Profile",
      testid: "user-edit",
      submit: "Save",
      fields: [
        field("Display name", inputs.display_name),
        field("First name", inputs.first_name),
        field("Last name", inputs.last_name),
        field("E-mail", inputs.email),
        disabled.el,
      ],
      onSubmit: async () => {
        const change = { disabled: disabled.input.checked };
        for (const [k, input] of Object.entries(inputs)) change[k] = input.value.trim();
        fill(await api("PATCH", userPath, change));
        notify(`Saved ${name}`);
      },
    }),
    formCard({
      title: "Set a new password",
      testid: "user-password-form",
      submit: "Set password",
      fields: [field("Password", password)],
      onSubmit: async () => {
        await api("PUT", `${userPath}/password`, { password: password.value });
        password.value = "";
        fill(await api("GET", userPath));
        notify(`Set the password of ${name}`);
      },
    }),
  );
  fill(await api("GET", userPath));
}

export function viewGroups(ctx) {
  if (ctx.rest.length > 0) return viewGroup(ctx, ctx.rest[0]);
  const body = page(ctx, { title: "Groups", crumbs: `${ctx.ns}/${ctx.d} ›` });
  const table = pagedTable({
    testid: "groups",
    rowPrefix: "group",
    rowId: (g) => g.id,
    placeholder: "Search groups…",
    empty: "No groups yet.",
    load: remoteLoad(ctx.dp("/groups")),
    columns: [
      { title: "Group", render: (g) => link(ctx.href("groups", g.id), g.id, `group-open-${g.id}`) },
      { title: "Description", render: (g) => g.description || h("span", { class: "muted" }, "—") },
      {
        title: "Members",
        render: (g) =>
          g.members.length
            ? [g.members.slice(0, 6).map((m) => badge(m)), g.members.length > 6 ? ` +${g.members.length - 6}` : null]
            : h("span", { class: "muted" }, "none"),
      },
      {
        title: "",
        cls: "actions",
        render: (g) =>
          deleteButton(
            ctx,
            `group-delete-${g.id}`,
            `group ${g.id}`,
            () => api("DELETE", ctx.dp(`/groups/${enc(g.id)}`)),
            () => table.refresh(),
          ),
      },
    ],
  });
  const id = h("input", { testid: "group-create-id", required: true });
  const description = h("input", { testid: "group-create-description" });
  const members = h("input", { testid: "group-create-members", placeholder: "alice, bob" });
  add(
    body,
    card(null, table.el),
    formCard({
      title: "Create a group",
      testid: "group-create",
      submit: "Create group",
      fields: [
        field("Group id", id),
        field("Description", description, "grow"),
        field("Members (comma separated)", members, "grow"),
      ],
      onSubmit: async () => {
        const group = {
          id: id.value.trim(),
          description: description.value.trim(),
          members: members.value
            .split(",")
            .map((m) => m.trim())
            .filter(Boolean),
        };
        await api("POST", ctx.dp("/groups"), group);
        notify(`Created group ${group.id}`);
        id.value = description.value = members.value = "";
        await table.refresh();
      },
    }),
  );
}

function viewGroup(ctx, id) {
  const body = page(ctx, {
    title: `Group ${id}`,
    crumbs: h("span", null, link(ctx.href("groups"), "Groups", "crumb-groups"), " ›"),
  });
  let group = { id, description: "", members: [] };
  const description = h("p", { class: "muted", testid: "group-description" });
  const table = pagedTable({
    testid: "group-members",
    rowPrefix: "group-member",
    rowId: (m) => m,
    placeholder: "Search members…",
    empty: "No members.",
    load: localLoad(
      async () => {
        const found = await findInList(ctx.dp("/groups"), (g) => g.id === id);
        if (!found) throw new Error(`There is no group ${id}.`);
        group = found;
        description.textContent = group.description || "No description.";
        return group.members;
      },
      (m) => m,
    ),
    columns: [
      { title: "Member", render: (m) => h("strong", null, m) },
      {
        title: "",
        cls: "actions",
        render: (m) =>
          deleteButton(
            ctx,
            `group-member-remove-${m}`,
            `${m} from group ${id}`,
            () => api("DELETE", ctx.dp(`/groups/${enc(id)}/members/${enc(m)}`)),
            () => table.refresh(),
            "Remove",
          ),
      },
    ],
  });
  const member = h("input", { testid: "group-member-add-name", required: true, placeholder: "username" });
  add(
    body,
    card(null, description, table.el),
    formCard({
      title: "Add a member",
      testid: "group-member-add",
      submit: "Add member",
      fields: [field("Username", member)],
      onSubmit: async () => {
        const name = member.value.trim();
        await api("PUT", ctx.dp(`/groups/${enc(id)}/members/${enc(name)}`));
        notify(`Added ${name} to ${id}`);
        member.value = "";
        await table.refresh();
      },
    }),
  );
}

export function viewJwtKeys(ctx) {
  const body = page(ctx, { title: "JWT keys", crumbs: `${ctx.ns}/${ctx.d} ›` });
  const table = pagedTable({
    testid: "jwt-keys",
    rowPrefix: "jwt",
    rowId: (k) => k.id,
    placeholder: "Search keys…",
    empty: "No JWT keys: users log in with passwords (or anonymously).",
    load: remoteLoad(ctx.dp("/jwt-keys")),
    columns: [
      { title: "Key id", render: (k) => h("code", null, k.id) },
      { title: "Description", render: (k) => k.description || h("span", { class: "muted" }, "—") },
      { title: "State", render: (k) => (k.enabled ? badge("enabled", "ok") : badge("disabled", "bad")) },
      { title: "Updated", render: (k) => fmtTime(k.updated_ms) },
      {
        title: "",
        cls: "actions",
        render: (k) =>
          deleteButton(
            ctx,
            `jwt-delete-${k.id}`,
            `JWT key ${k.id}`,
            () => api("DELETE", ctx.dp(`/jwt-keys/${enc(k.id)}`)),
            () => table.refresh(),
          ),
      },
    ],
  });
  const id = h("input", { testid: "jwt-create-id", required: true });
  const description = h("input", { testid: "jwt-create-description" });
  const pem = h("textarea", {
    testid: "jwt-create-pem",
    required: true,
    rows: "6",
    placeholder: "-----BEGIN PUBLIC KEY-----",
    spellcheck: "false",
  });
  const enabled = checkbox("jwt-create-enabled", "Enabled", true);
  add(
    body,
    card(null, table.el),
    formCard({
      title: "Add a key",
      testid: "jwt-create",
      submit: "Add key",
      fields: [
        field("Key id (the token's kid)", id),
        field("Description", description, "grow"),
        enabled.el,
        field("RSA public key (PEM)", pem, "full"),
      ],
      onSubmit: async () => {
        await api("POST", ctx.dp("/jwt-keys"), {
          id: id.value.trim(),
          description: description.value.trim(),
          public_key_pem: pem.value.trim(),
          enabled: enabled.input.checked,
        });
        notify(`Added JWT key ${id.value.trim()}`);
        id.value = description.value = pem.value = "";
        await table.refresh();
      },
    }),
  );
}
