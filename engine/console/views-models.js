// Pages: a domain's models and a model's tabs (live data, history version by version,
// permissions).

import {
  add, ago, api, enc, eventStream, fmtTime, h, MODEL_RIGHTS, pretty, qs, rightsBadges, setChildren,
  throttle, userLabel,
} from "./core.js";
import {
  card, checkbox, deleteButton, field, formCard, link, localLoad, notify, page, pagedTable,
  remoteLoad, rightsChecks,
} from "./widgets.js";

export function viewModels(ctx) {
  if (ctx.rest.length > 0) return viewModel(ctx, ctx.rest[0], ctx.rest[1] || "live", ctx.rest[2]);
  const body = page(ctx, { title: "Models", crumbs: `${ctx.ns}/${ctx.d} ›` });
  const wanted = ctx.query.get("collection") || "";
  const collection = h(
    "select",
    { testid: "models-collection", "aria-label": "Collection" },
    h("option", { value: "" }, "all collections"),
    wanted ? h("option", { value: wanted }, wanted) : null,
  );
  collection.value = wanted;
  const table = pagedTable({
    testid: "models",
    rowPrefix: "model",
    rowId: (m) => m.id,
    placeholder: "Search model ids…",
    empty: "No models.",
    tools: [collection],
    load: remoteLoad(ctx.dp("/models"), () => ({ collection: collection.value })),
    columns: [
      { title: "Model", render: (m) => link(ctx.href("models", m.id), m.id, `model-open-${m.id}`) },
      { title: "Collection", render: (m) => m.collection },
      { title: "Version", cls: "num", render: (m) => String(m.version) },
      { title: "Modified", render: (m) => h("span", { title: fmtTime(m.modified_ms) }, ago(m.modified_ms)) },
      { title: "Created", render: (m) => fmtTime(m.created_ms) },
      {
        title: "",
        cls: "actions",
        render: (m) =>
          deleteButton(
            ctx,
            `model-delete-${m.id}`,
            `model ${m.id}`,
            () => api("DELETE", ctx.dp(`/models/${enc(m.id)}`)),
            () => table.refresh(),
          ),
      },
    ],
  });
  collection.addEventListener("change", () => {
    table.state.offset = 0;
    table.refresh();
  });
  const known = h("datalist", { id: "known-collections" });
  const newCollection = h("input", {
    testid: "model-create-collection",
    required: true,
    list: "known-collections",
    value: wanted,
  });
  const newId = h("input", { testid: "model-create-id", placeholder: "(generated when empty)" });
  const newData = h("textarea", { testid: "model-create-data", rows: "5", spellcheck: "false" });
  newData.value = "{}";
  add(
    body,
    card(null, table.el),
    formCard({
      title: "Create a model",
      testid: "model-create",
      submit: "Create model",
      fields: [
        field("Collection", h("div", null, newCollection, known)),
        field("Model id", newId),
        field("Data (a JSON object)", newData, "full"),
      ],
      onSubmit: async () => {
        let data;
        try {
          data = JSON.parse(newData.value);
        } catch (e) {
          throw new Error(`The data is not JSON: ${e.message}`);
        }
        const made = await api("POST", ctx.dp("/models"), {
          collection: newCollection.value.trim(),
          id: newId.value.trim() || undefined,
          data,
        });
        notify(`Created model ${made.id}`);
        location.hash = ctx.href("models", made.id);
      },
    }),
  );
  (async () => {
    try {
      const page1 = await api("GET", ctx.dp(`/collections${qs({ limit: 1000 })}`));
      const names = page1.items;
      collection.append(...names.filter((c) => c !== wanted).map((c) => h("option", { value: c }, c)));
      known.append(...names.map((c) => h("option", { value: c })));
      if (!newCollection.value) newCollection.value = names[0] || "";
    } catch (e) {
      ctx.showError(e);
    }
  })();
}

