// Building blocks of the pages: the page frame and its error line, cards, form fields and
// rights checkboxes, form cards, the notice (toast), the confirm dialog and delete buttons,
// and the paged, searchable table over a REST list or local items.

import { api, debounce, describe, h, qs, setChildren } from "./core.js";

const PAGE_SIZE = 20;

export function showError(el, e) {
  if (e && e.ended) return;
  el.textContent = describe(e);
  el.hidden = false;
}

let noticeTimer = null;
export function notify(text) {
  const el = document.getElementById("notice");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    el.hidden = true;
  }, 3500);
}

export function page(ctx, { title, crumbs, actions }) {
  const error = h("div", { class: "callout error", testid: "page-error", role: "alert", hidden: true });
  const body = h("div", { class: "stack" });
  setChildren(
    ctx.view,
    h(
      "div",
      { class: "page-head" },
      crumbs ? h("span", { class: "crumbs" }, crumbs) : null,
      h("h1", { testid: "page-title" }, title),
      actions ? h("div", { class: "page-actions" }, actions) : null,
    ),
    error,
    body,
  );
  ctx.showError = (e) => showError(error, e);
  ctx.clearError = () => {
    error.hidden = true;
  };
  document.title = `${typeof title === "string" ? title : "Console"} · Tandem`;
  return body;
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", null, title) : null, children);
}

export function field(label, control, cls) {
  return h("label", { class: `field ${cls || ""}` }, h("span", null, label), control);
}

export function checkbox(testid, label, checked) {
  const input = h("input", { type: "checkbox", testid, checked: !!checked });
  return { input, el: h("label", { class: "check" }, input, label) };
}

/** Checkboxes for `names`; `.value()` answers an object {name: bool}. */
export function rightsChecks(prefix, names, rights) {
  const boxes = names.map((n) => [n, checkbox(`${prefix}-${n}`, n, rights && rights[n])]);
  return {
    el: h(
      "div",
      { class: "checks" },
      boxes.map(([, b]) => b.el),
    ),
    value: () => Object.fromEntries(boxes.map(([n, b]) => [n, b.input.checked])),
    set: (r) => boxes.forEach(([n, b]) => (b.input.checked = !!(r && r[n]))),
  };
}

/**
 * A card with a form: `fields` (nodes), a submit button `${testid}-submit`, an error line
 * `${testid}-error`; `onSubmit(form)` may throw (its message is shown).
 */
export function formCard({ title, testid, fields, submit, onSubmit, note, cls }) {
  const error = h("div", { class: "callout error", testid: `${testid}-error`, role: "alert", hidden: true });
  const button = h("button", { class: "btn primary", type: "submit", testid: `${testid}-submit` }, submit);
  const form = h("form", { class: cls || "form", testid }, fields, h("div", { class: "field" }, button));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      await onSubmit(form);
    } catch (e) {
      showError(error, e);
    } finally {
      button.disabled = false;
    }
  });
  return card(title, note || null, error, form);
}

/** Runs an action of a button; its error goes to the page's error line. */
async function run(ctx, button, fn, done) {
  if (button) button.disabled = true;
  ctx.clearError();
  try {
    const result = await fn();
    if (done) notify(typeof done === "function" ? done(result) : done);
    return true;
  } catch (e) {
    ctx.showError(e);
    return false;
  } finally {
    if (button) button.disabled = false;
  }
}

function confirmDialog(message, okLabel = "Delete") {
  return new Promise((resolve) => {
    const close = (answer) => {
      overlay.remove();
      document.removeEventListener("keydown", onKey);
      resolve(answer);
    };
    const onKey = (e) => {
      if (e.key === "Escape") close(false);
    };
    const ok = h(
      "button",
      { class: "btn danger solid", type: "button", testid: "confirm-ok", onclick: () => close(true) },
      okLabel,
    );
    const overlay = h(
      "div",
      { class: "modal-overlay", testid: "confirm-dialog" },
      h(
        "div",
        { class: "modal", role: "dialog", "aria-modal": "true" },
        h("p", { testid: "confirm-message" }, message),
        h(
          "div",
          { class: "modal-actions" },
          h("button", { class: "btn", type: "button", testid: "confirm-cancel", onclick: () => close(false) }, "Cancel"),
          ok,
        ),
      ),
    );
    document.addEventListener("keydown", onKey);
    document.body.append(overlay);
    ok.focus();
  });
}

/** A delete button `testid` that asks first, runs `fn`, then `after()` (a refresh). */
export function deleteButton(ctx, testid, what, fn, after, label = "Delete") {
  return h(
    "button",
    {
      class: "btn small danger",
      type: "button",
      testid,
      onclick: async (ev) => {
        const button = ev.currentTarget;
        if (!(await confirmDialog(`${label} ${what}?`, label))) return;
        await run(
          ctx,
          button,
          fn,
          `${{ Delete: "Deleted", Disconnect: "Disconnected", Remove: "Removed" }[label] || label} ${what}`,
        );
        await after();
      },
    },
    label,
  );
}

