// Tandem admin console: one page over the REST API (/api/v1), hash routing, no framework and
// no build step (the server embeds this file as it is). Everything on screen is built with
// DOM calls (never innerHTML), so no text from the server is ever parsed as markup. The page's
// Content-Security-Policy allows no inline script: every handler is attached here.
//
// Routes:  #/login  #/domains  #/server  #/d/<namespace>/<domain>/<section>[/<id>...]
// Every interactive element has a stable data-testid (tests/console/ drives the page).

"use strict";

(() => {
  // ---------------------------------------------------------------------------------------
  // Helpers

  const enc = encodeURIComponent;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const TOKEN_KEY = "tandem-console.login";
  const DOMAIN_KEY = "tandem-console.domain";
  const PAGE_SIZE = 20;
  const COLLECTION_RIGHTS = ["create", "read", "write", "remove", "manage"];
  const MODEL_RIGHTS = ["read", "write", "remove", "manage"];
  const WEBHOOK_EVENTS = [
    ["model.created", "Model created"],
    ["model.deleted", "Model deleted"],
    ["model.last_session_left", "Last session left a model (final JSON and version)"],
    ["chat.message", "Chat message posted"],
  ];

  /** An element: h("div", {class, testid, onclick, ...attributes}, ...children). */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "testid") el.dataset.testid = value;
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key === "value") el.value = value;
      else if (key === "checked") el.checked = true;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    appendAll(el, children);
    return el;
  }

  /** Replaces the children of `el` (nulls skipped, arrays flattened, text as text). */
  function setChildren(el, ...children) {
    el.replaceChildren();
    appendAll(el, children);
  }

  /** Appends `children` to `el` (nulls skipped, arrays flattened). */
  function add(el, ...children) {
    appendAll(el, children);
  }

  function appendAll(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
  }

  function fmtTime(ms) {
    if (!ms) return "—";
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? "—" : d.toLocaleString();
  }

  function ago(ms) {
    if (!ms) return "";
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} d ago`;
  }

  function qs(params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
    }
    const s = p.toString();
    return s ? `?${s}` : "";
  }

  /** Runs `fn` at most once per `ms` (the last call inside a window runs at its end). */
  function throttle(fn, ms) {
    let last = 0;
    let timer = null;
    return () => {
      const wait = last + ms - Date.now();
      if (wait <= 0) {
        last = Date.now();
        fn();
      } else if (timer === null) {
        timer = setTimeout(() => {
          timer = null;
          last = Date.now();
          fn();
        }, wait);
      }
    };
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  const pretty = (value) => JSON.stringify(value, null, 2);

  function badge(text, kind) {
    return h("span", { class: `badge ${kind || ""}` }, text);
  }

  function rightsBadges(rights, names) {
    const held = names.filter((n) => rights && rights[n]);
    return held.length ? held.map((n) => badge(n, "info")) : h("span", { class: "muted" }, "none");
  }

  function userLabel(user) {
    if (!user) return "—";
    const name = user.username ?? user.name ?? "";
    const kind = user.user_type ?? user.kind ?? "";
    return h("span", null, name, kind && kind !== "normal" ? [" ", badge(kind)] : null);
  }

  // ---------------------------------------------------------------------------------------
  // Login state and the REST client

  let login = loadLogin();
  let loginMessage = "";
  let returnTo = "";
  let expiryTimer = null;

  function loadLogin() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
      if (saved && typeof saved.token === "string" && saved.expires_ms > Date.now()) return saved;
    } catch (_) {
      /* a damaged entry is a missing one */
    }
    return null;
  }

  function saveLogin(value) {
    login = value;
    if (value) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
    else sessionStorage.removeItem(TOKEN_KEY);
    clearTimeout(expiryTimer);
    if (value) {
      const left = value.expires_ms - Date.now();
      // setTimeout takes at most 2^31-1 ms; a longer login is checked again by then.
      expiryTimer = setTimeout(
        () => {
          if (login && login.expires_ms <= Date.now()) sessionEnded("Your login expired. Please log in again.");
        },
        Math.min(Math.max(left, 0) + 500, 2147483647),
      );
    }
  }

  /** The token is gone or refused: back to the login page with `message`. */
  function sessionEnded(message) {
    if (!login) return;
    saveLogin(null);
    loginMessage = message;
    if (!location.hash.startsWith("#/login")) returnTo = location.hash;
    location.hash = "#/login";
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
      this.ended = status === 401;
    }
  }

  async function errorOf(res) {
    let code = `http_${res.status}`;
    let message = `${res.status} ${res.statusText || "error"}`;
    try {
      const body = await res.json();
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
      }
    } catch (_) {
      /* not JSON: the status says it */
    }
    return new ApiError(res.status, code, message);
  }

  /** A REST call under /api/v1; answers the parsed JSON (null for 204). 401 ends the login. */
  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${login ? login.token : ""}` };
    let payload;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(`/api/v1${path}`, { method, headers, body: payload, cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, "network", `The server cannot be reached (${e.message}).`);
    }
    if (res.status === 401) {
      const err = await errorOf(res);
      sessionEnded(`Your login is no longer valid (${err.message}). Please log in again.`);
      throw err;
    }
    if (!res.ok) throw await errorOf(res);
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  function describe(e) {
    if (e instanceof ApiError) {
      return e.code && !e.code.startsWith("http_") && e.code !== "network" ? `${e.message} (${e.code})` : e.message;
    }
    return e && e.message ? e.message : String(e);
  }

  function showError(el, e) {
    if (e && e.ended) return;
    el.textContent = describe(e);
    el.hidden = false;
  }

  let noticeTimer = null;
  function notify(text) {
    const el = document.getElementById("notice");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      el.hidden = true;
    }, 3500);
  }

  /**
   * Follows the server-sent events of `path` (fetch with the Authorization header, read as a
   * stream) until the view is left; reconnects with backoff. `onEvent(json)` per event,
   * `onOpen()` after each (re)connect, state shown in `statusEl`.
   */
  function eventStream(ctx, path, { onEvent, onOpen, statusEl }) {
    const controller = new AbortController();
    ctx.onCleanup(() => controller.abort());
    const show = (state, text) => {
      if (!statusEl) return;
      statusEl.className = `live ${state}`;
      statusEl.dataset.state = state || "connecting";
      statusEl.textContent = text;
    };
    (async () => {
      let backoff = 500;
      while (!controller.signal.aborted && login) {
        show("", "connecting…");
        try {
          const res = await fetch(`/api/v1${path}`, {
            headers: { Authorization: `Bearer ${login.token}`, Accept: "text/event-stream" },
            signal: controller.signal,
            cache: "no-store",
          });
          if (res.status === 401) {
            sessionEnded("Your login is no longer valid. Please log in again.");
            return;
          }
          if (!res.ok) throw await errorOf(res);
          show("on", "live");
          backoff = 500;
          if (onOpen) onOpen();
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value.replace(/\r/g, "");
            let end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = block
                .split("\n")
                .filter((line) => line.startsWith("data:"))
                .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
                .join("\n");
              if (!data) continue;
              let event;
              try {
                event = JSON.parse(data);
              } catch (_) {
                continue;
              }
              onEvent(event);
            }
          }
          show("off", "stream ended; reconnecting…");
        } catch (e) {
          if (controller.signal.aborted) return;
          show("off", `live updates unavailable: ${describe(e)}; retrying`);
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10000);
      }
    })();
  }

  // ---------------------------------------------------------------------------------------
  // Building blocks: page, cards, forms, tables, dialogs

  function page(ctx, { title, crumbs, actions }) {
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

  function card(title, ...children) {
    return h("section", { class: "card" }, title ? h("h2", null, title) : null, children);
  }

  function field(label, control, cls) {
    return h("label", { class: `field ${cls || ""}` }, h("span", null, label), control);
  }

  function checkbox(testid, label, checked) {
    const input = h("input", { type: "checkbox", testid, checked: !!checked });
    return { input, el: h("label", { class: "check" }, input, label) };
  }

  /** Checkboxes for `names`; `.value()` answers an object {name: bool}. */
  function rightsChecks(prefix, names, rights) {
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
  function formCard({ title, testid, fields, submit, onSubmit, note, cls }) {
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
  function deleteButton(ctx, testid, what, fn, after, label = "Delete") {
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
  function remoteLoad(path, extra) {
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
  function localLoad(getItems, text) {
    return async (paging) => localPage(await getItems(), paging, text);
  }

  /**
   * A table with a search box (`${testid}-search`, the list's `filter`), paging
   * (`${testid}-prev`, `-next`, `-info`) and a refresh button. `columns`: [{title, render(item),
   * cls}]. `rowId(item)` names the row: data-testid `${rowPrefix}-${rowId(item)}`.
   */
  function pagedTable({
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
  async function findInList(path, pred) {
    for (let offset = 0; ; offset += 1000) {
      const body = await api("GET", `${path}${qs({ offset, limit: 1000 })}`);
      const items = Array.isArray(body) ? body : body.items;
      const found = items.find(pred);
      if (found) return found;
      if (Array.isArray(body) || offset + items.length >= body.total || items.length === 0) return null;
    }
  }

  function link(href, text, testid) {
    return h("a", { href, testid }, text);
  }

  // ---------------------------------------------------------------------------------------
  // Shell: login screen, sidebar, domain picker, router

  const DOMAIN_SECTIONS = [
    ["settings", "Settings"],
    ["collections", "Collections"],
    ["models", "Models"],
    ["users", "Users"],
    ["groups", "Groups"],
    ["sessions", "Sessions"],
    ["permissions", "Permissions"],
    ["jwt-keys", "JWT keys"],
    ["chats", "Chats"],
    ["activities", "Activities"],
    ["webhooks", "Webhooks"],
  ];

  let pickedDomain = (() => {
    try {
      return JSON.parse(sessionStorage.getItem(DOMAIN_KEY) || "null");
    } catch (_) {
      return null;
    }
  })();

  function pickDomain(ns, d) {
    pickedDomain = ns === null ? null : { namespace: ns, id: d };
    if (pickedDomain) sessionStorage.setItem(DOMAIN_KEY, JSON.stringify(pickedDomain));
    else sessionStorage.removeItem(DOMAIN_KEY);
  }

  const domainHref = (ns, d, ...parts) => `#/d/${[ns, d, ...parts].map(enc).join("/")}`;

  function renderSidebar(active) {
    const nav = document.getElementById("sidebar");
    const item = (href, label, key, disabled) =>
      h(
        "a",
        {
          href: disabled ? null : href,
          class: `${active === key ? "active" : ""} ${disabled ? "disabled" : ""}`,
          testid: `nav-${key}`,
        },
        label,
      );
    const dom = pickedDomain;
    setChildren(nav, [
      h("h3", null, "Server"),
      item("#/domains", "Domains", "domains"),
      item("#/server", "Health & metrics", "server"),
      h("h3", null, "Domain"),
      dom
        ? h("div", { class: "domain-name", testid: "nav-domain-name" }, `${dom.namespace}/${dom.id}`)
        : h("div", { class: "domain-name muted" }, "pick a domain above"),
      DOMAIN_SECTIONS.map(([key, label]) => item(dom ? domainHref(dom.namespace, dom.id, key) : "#", label, key, !dom)),
    ]);
  }

  let domainList = [];

  async function refreshDomainPicker() {
    try {
      const page = await api("GET", `/domains${qs({ limit: 1000 })}`);
      domainList = page.items;
    } catch (_) {
      /* the page shows its own errors */
    }
    renderPicker();
  }

  function renderPicker() {
    const select = document.getElementById("domain-picker");
    const value = pickedDomain ? JSON.stringify([pickedDomain.namespace, pickedDomain.id]) : "";
    const options = [h("option", { value: "" }, domainList.length ? "— choose a domain —" : "— no domains yet —")];
    let present = false;
    for (const dom of domainList) {
      const v = JSON.stringify([dom.namespace, dom.id]);
      present = present || v === value;
      options.push(h("option", { value: v }, `${dom.namespace}/${dom.id}`));
    }
    if (value && !present) options.push(h("option", { value }, `${pickedDomain.namespace}/${pickedDomain.id}`));
    setChildren(select, ...options);
    select.value = value;
  }

  function showLogin() {
    document.getElementById("app").hidden = true;
    document.getElementById("login-screen").hidden = false;
    const message = document.getElementById("login-message");
    message.textContent = loginMessage;
    message.hidden = !loginMessage;
    document.getElementById("login-error").hidden = true;
    document.title = "Log in · Tandem";
    document.getElementById("login-username").focus();
  }

  async function submitLogin(ev) {
    ev.preventDefault();
    const username = document.getElementById("login-username").value.trim();
    const password = document.getElementById("login-password").value;
    const error = document.getElementById("login-error");
    const button = ev.submitter || document.querySelector('[data-testid="login-submit"]');
    error.hidden = true;
    button.disabled = true;
    try {
      let res;
      try {
        res = await fetch("/api/v1/auth/login", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ username, password }),
          cache: "no-store",
        });
      } catch (e) {
        throw new ApiError(0, "network", `The server cannot be reached (${e.message}).`);
      }
      if (!res.ok) {
        const err = await errorOf(res);
        err.ended = false;
        throw err;
      }
      const body = await res.json();
      saveLogin({ token: body.token, expires_ms: body.expires_ms, username });
      loginMessage = "";
      document.getElementById("login-password").value = "";
      const target = returnTo && !returnTo.startsWith("#/login") ? returnTo : "#/domains";
      returnTo = "";
      refreshDomainPicker();
      location.hash = target;
      if (location.hash === target) route();
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401 ? `Login refused: ${e.message}` : describe(e);
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, "");
    const [path, query] = raw.split("?");
    const segs = path
      .split("/")
      .filter(Boolean)
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch (_) {
          return s;
        }
      });
    return { segs, query: new URLSearchParams(query || "") };
  }

  let current = null;

  function route() {
    if (current) {
      current.controller.abort();
      for (const fn of current.cleanups) {
        try {
          fn();
        } catch (_) {
          /* a cleanup never stops the next view */
        }
      }
      current = null;
    }
    const { segs, query } = parseHash();
    if (!login) {
      if (segs[0] !== "login") {
        if (location.hash && location.hash !== "#/") returnTo = location.hash;
        location.replace("#/login");
        return;
      }
      showLogin();
      return;
    }
    if (segs[0] === "login" || segs.length === 0) {
      location.replace("#/domains");
      return;
    }
    document.getElementById("login-screen").hidden = true;
    document.getElementById("app").hidden = false;
    document.getElementById("whoami").textContent = login.username ? `Logged in as ${login.username}` : "";

    const controller = new AbortController();
    const cleanups = [];
    current = { controller, cleanups };
    const ctx = {
      view: document.getElementById("view"),
      signal: controller.signal,
      query,
      onCleanup: (fn) => cleanups.push(fn),
      every: (ms, fn) => {
        const timer = setInterval(() => {
          if (!controller.signal.aborted) fn();
        }, ms);
        cleanups.push(() => clearInterval(timer));
      },
      showError: () => {},
      clearError: () => {},
    };

    let section = segs[0];
    let view = TOP_VIEWS[section];
    if (section === "d" && segs.length >= 3) {
      ctx.ns = segs[1];
      ctx.d = segs[2];
      section = segs[3] || "models";
      ctx.rest = segs.slice(4);
      ctx.dp = (p) => `/domains/${enc(ctx.ns)}/${enc(ctx.d)}${p}`;
      ctx.href = (...parts) => domainHref(ctx.ns, ctx.d, ...parts);
      if (!pickedDomain || pickedDomain.namespace !== ctx.ns || pickedDomain.id !== ctx.d) pickDomain(ctx.ns, ctx.d);
      view = DOMAIN_VIEWS[section];
    }
    renderSidebar(section);
    renderPicker();
    if (!view) {
      page(ctx, { title: "Not found" });
      ctx.showError(new Error(`There is no page at ${location.hash}.`));
      return;
    }
    Promise.resolve()
      .then(() => view(ctx))
      .catch((e) => ctx.showError(e));
    document.getElementById("view").focus({ preventScroll: true });
  }

  // ---------------------------------------------------------------------------------------
  // Server pages: domains, health and metrics

  function viewDomains(ctx) {
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

  function viewServer(ctx) {
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

  // ---------------------------------------------------------------------------------------
  // Domain settings

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

  async function viewSettings(ctx) {
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

  // ---------------------------------------------------------------------------------------
  // Collections

  function viewCollections(ctx) {
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

  // ---------------------------------------------------------------------------------------
  // Models: list, live view, history, permissions

  function viewModels(ctx) {
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

  // ---------------------------------------------------------------------------------------
  // Users, groups, sessions, JWT keys

  function viewUsers(ctx) {
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

  /**
   * The generic permission rows of a target (the domain, a chat, an activity): what everyone,
   * a user or a group holds, as strings among `names`. `path` answers and takes
   * `{world, users: [[user, [..]]], groups: [[group, [..]]]}` (GET, PATCH).
   */
  function permissionRows(ctx, { path, names, testid, title }) {
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

  const CHAT_PERMISSIONS = [
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
  const ACTIVITY_PERMISSIONS = ["join", "lurk", "view_state", "set_state", "remove", "manage"];

  function viewPermissions(ctx) {
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

  function viewGroups(ctx) {
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

  function viewSessions(ctx) {
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

  function viewJwtKeys(ctx) {
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

  // ---------------------------------------------------------------------------------------
  // Chats and activities

  const userName = (u) => (u ? (u.name ?? u.username ?? "?") : "?");

  /** "alice, bob" from a comma list: normal users as REST names them. */
  function userRefs(text) {
    return text
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean)
      .map((name) => ({ kind: "normal", name }));
  }

  function viewChats(ctx) {
    if (ctx.rest.length > 0) return viewChat(ctx, ctx.rest[0]);
    const live = h("span", { class: "live", testid: "live-status" }, "connecting…");
    const body = page(ctx, { title: "Chats", crumbs: `${ctx.ns}/${ctx.d} ›`, actions: [live] });
    const table = pagedTable({
      testid: "chats",
      rowPrefix: "chat",
      rowId: (c) => c.id,
      placeholder: "Search chats…",
      empty: "No chats.",
      load: remoteLoad(ctx.dp("/chats")),
      columns: [
        { title: "Chat", render: (c) => link(ctx.href("chats", c.id), c.id, `chat-open-${c.id}`) },
        { title: "Kind", render: (c) => [badge(c.kind), c.private ? badge("private", "warn") : null] },
        { title: "Name", render: (c) => c.name || h("span", { class: "muted" }, "—") },
        { title: "Topic", render: (c) => c.topic || h("span", { class: "muted" }, "—") },
        { title: "Members", cls: "num", render: (c) => String((c.members || []).length) },
        { title: "Last event", cls: "num", render: (c) => String(c.last_event_number ?? 0) },
        {
          title: "Last activity",
          render: (c) => (c.last_event_ms ? h("span", { title: fmtTime(c.last_event_ms) }, ago(c.last_event_ms)) : "—"),
        },
        {
          title: "",
          cls: "actions",
          render: (c) =>
            deleteButton(
              ctx,
              `chat-delete-${c.id}`,
              `chat ${c.id} with its history`,
              () => api("DELETE", ctx.dp(`/chats/${enc(c.id)}`)),
              () => table.refresh(),
            ),
        },
      ],
    });
    const id = h("input", { testid: "chat-create-id", placeholder: "(generated when empty)" });
    const kind = h(
      "select",
      { testid: "chat-create-kind" },
      h("option", { value: "channel" }, "channel"),
      h("option", { value: "room" }, "room"),
    );
    const name = h("input", { testid: "chat-create-name" });
    const topic = h("input", { testid: "chat-create-topic" });
    const members = h("input", { testid: "chat-create-members", placeholder: "alice, bob (channels)" });
    const priv = checkbox("chat-create-private", "Private (channels only)");
    add(
      body,
      card(null, table.el),
      formCard({
        title: "Create a chat",
        testid: "chat-create",
        submit: "Create chat",
        fields: [
          field("Chat id", id),
          field("Kind", kind),
          field("Name", name),
          field("Topic", topic, "grow"),
          field("Members (comma separated)", members, "grow"),
          priv.el,
        ],
        onSubmit: async () => {
          const chat = { kind: kind.value, name: name.value.trim(), topic: topic.value.trim(), private: priv.input.checked };
          if (id.value.trim()) chat.id = id.value.trim();
          if (kind.value === "channel") chat.members = userRefs(members.value);
          const made = await api("POST", ctx.dp("/chats"), chat);
          notify(`Created chat ${made.id}`);
          id.value = name.value = topic.value = members.value = "";
          await table.refresh();
        },
      }),
    );
    const refresh = throttle(() => table.refresh(), 500);
    eventStream(ctx, ctx.dp("/events"), {
      statusEl: live,
      onOpen: refresh,
      onEvent: (ev) => {
        if (ev.type === "chat_changed") refresh();
      },
    });
  }

  /** What a chat event says, by its kind. */
  function chatEventText(e) {
    const muted = (t) => h("span", { class: "muted" }, t);
    switch (e.kind) {
      case "message":
        return h("span", null, e.text ?? e.message ?? "");
      case "created":
        return muted(
          `created “${e.name || ""}”${e.topic ? ` (${e.topic})` : ""}${(e.members || []).length ? ` with ${e.members.map(userName).join(", ")}` : ""}`,
        );
      case "user_added":
        return muted(`added ${userName(e.added)}`);
      case "user_removed":
        return muted(`removed ${userName(e.removed)}`);
      case "name_changed":
        return muted(`renamed to “${e.name}”`);
      case "topic_changed":
        return muted(`topic: ${e.topic}`);
      case "user_joined":
        return muted("joined");
      case "user_left":
        return muted("left");
      default:
        return muted("—");
    }
  }

  function viewChat(ctx, id) {
    const live = h("span", { class: "live", testid: "live-status" }, "connecting…");
    const chatPath = ctx.dp(`/chats/${enc(id)}`);
    const body = page(ctx, {
      title: `Chat ${id}`,
      crumbs: h("span", null, link(ctx.href("chats"), "Chats", "crumb-chats"), " ›"),
      actions: [
        live,
        deleteButton(
          ctx,
          "chat-delete",
          `chat ${id} with its history`,
          async () => {
            await api("DELETE", chatPath);
            location.hash = ctx.href("chats");
          },
          async () => {},
        ),
      ],
    });
    const info = h("div", { class: "btn-row", testid: "chat-info" }, "loading…");
    const events = pagedTable({
      testid: "chat-events",
      rowPrefix: "chat-event",
      rowId: (e) => e.number,
      placeholder: "Search messages…",
      empty: "No events.",
      load: remoteLoad(`${chatPath}/events`),
      columns: [
        { title: "#", cls: "num", render: (e) => String(e.number) },
        { title: "Kind", render: (e) => badge(e.kind, e.kind === "message" ? "info" : "") },
        { title: "User", render: (e) => userLabel(e.user) },
        { title: "Time", render: (e) => fmtTime(e.timestamp_ms ?? e.time_ms) },
        { title: "Event", render: chatEventText },
      ],
    });
    async function loadInfo() {
      const chat = await api("GET", chatPath);
      const n = (chat.members || []).length;
      setChildren(
        info,
        badge(chat.kind),
        chat.private ? badge("private", "warn") : null,
        chat.name ? h("strong", null, chat.name) : null,
        chat.topic ? h("span", { class: "muted" }, `— ${chat.topic}`) : null,
        h("span", { class: "muted" }, ` · ${n} ${n === 1 ? "member" : "members"}${n ? ":" : ""} `),
        (chat.members || []).map((m) => badge(userName(m.user))),
        h("span", { class: "muted" }, ` · created ${fmtTime(chat.created_ms)}`),
      );
    }
    const message = h("input", { testid: "chat-message", required: true, placeholder: "Write a message…", autocomplete: "off" });
    add(
      body,
      card(null, info),
      formCard({
        title: "Post a message (as the server host)",
        testid: "chat-post",
        submit: "Send",
        fields: [field("Message", message, "grow")],
        onSubmit: async () => {
          const posted = await api("POST", `${chatPath}/messages`, { text: message.value });
          message.value = "";
          notify(`Posted message #${posted && posted.number !== undefined ? posted.number : "?"}`);
          await events.refresh();
        },
      }),
      card("Events, newest first (live)", events.el),
      permissionRows(ctx, {
        path: `${chatPath}/permissions`,
        names: CHAT_PERMISSIONS.filter((p) => p !== "create_chat"),
        testid: "chat-perm",
        title: "This chat's permissions",
      }),
    );
    loadInfo().catch((e) => ctx.showError(e));
    const refresh = throttle(() => {
      events.refresh();
      loadInfo().catch(() => {});
    }, 300);
    eventStream(ctx, ctx.dp("/events"), {
      statusEl: live,
      onOpen: refresh,
      onEvent: (ev) => {
        if (ev.type === "chat_changed" && (ev.chat_id === undefined || ev.chat_id === id)) refresh();
      },
    });
  }

  function viewActivities(ctx) {
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

  // ---------------------------------------------------------------------------------------
  // Webhooks and their deliveries

  function viewWebhooks(ctx) {
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

  // ---------------------------------------------------------------------------------------
  // Start

  const TOP_VIEWS = { domains: viewDomains, server: viewServer };
  const DOMAIN_VIEWS = {
    settings: viewSettings,
    collections: viewCollections,
    models: viewModels,
    users: viewUsers,
    groups: viewGroups,
    sessions: viewSessions,
    permissions: viewPermissions,
    "jwt-keys": viewJwtKeys,
    chats: viewChats,
    activities: viewActivities,
    webhooks: viewWebhooks,
  };

  function start() {
    document.getElementById("login-form").addEventListener("submit", submitLogin);
    document.getElementById("logout").addEventListener("click", () => {
      saveLogin(null);
      loginMessage = "You are logged out.";
      returnTo = "";
      location.hash = "#/login";
    });
    document.getElementById("domain-picker").addEventListener("change", (ev) => {
      const value = ev.target.value;
      if (!value) return;
      let ns;
      let d;
      try {
        [ns, d] = JSON.parse(value);
      } catch (_) {
        return;
      }
      const { segs } = parseHash();
      const section = segs[0] === "d" && DOMAIN_VIEWS[segs[3]] ? segs[3] : "models";
      pickDomain(ns, d);
      location.hash = domainHref(ns, d, section);
    });
    window.addEventListener("hashchange", route);
    if (login) {
      saveLogin(login);
      refreshDomainPicker();
    }
    route();
  }

  start();
})();
