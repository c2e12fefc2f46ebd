// Pages: a domain's webhooks (register, delete; the secret shown once) and a webhook's
// deliveries.

import { add, api, badge, enc, fmtTime, h, pretty, setChildren } from "./core.js";
import {
  card, checkbox, deleteButton, field, findInList, formCard, link, notify, page, pagedTable,
  remoteLoad,
} from "./widgets.js";

const WEBHOOK_EVENTS = [
  ["model.created", "Model created"],
  ["model.deleted", "Model deleted"],
  ["model.last_session_left", "Last session left a model (final JSON and version)"],
  ["chat.message", "Chat message posted"],
];

export function viewWebhooks(ctx) {
  if (ctx.rest.length > 0) return viewWebhook(ctx, ctx.rest[0]);
  const body = page(ctx, { title: "Webhooks", crumbs: `${ctx.ns}/${ctx.d} ›` });
  const secretBox = h("div", { class: "callout ok", testid: "webhook-secret-box", hidden: true });
  const table = pagedTable({
    testid: "webhooks",
    rowPrefix: "webhook",
    rowId: (w) => w.id,
    placeholder: "Search webhooks…",
    empty: "No webhooks: register one below.",
    load: remoteLoad(ctx.dp("/webhooks")),
    columns: [
      { title: "Webhook", render: (w) => link(ctx.href("webhooks", w.id), w.id, `webhook-open-${w.id}`) },
      { title: "URL", render: (w) => h("code", null, w.url) },
      { title: "Events", render: (w) => (w.events || []).map((e) => badge(e, "info")) },
      { title: "Created", render: (w) => fmtTime(w.created_ms) },
      {
        title: "",
        cls: "actions",
        render: (w) =>
          h(
            "div",
            { class: "btn-row" },
            link(ctx.href("webhooks", w.id), "Deliveries", `webhook-deliveries-${w.id}`),
            deleteButton(
              ctx,
              `webhook-delete-${w.id}`,
              `webhook ${w.id} (${w.url})`,
              () => api("DELETE", ctx.dp(`/webhooks/${enc(w.id)}`)),
              () => table.refresh(),
            ),
          ),
      },
    ],
  });
  const url = h("input", {
    testid: "webhook-url",
    type: "url",
    required: true,
    placeholder: "https://app.example.com/hooks/tandem",
  });
  const boxes = WEBHOOK_EVENTS.map(([name, label]) => [
    name,
    checkbox(`webhook-event-${name}`, h("span", null, h("code", null, name), ` — ${label}`), true),
  ]);
  add(
    body,
    secretBox,
    card(null, table.el),
    formCard({
      title: "Register a webhook",
      testid: "webhook-create",
      submit: "Register",
      note: h(
        "p",
        { class: "muted" },
        "Deliveries are signed with HMAC-SHA256 and the webhook's secret, which is shown once, right after registering.",
      ),
      fields: [
        field("URL", url, "full"),
        field(
          "Events",
          h(
            "div",
            { class: "checks vertical" },
            boxes.map(([, b]) => b.el),
          ),
          "full",
        ),
      ],
      onSubmit: async () => {
        const events = boxes.filter(([, b]) => b.input.checked).map(([name]) => name);
        if (events.length === 0) throw new Error("Pick at least one event.");
        const made = await api("POST", ctx.dp("/webhooks"), { url: url.value.trim(), events });
        url.value = "";
        setChildren(
          secretBox,
          h("strong", null, `Webhook ${made.id} registered.`),
          " Its secret is shown only now; copy it into the receiving app:",
          h("br"),
          h("span", { class: "secret", testid: "webhook-secret" }, made.secret || "(none)"),
          h("br"),
          h(
            "button",
            { class: "btn small", type: "button", testid: "webhook-secret-dismiss", onclick: () => (secretBox.hidden = true) },
            "I have copied it",
          ),
        );
        secretBox.hidden = false;
        notify(`Registered webhook ${made.id}`);
        await table.refresh();
      },
    }),
  );
}

function deliveryStatus(d) {
  const kind = d.status === "delivered" ? "ok" : d.status === "failed" ? "bad" : "warn";
  return badge(d.status, kind);
}

function viewWebhook(ctx, id) {
  const body = page(ctx, {
    title: `Webhook ${id}`,
    crumbs: h("span", null, link(ctx.href("webhooks"), "Webhooks", "crumb-webhooks"), " ›"),
  });
  const info = h("div", { class: "btn-row", testid: "webhook-info" }, "loading…");
  const updated = h("span", { class: "muted", testid: "deliveries-updated" });
  const table = pagedTable({
    testid: "deliveries",
    rowPrefix: "delivery",
    rowId: (d) => d.id,
    placeholder: "Search event or status…",
    empty: "No deliveries yet.",
    tools: [updated],
    load: async (paging) => {
      const page1 = await remoteLoad(ctx.dp(`/webhooks/${enc(id)}/deliveries`))(paging);
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
      return page1;
    },
    columns: [
      { title: "#", cls: "num", render: (d) => h("span", { title: String(d.id) }, String(d.number ?? d.id)) },
      { title: "Event", render: (d) => badge(d.event, "info") },
      { title: "Status", render: (d) => h("span", { testid: `delivery-status-${d.id}` }, deliveryStatus(d)) },
      { title: "Attempts", cls: "num", render: (d) => h("span", { testid: `delivery-attempts-${d.id}` }, String(d.attempts)) },
      {
        title: "Last status",
        cls: "num",
        render: (d) =>
          h(
            "span",
            { testid: `delivery-last-status-${d.id}` },
            d.last_status === null || d.last_status === undefined ? "—" : String(d.last_status),
          ),
      },
      { title: "Last error", render: (d) => d.last_error || h("span", { class: "muted" }, "—") },
      { title: "Created", render: (d) => fmtTime(d.created_ms) },
      { title: "Last attempt", render: (d) => fmtTime(d.last_attempt_ms) },
      {
        title: "Payload",
        render: (d) => {
          let text = d.payload ?? "";
          try {
            text = pretty(JSON.parse(text));
          } catch (_) {
            /* shown as it is */
          }
          return h(
            "details",
            { testid: `delivery-payload-${d.id}` },
            h("summary", null, "show"),
            h("pre", { class: "mono" }, text),
          );
        },
      },
    ],
  });
  add(body, card(null, info), card("Deliveries, newest first (refreshed every 2 s)", table.el));
  findInList(ctx.dp("/webhooks"), (w) => w.id === id)
    .then((w) => {
      if (!w) throw new Error(`There is no webhook ${id}.`);
      setChildren(
        info,
        h("code", null, w.url),
        (w.events || []).map((e) => badge(e, "info")),
        h("span", { class: "muted" }, `registered ${fmtTime(w.created_ms)}`),
      );
    })
    .catch((e) => ctx.showError(e));
  ctx.every(2000, () => table.refresh());
}