/** Loads pages from a REST list (`{items, offset, total}`; a plain array is paged here). */
export function remoteLoad(path, extra) {
  return async ({ offset, limit, filter }) => {
    const params = { ...(extra ? extra() : {}), offset, limit, filter };
    const body = await api("GET", `${path}${qs(params)}`);
    if (Array.isArray(body)) return localPage(body, { offset, limit, filter }, (it) => JSON.stringify(it));
    return body;
  };
}

function localPage(all, { offset, limit, filter }, text) {
  const f = (filter || "").toLowerCase();
  const items = f ? all.filter((it) => text(it).toLowerCase().includes(f)) : all;
  return { items: items.slice(offset, offset + limit), offset, total: items.length };
}

/** Pages over items the page already has (`getItems()`, searched in `text(item)`). */
export function localLoad(getItems, text) {
  return async (paging) => localPage(await getItems(), paging, text);
}

/**
 * A table with a search box (`${testid}-search`, the list's `filter`), paging
 * (`${testid}-prev`, `-next`, `-info`) and a refresh button. `columns`: [{title, render(item),
 * cls}]. `rowId(item)` names the row: data-testid `${rowPrefix}-${rowId(item)}`.
 */
export function pagedTable({
  testid,
  columns,
  load,
  rowId,
  rowPrefix,
  pageSize = PAGE_SIZE,
  searchable = true,
  placeholder,
  empty,
  tools,
}) {
  const st = { offset: 0, filter: "", items: [], total: 0, loaded: false };
  const search = h("input", {
    type: "search",
    class: "search",
    placeholder: placeholder || "Search…",
    testid: `${testid}-search`,
    "aria-label": "Search",
  });
  const refreshButton = h(
    "button",
    { class: "btn small", type: "button", testid: `${testid}-refresh`, title: "Refresh" },
    "↻ Refresh",
  );
  const tbody = h("tbody");
  const info = h("span", { testid: `${testid}-info` });
  const prev = h("button", { class: "btn small", type: "button", testid: `${testid}-prev` }, "‹ Previous");
  const next = h("button", { class: "btn small", type: "button", testid: `${testid}-next` }, "Next ›");
  const error = h("div", { class: "callout error", testid: `${testid}-error`, role: "alert", hidden: true });
  const table = h(
    "table",
    { class: "table", testid },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        columns.map((c) => h("th", { class: c.cls || null }, c.title)),
      ),
    ),
    tbody,
  );
  const el = h(
    "div",
    { class: "paged" },
    h("div", { class: "table-tools" }, searchable ? search : null, refreshButton, tools || null),
    error,
    h("div", { class: "table-wrap" }, table),
    h("div", { class: "pager" }, prev, info, next),
  );
  let seq = 0;
  async function refresh() {
    const mine = ++seq;
    try {
      const page = await load({ offset: st.offset, limit: pageSize, filter: st.filter });
      if (mine !== seq) return;
      if (page.items.length === 0 && st.offset > 0 && page.total > 0) {
        st.offset = Math.floor((page.total - 1) / pageSize) * pageSize;
        await refresh();
        return;
      }
      st.items = page.items;
      st.total = page.total;
      st.loaded = true;
      error.hidden = true;
      render();
    } catch (e) {
      if (mine === seq) showError(error, e);
    }
  }
  function render() {
    const rows = st.items.map((item) =>
      h(
        "tr",
        { testid: rowId ? `${rowPrefix || testid}-row-${rowId(item)}` : null },
        columns.map((c) => h("td", { class: c.cls || null }, c.render(item))),
      ),
    );
    if (rows.length === 0) {
      const text = st.filter ? `Nothing matches “${st.filter}”.` : empty || "Nothing here yet.";
      rows.push(h("tr", null, h("td", { class: "empty", colspan: columns.length }, text)));
    }
    setChildren(tbody, ...rows);
    const to = st.offset + st.items.length;
    info.textContent = st.total ? `${st.offset + 1}–${to} of ${st.total}` : "0 of 0";
    prev.disabled = st.offset === 0;
    next.disabled = to >= st.total;
  }
  search.addEventListener(
    "input",
    debounce(() => {
      st.filter = search.value.trim();
      st.offset = 0;
      refresh();
    }, 250),
  );
  prev.addEventListener("click", () => {
    st.offset = Math.max(0, st.offset - pageSize);
    refresh();
  });
  next.addEventListener("click", () => {
    st.offset += pageSize;
    refresh();
  });
  refreshButton.addEventListener("click", () => refresh());
  render();
  refresh();
  return { el, refresh, state: st };
}

/** Every item of a REST list, page by page, until `pred` matches one (or the list ends). */
export async function findInList(path, pred) {
  for (let offset = 0; ; offset += 1000) {
    const body = await api("GET", `${path}${qs({ offset, limit: 1000 })}`);
    const items = Array.isArray(body) ? body : body.items;
    const found = items.find(pred);
    if (found) return found;
    if (Array.isArray(body) || offset + items.length >= body.total || items.length === 0) return null;
  }
}

export function link(href, text, testid) {
  return h("a", { href, testid }, text);
}
