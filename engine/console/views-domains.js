// Pages: the domains (list, create, delete) and a domain's settings.

import { add, api, COLLECTION_RIGHTS, enc, h, pretty } from "./core.js";
import {
  card, checkbox, deleteButton, field, formCard, link, notify, page, pagedTable, remoteLoad,
  rightsChecks,
} from "./widgets.js";
import { domainHref, pickDomain, pickedDomain, refreshDomainPicker, renderSidebar } from "./shell.js";

export function viewDomains(ctx) {
  const body = page(ctx, { title: "Domains" });
  const table = pagedTable({
    testid: "domains",
    rowPrefix: "domain",
    rowId: (dm) => `${dm.namespace}/${dm.id}`,
    placeholder: "Search domains…",
    empty: "No domains yet: create one below.",
    load: remoteLoad("/domains"),
    columns: [
      { title: "Namespace", render: (dm) => h("code", null, dm.namespace) },
      {
        title: "Domain",
        render: (dm) => link(domainHref(dm.namespace, dm.id, "models"), dm.id, `domain-open-${dm.namespace}/${dm.id}`),
      },
      {
        title: "",
        cls: "actions",
        render: (dm) =>
          h(
            "div",
            { class: "btn-row", style: null },
            link(domainHref(dm.namespace, dm.id, "settings"), "Settings", `domain-settings-${dm.namespace}/${dm.id}`),
            deleteButton(
              ctx,
              `domain-delete-${dm.namespace}/${dm.id}`,
              `domain ${dm.namespace}/${dm.id} with everything in it`,
              async () => {
                await api("DELETE", `/domains/${enc(dm.namespace)}/${enc(dm.id)}`);
                if (pickedDomain && pickedDomain.namespace === dm.namespace && pickedDomain.id === dm.id) pickDomain(null);
                renderSidebar("domains");
              },
              async () => {
                await table.refresh();
                await refreshDomainPicker();
              },
            ),
          ),
      },
    ],
  });
  const namespace = h("input", { testid: "domain-create-namespace", required: true, placeholder: "acme" });
  const id = h("input", { testid: "domain-create-id", required: true, placeholder: "docs" });
  add(
    body,
    card(null, table.el),
    formCard({
      title: "Create a domain",
      testid: "domain-create",
      submit: "Create domain",
      fields: [field("Namespace", namespace), field("Domain id", id)],
      onSubmit: async () => {
        await api("POST", "/domains", { namespace: namespace.value.trim(), id: id.value.trim() });
        notify(`Created domain ${namespace.value.trim()}/${id.value.trim()}`);
        id.value = "";
        await table.refresh();
        await refreshDomainPicker();
      },
    }),
  );
  refreshDomainPicker();
}

const SNAPSHOT_FIELDS = [
  ["enabled", "bool", "Take snapshots"],
  ["trigger_by_version", "bool", "Trigger by versions"],
  ["max_version_interval", "num", "… after more than N versions"],
  ["limited_by_version", "bool", "Limit by versions"],
  ["min_version_interval", "num", "… never before N versions"],
  ["trigger_by_time", "bool", "Trigger by time"],
  ["max_time_interval_ms", "num", "… after more than N ms"],
  ["limited_by_time", "bool", "Limit by time"],
  ["min_time_interval_ms", "num", "… never before N ms"],
];
const DEFAULT_SNAPSHOT = {
  enabled: true,
  trigger_by_version: true,
  max_version_interval: 1000,
  limited_by_version: false,
  min_version_interval: 0,
  trigger_by_time: true,
  max_time_interval_ms: 600000,
  limited_by_time: false,
  min_time_interval_ms: 0,
};

