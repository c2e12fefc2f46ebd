// The shell around the pages: the login screen, the sidebar, the domain picker and the hash
// router (a view per route, its timers and streams stopped when the route changes).

import {
  api, ApiError, describe, enc, errorOf, h, login, loginMessage, qs, returnTo, saveLogin,
  setChildren, setLoginMessage, setReturnTo,
} from "./core.js";
import { page } from "./widgets.js";

const DOMAIN_KEY = "tandem-console.domain";

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

export let pickedDomain = (() => {
  try {
    return JSON.parse(sessionStorage.getItem(DOMAIN_KEY) || "null");
  } catch (_) {
    return null;
  }
})();

export function pickDomain(ns, d) {
  pickedDomain = ns === null ? null : { namespace: ns, id: d };
  if (pickedDomain) sessionStorage.setItem(DOMAIN_KEY, JSON.stringify(pickedDomain));
  else sessionStorage.removeItem(DOMAIN_KEY);
}

export const domainHref = (ns, d, ...parts) => `#/d/${[ns, d, ...parts].map(enc).join("/")}`;

export function renderSidebar(active) {
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

export async function refreshDomainPicker() {
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
    setLoginMessage("");
    document.getElementById("login-password").value = "";
    const target = returnTo && !returnTo.startsWith("#/login") ? returnTo : "#/domains";
    setReturnTo("");
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
/** The pages by route: `top` by the first segment, `domain` by a domain's section (see `start`). */
let views = { top: {}, domain: {} };

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
      if (location.hash && location.hash !== "#/") setReturnTo(location.hash);
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
  let view = views.top[section];
  if (section === "d" && segs.length >= 3) {
    ctx.ns = segs[1];
    ctx.d = segs[2];
    section = segs[3] || "models";
    ctx.rest = segs.slice(4);
    ctx.dp = (p) => `/domains/${enc(ctx.ns)}/${enc(ctx.d)}${p}`;
    ctx.href = (...parts) => domainHref(ctx.ns, ctx.d, ...parts);
    if (!pickedDomain || pickedDomain.namespace !== ctx.ns || pickedDomain.id !== ctx.d) pickDomain(ctx.ns, ctx.d);
    view = views.domain[section];
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

/** Starts the console with its pages: `top` by first segment, `domain` by section. */
export function start(top, domain) {
  views = { top, domain };
  document.getElementById("login-form").addEventListener("submit", submitLogin);
  document.getElementById("logout").addEventListener("click", () => {
    saveLogin(null);
    setLoginMessage("You are logged out.");
    setReturnTo("");
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
    const section = segs[0] === "d" && views.domain[segs[3]] ? segs[3] : "models";
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