function viewModel(ctx, id, tab, versionArg) {
  const modelPath = ctx.dp(`/models/${enc(id)}`);
  const body = page(ctx, {
    title: id,
    crumbs: h("span", null, link(ctx.href("models"), "Models", "crumb-models"), " ›"),
    actions: [
      deleteButton(
        ctx,
        "model-delete",
        `model ${id}`,
        async () => {
          await api("DELETE", modelPath);
          location.hash = ctx.href("models");
        },
        async () => {},
      ),
    ],
  });
  const tabs = [
    ["live", "Live data"],
    ["history", "History"],
    ["permissions", "Permissions"],
  ];
  add(
    body,
    h(
      "nav",
      { class: "tabs" },
      tabs.map(([key, label]) =>
        h("a", { href: ctx.href("models", id, key), class: key === tab ? "active" : "", testid: `model-tab-${key}` }, label),
      ),
    ),
  );
  const content = h("div", { class: "stack" });
  add(body, content);
  if (tab === "history") return modelHistory(ctx, content, id, modelPath, versionArg);
  if (tab === "permissions") return modelPermissions(ctx, content, modelPath);
  return modelLive(ctx, content, id, modelPath);
}

function stat(label, value) {
  return h("div", { class: "stat" }, h("span", { class: "v" }, value), h("span", { class: "k" }, label));
}

function modelLive(ctx, content, id, modelPath) {
  const version = h("span", { testid: "model-version" }, "…");
  const collection = h("span", { testid: "model-collection" }, "…");
  const modified = h("span", { testid: "model-modified" }, "…");
  const seen = h("span", { testid: "model-ops-seen" }, "0");
  const live = h("span", { class: "live", testid: "live-status" }, "connecting…");
  const json = h("pre", { class: "json", testid: "model-json" }, "loading…");
  const recent = h("tbody");
  const recentTable = h(
    "table",
    { class: "table", testid: "model-events" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        ["Version", "User", "Session", "Received"].map((t) => h("th", null, t)),
      ),
    ),
    recent,
  );
  let opsSeen = 0;
  let shownVersion = 0;
  const events = [];
  let seq = 0;

  async function refetch() {
    const mine = ++seq;
    try {
      const m = await api("GET", modelPath);
      if (mine !== seq || ctx.signal.aborted) return;
      ctx.clearError();
      const changed = m.version !== shownVersion;
      shownVersion = m.version;
      version.textContent = String(m.version);
      collection.textContent = m.collection;
      modified.textContent = fmtTime(m.modified_ms);
      json.textContent = pretty(m.data);
      if (changed) {
        version.classList.remove("flash");
        void version.offsetWidth;
        version.classList.add("flash");
      }
      if (!editorTouched) editorArea.value = pretty(m.data);
    } catch (e) {
      if (mine === seq) ctx.showError(e);
    }
  }
  const throttled = throttle(refetch, 250);

  function renderEvents() {
    setChildren(
      recent,
      ...(events.length
        ? events.map((e) =>
            h(
              "tr",
              null,
              h("td", { class: "num" }, String(e.version ?? "")),
              h("td", null, userLabel(e.user)),
              h("td", null, h("code", null, e.session ?? "")),
              h("td", null, e.at),
            ),
          )
        : [h("tr", null, h("td", { class: "empty", colspan: 4 }, "No operations since this page opened."))]),
    );
  }

  let editorTouched = false;
  const editorArea = h("textarea", { testid: "model-edit-data", rows: "8", spellcheck: "false" });
  editorArea.addEventListener("input", () => {
    editorTouched = true;
  });
  add(
    content,
    h(
      "div",
      { class: "stats" },
      stat("Version", version),
      stat("Collection", collection),
      stat("Last modified", modified),
      stat("Operations seen live", seen),
      h("div", { class: "stat" }, live),
    ),
    card("Data", json),
    card("Operations as they arrive", h("div", { class: "table-wrap" }, recentTable)),
    formCard({
      title: "Replace the data",
      testid: "model-edit",
      submit: "Replace data",
      note: h("p", { class: "muted" }, "One operation of the model: every open session receives it and the history shows it."),
      fields: [field("New data (a JSON object)", editorArea, "full")],
      onSubmit: async () => {
        let data;
        try {
          data = JSON.parse(editorArea.value);
        } catch (e) {
          throw new Error(`The data is not JSON: ${e.message}`);
        }
        await api("PUT", `${modelPath}/data`, data);
        editorTouched = false;
        notify(`Replaced the data of ${id}`);
        await refetch();
      },
    }),
  );
  renderEvents();
  refetch();
  eventStream(ctx, ctx.dp(`/events${qs({ model: id })}`), {
    statusEl: live,
    onOpen: () => throttled(),
    onEvent: (ev) => {
      if (ev.model !== undefined && ev.model !== id) return;
      if (ev.type === "operation_applied") {
        opsSeen += 1;
        seen.textContent = String(opsSeen);
        events.unshift({ version: ev.version, user: ev.user, session: ev.session, at: new Date().toLocaleTimeString() });
        events.length = Math.min(events.length, 10);
        renderEvents();
        throttled();
      } else if (ev.type === "model_deleted") {
        ctx.showError(new Error(`Model ${id} was deleted.`));
      } else if (ev.type && ev.type.startsWith("model_")) {
        throttled();
      }
    },
  });
}