export async function viewSettings(ctx) {
  const body = page(ctx, { title: "Domain settings", crumbs: `${ctx.ns}/${ctx.d} ›` });
  const displayName = h("input", { testid: "settings-display-name" });
  const anonymous = checkbox("settings-anonymous", "Anonymous users may connect");
  const autoCreate = checkbox("settings-auto-create", "Creating a model in a missing collection creates the collection");
  const stateSelect = h(
    "select",
    { testid: "settings-state" },
    ["online", "maintenance", "offline"].map((s) => h("option", { value: s }, s)),
  );
  const reconnect = h("input", { type: "number", min: "1", step: "1", testid: "settings-reconnect-minutes" });
  const world = rightsChecks("settings-default-world", COLLECTION_RIGHTS);
  const custom = checkbox("settings-snapshot-custom", "Use a policy of this domain (otherwise the engine's rule applies)");
  const snapInputs = {};
  const snapInput = (key, kind) => {
    const input =
      kind === "bool"
        ? h("input", { type: "checkbox", testid: `settings-snapshot-${key}` })
        : h("input", { type: "number", min: "0", step: "1", class: "num-input", testid: `settings-snapshot-${key}` });
    snapInputs[key] = input;
    return input;
  };
  // One line per rule: its switch, then its bound ("… after more than [N] versions").
  const snapLine = (flag, flagLabel, bound, before, unit) =>
    h(
      "div",
      { class: "policy-line" },
      h("label", { class: "check" }, snapInput(flag, "bool"), flagLabel),
      bound ? h("span", { class: "muted" }, before) : null,
      bound ? snapInput(bound, "num") : null,
      bound ? h("span", { class: "muted" }, unit) : null,
    );
  const snapBox = h(
    "div",
    { class: "policy" },
    snapLine("enabled", "Take snapshots"),
    snapLine("trigger_by_version", "Trigger by versions", "max_version_interval", "after more than", "versions"),
    snapLine("limited_by_version", "Limit by versions", "min_version_interval", "never before", "versions"),
    snapLine("trigger_by_time", "Trigger by time", "max_time_interval_ms", "after more than", "ms"),
    snapLine("limited_by_time", "Limit by time", "min_time_interval_ms", "never before", "ms"),
  );
  const perCollection = h("textarea", { testid: "settings-collection-policies", rows: "4", spellcheck: "false" });
  const syncSnap = () => {
    for (const input of Object.values(snapInputs)) input.disabled = !custom.input.checked;
  };
  custom.input.addEventListener("change", syncSnap);

  function fill(s) {
    displayName.value = s.display_name || "";
    anonymous.input.checked = !!s.anonymous_auth;
    autoCreate.input.checked = !!s.collection_auto_create;
    stateSelect.value = s.state || "online";
    reconnect.value = String(s.reconnect_token_minutes ?? "");
    world.set(Object.fromEntries((s.default_collection_world || []).map((p) => [p, true])));
    custom.input.checked = !!s.snapshot_policy;
    const policy = s.snapshot_policy || DEFAULT_SNAPSHOT;
    for (const [key, kind] of SNAPSHOT_FIELDS) {
      if (kind === "bool") snapInputs[key].checked = !!policy[key];
      else snapInputs[key].value = String(policy[key] ?? 0);
    }
    perCollection.value = pretty(s.collection_snapshot_policies || {});
    syncSnap();
  }

  function collect() {
    const minutes = Number(reconnect.value);
    if (!Number.isInteger(minutes) || minutes < 1)
      throw new Error("The reconnect-token lifetime is a whole number of minutes, at least 1.");
    let perColl;
    try {
      perColl = JSON.parse(perCollection.value.trim() || "{}");
    } catch (e) {
      throw new Error(`Per-collection snapshot policies are not JSON: ${e.message}`);
    }
    const w = world.value();
    const settings = {
      display_name: displayName.value,
      anonymous_auth: anonymous.input.checked,
      collection_auto_create: autoCreate.input.checked,
      state: stateSelect.value,
      reconnect_token_minutes: minutes,
      default_collection_world: COLLECTION_RIGHTS.filter((r) => w[r]),
      collection_snapshot_policies: perColl,
    };
    if (custom.input.checked) {
      const policy = {};
      for (const [key, kind, label] of SNAPSHOT_FIELDS) {
        if (kind === "bool") policy[key] = snapInputs[key].checked;
        else {
          const n = Number(snapInputs[key].value);
          if (!Number.isInteger(n) || n < 0) throw new Error(`Snapshot policy: “${label}” is a whole number, at least 0.`);
          policy[key] = n;
        }
      }
      settings.snapshot_policy = policy;
    }
    return settings;
  }

  const rows = h(
    "div",
    { class: "form-rows" },
    h("div", { class: "label" }, "Display name"),
    displayName,
    h("div", { class: "label" }, "Anonymous access"),
    anonymous.el,
    h("div", { class: "label" }, "Collection auto-create"),
    autoCreate.el,
    h("div", { class: "label" }, "State", h("small", null, "maintenance: only admin-key logins; offline: no logins")),
    stateSelect,
    h("div", { class: "label" }, "Reconnect-token lifetime", h("small", null, "minutes after its last use")),
    reconnect,
    h(
      "div",
      { class: "label" },
      "Default permissions",
      h("small", null, "what everyone gets on a collection created on demand"),
    ),
    world.el,
    h("div", { class: "label" }, "Snapshot policy"),
    h("div", null, custom.el, snapBox),
    h("div", { class: "label" }, "Per-collection snapshot policies", h("small", null, "JSON: {collection: policy}")),
    perCollection,
  );
  add(
    body,
    formCard({
      title: null,
      testid: "settings",
      cls: "stack",
      submit: "Save settings",
      fields: [rows],
      onSubmit: async () => {
        const saved = await api("PUT", ctx.dp("/settings"), collect());
        fill(saved);
        notify("Settings saved");
      },
    }),
  );
  fill(await api("GET", ctx.dp("/settings")));
}
