// Page: the server's health (/health) and metrics (/metrics, Prometheus text parsed into a table).

import { add, badge, errorOf, h } from "./core.js";
import { card, localLoad, page, pagedTable, showError } from "./widgets.js";

/** Prometheus text → [{name, labels, value, type, help}]. */
function parseMetrics(text) {
  const types = {};
  const helps = {};
  const samples = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    let m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
    if (m) {
      types[m[1]] = m[2];
      continue;
    }
    m = /^#\s*HELP\s+(\S+)\s+(.*)$/.exec(line);
    if (m) {
      helps[m[1]] = m[2];
      continue;
    }
    if (line.startsWith("#")) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = [];
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let lm;
    while ((lm = re.exec(m[3] || "")) !== null) labels.push([lm[1], lm[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c))]);
    const family = types[m[1]] ? m[1] : m[1].replace(/_(bucket|sum|count|total|created)$/, "");
    const last = samples[samples.length - 1];
    samples.push({
      first: !last || last.family !== family,
      family,
      name: m[1],
      labels,
      value: m[4],
      type: types[m[1]] || types[family] || "",
      help: helps[m[1]] || helps[family] || "",
    });
  }
  return samples;
}

function fmtNumber(text) {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  return Number.isInteger(n) ? n.toLocaleString() : n.toLocaleString(undefined, { maximumFractionDigits: 6 });
}

export function viewServer(ctx) {
  const body = page(ctx, { title: "Server health & metrics" });
  const status = h("span", { class: "badge", testid: "health-status" }, "checking…");
  const checked = h("span", { class: "muted", testid: "health-checked" });
  const healthError = h("div", { class: "callout error", testid: "health-error", hidden: true });
  let samples = [];
  const metricsError = h("div", { class: "callout error", testid: "metrics-error", hidden: true });
  const table = pagedTable({
    testid: "metrics",
    rowPrefix: "metric",
    rowId: (s) => s.name + (s.labels.length ? `{${s.labels.map(([k, v]) => `${k}=${v}`).join(",")}}` : ""),
    pageSize: 50,
    placeholder: "Search metrics…",
    empty: "No metrics.",
    load: localLoad(
      () => samples,
      (s) => `${s.name} ${s.labels.map((l) => l.join("=")).join(" ")} ${s.help}`,
    ),
    columns: [
      {
        title: "Metric",
        // The help line once per family (a histogram's buckets share one).
        render: (s) =>
          h(
            "div",
            { title: s.help || null },
            h("code", null, s.name),
            s.help && s.first ? h("div", { class: "muted" }, s.help) : null,
          ),
      },
      {
        title: "Labels",
        render: (s) => (s.labels.length ? s.labels.map(([k, v]) => badge(`${k}=${v}`)) : h("span", { class: "muted" }, "—")),
      },
      { title: "Type", render: (s) => s.type || "—" },
      { title: "Value", cls: "num", render: (s) => h("span", { testid: `metric-value-${s.name}` }, fmtNumber(s.value)) },
    ],
  });
  async function refresh() {
    try {
      const res = await fetch("/health", { cache: "no-store" });
      const text = await res.text();
      let ok = res.ok;
      let label = `${res.status}`;
      try {
        const json = JSON.parse(text);
        label = json.status || label;
        ok = ok && json.status === "ok";
      } catch (_) {
        label = text.slice(0, 80) || label;
      }
      status.textContent = label;
      status.className = `badge ${ok ? "ok" : "bad"}`;
      healthError.hidden = true;
    } catch (e) {
      status.textContent = "unreachable";
      status.className = "badge bad";
      showError(healthError, e);
    }
    checked.textContent = `checked ${new Date().toLocaleTimeString()}`;
    try {
      const res = await fetch("/metrics", { cache: "no-store" });
      if (!res.ok) throw await errorOf(res);
      samples = parseMetrics(await res.text());
      metricsError.hidden = true;
      await table.refresh();
    } catch (e) {
      showError(metricsError, e);
    }
  }
  add(
    body,
    card("Health", h("div", { class: "btn-row" }, "Status: ", status, checked), healthError),
    card("Metrics (refreshed every 5 s)", metricsError, table.el),
  );
  refresh();
  ctx.every(5000, refresh);
}