function modelHistory(ctx, content, id, modelPath, versionArg) {
  let max = 0;
  let shown = 0;
  const first = h("button", { class: "btn", type: "button", testid: "history-first", title: "First version" }, "« First");
  const prev = h("button", { class: "btn", type: "button", testid: "history-prev", title: "Previous version" }, "‹ Prev");
  const input = h("input", { type: "number", min: "1", step: "1", testid: "history-version", "aria-label": "Version" });
  const go = h("button", { class: "btn", type: "button", testid: "history-go" }, "Show");
  const next = h("button", { class: "btn", type: "button", testid: "history-next", title: "Next version" }, "Next ›");
  const last = h("button", { class: "btn", type: "button", testid: "history-last", title: "Latest version" }, "Last »");
  const maxLabel = h("span", { testid: "history-max-version" }, "…");
  const live = h("span", { class: "live", testid: "live-status" }, "connecting…");
  const shownLabel = h("span", { testid: "history-shown-version" }, "…");
  const when = h("span", { testid: "history-time" }, "…");
  const who = h("span", { testid: "history-user" }, "…");
  const json = h("pre", { class: "json", testid: "history-json" }, "loading…");
  const op = h("pre", { class: "json", testid: "history-op" }, "…");
  const opNote = h("p", { class: "muted", testid: "history-op-note" });
  let seq = 0;

  function buttons() {
    first.disabled = prev.disabled = shown <= 1;
    next.disabled = last.disabled = shown >= max;
    maxLabel.textContent = String(max);
    input.max = String(max);
  }

  async function show(v) {
    if (!Number.isInteger(v) || v < 1 || (max && v > max)) {
      ctx.showError(new Error(`Pick a version from 1 to ${max}.`));
      return;
    }
    const mine = ++seq;
    try {
      const [model, ops] = await Promise.all([
        api("GET", `${modelPath}${qs({ version: v })}`),
        v > 1 ? api("GET", `${modelPath}/history${qs({ first: v, last: v })}`) : Promise.resolve([]),
      ]);
      if (mine !== seq || ctx.signal.aborted) return;
      ctx.clearError();
      shown = v;
      input.value = String(v);
      shownLabel.textContent = String(v);
      json.textContent = pretty(model.data);
      const entry = ops.find((e) => e.version === v);
      if (v === 1) {
        op.textContent = "—";
        opNote.textContent = "Version 1 is the model's creation: it has no operation.";
        when.textContent = fmtTime(model.created_ms);
        who.textContent = "—";
      } else if (entry) {
        op.textContent = pretty(entry.operation ?? entry);
        opNote.textContent = `Session ${entry.session ?? "?"}`;
        when.textContent = fmtTime(entry.timestamp_ms ?? entry.time_ms);
        setChildren(who, userLabel(entry.user));
      } else {
        op.textContent = "—";
        opNote.textContent = "The history has no operation for this version.";
      }
      history.replaceState(null, "", ctx.href("models", id, "history", String(v)));
      buttons();
    } catch (e) {
      if (mine === seq) ctx.showError(e);
    }
  }

  async function loadMax() {
    const m = await api("GET", modelPath);
    max = m.version;
    buttons();
    return m.version;
  }

  first.addEventListener("click", () => show(1));
  prev.addEventListener("click", () => show(shown - 1));
  next.addEventListener("click", () => show(shown + 1));
  last.addEventListener("click", async () => {
    try {
      show(await loadMax());
    } catch (e) {
      ctx.showError(e);
    }
  });
  const goTo = () => show(Number(input.value));
  go.addEventListener("click", goTo);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") goTo();
  });

  add(
    content,
    card(
      null,
      h(
        "div",
        { class: "stepper" },
        first,
        prev,
        h("span", null, "Version"),
        input,
        h("span", null, "of ", maxLabel),
        go,
        next,
        last,
        h("span", { class: "spacer" }),
        live,
      ),
      h("div", { class: "stats" }, stat("Shown version", shownLabel), stat("Time", when), stat("Author", who)),
    ),
    h("div", { class: "grid-2" }, card("Data at this version", json), card("The operation that made this version", opNote, op)),
  );
  (async () => {
    try {
      await loadMax();
      const wanted = Number(versionArg);
      await show(Number.isInteger(wanted) && wanted >= 1 && wanted <= max ? wanted : max);
    } catch (e) {
      ctx.showError(e);
    }
  })();
  // The newest version keeps moving while clients edit: the bound follows it live.
  const refreshMax = throttle(() => loadMax().catch(() => {}), 500);
  eventStream(ctx, ctx.dp(`/events${qs({ model: id })}`), {
    statusEl: live,
    onEvent: (ev) => {
      if (ev.model !== undefined && ev.model !== id) return;
      if (ev.type === "operation_applied") {
        if (Number.isInteger(ev.version) && ev.version > max) {
          max = ev.version;
          buttons();
        }
        refreshMax();
      }
    },
  });
}

function modelPermissions(ctx, content, modelPath) {
  let perms = { override_world: false, world: {}, users: [] };
  const override = checkbox("perm-override", "This model's world permissions override its collection's");
  const world = rightsChecks("perm-world", MODEL_RIGHTS);
  const users = pagedTable({
    testid: "model-perm-users",
    rowPrefix: "perm-user",
    rowId: ([u]) => u.name,
    placeholder: "Search users…",
    empty: "No per-user entries.",
    load: localLoad(
      () => perms.users,
      ([u]) => u.name,
    ),
    columns: [
      { title: "User", render: ([u]) => userLabel(u) },
      { title: "Rights", render: ([, r]) => rightsBadges(r, MODEL_RIGHTS) },
      {
        title: "",
        cls: "actions",
        render: ([u]) =>
          deleteButton(
            ctx,
            `perm-user-remove-${u.name}`,
            `the entry of ${u.name}`,
            () => change({ remove_users: [u] }),
            async () => {},
            "Remove",
          ),
      },
    ],
  });
  async function change(delta) {
    perms = await api("PATCH", `${modelPath}/permissions`, delta);
    fill();
  }
  function fill() {
    override.input.checked = !!perms.override_world;
    world.set(perms.world);
    users.refresh();
  }
  const username = h("input", { testid: "perm-user-name", required: true, placeholder: "username" });
  const kind = h(
    "select",
    { testid: "perm-user-kind" },
    ["normal", "anonymous", "convergence"].map((k) => h("option", { value: k }, k)),
  );
  const rights = rightsChecks("perm-user", MODEL_RIGHTS, { read: true });
  add(
    content,
    formCard({
      title: "World permissions",
      testid: "perm-world",
      submit: "Save",
      fields: [h("div", { class: "stack" }, override.el, world.el)],
      onSubmit: async () => {
        await change({ override_world: override.input.checked, world: world.value() });
        notify("Saved the model's world permissions");
      },
    }),
    card("Per-user entries", users.el),
    formCard({
      title: "Set a user's rights on this model",
      testid: "perm-user",
      submit: "Set rights",
      fields: [field("User", username), field("Kind", kind), field("Rights", rights.el)],
      onSubmit: async () => {
        const name = username.value.trim();
        await change({ set_users: [[{ kind: kind.value, name }, rights.value()]] });
        username.value = "";
        notify(`Set the rights of ${name}`);
      },
    }),
  );
  api("GET", `${modelPath}/permissions`)
    .then((p) => {
      perms = p;
      fill();
    })
    .catch((e) => ctx.showError(e));
}
