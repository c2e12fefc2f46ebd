// The console's core: DOM and formatting helpers, the login (token in sessionStorage, its
// expiry), the REST client under /api/v1 and the server-sent events reader. Every module builds
// its DOM with `h` (never innerHTML), so no text from the server is ever parsed as markup.

export const enc = encodeURIComponent;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const TOKEN_KEY = "tandem-console.login";
export const COLLECTION_RIGHTS = ["create", "read", "write", "remove", "manage"];
export const MODEL_RIGHTS = ["read", "write", "remove", "manage"];

/** An element: h("div", {class, testid, onclick, ...attributes}, ...children). */
export function h(tag, props, ...children) {
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
export function setChildren(el, ...children) {
  el.replaceChildren();
  appendAll(el, children);
}

/** Appends `children` to `el` (nulls skipped, arrays flattened). */
export function add(el, ...children) {
  appendAll(el, children);
}

function appendAll(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function fmtTime(ms) {
  if (!ms) return "—";
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "—" : d.toLocaleString();
}

export function ago(ms) {
  if (!ms) return "";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Runs `fn` at most once per `ms` (the last call inside a window runs at its end). */
export function throttle(fn, ms) {
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

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export const pretty = (value) => JSON.stringify(value, null, 2);

export function badge(text, kind) {
  return h("span", { class: `badge ${kind || ""}` }, text);
}

export function rightsBadges(rights, names) {
  const held = names.filter((n) => rights && rights[n]);
  return held.length ? held.map((n) => badge(n, "info")) : h("span", { class: "muted" }, "none");
}

export function userLabel(user) {
  if (!user) return "—";
  const name = user.username ?? user.name ?? "";
  const kind = user.user_type ?? user.kind ?? "";
  return h("span", null, name, kind && kind !== "normal" ? [" ", badge(kind)] : null);
}

export const userName = (u) => (u ? (u.name ?? u.username ?? "?") : "?");

// ---------------------------------------------------------------------------------------
// Login state and the REST client

export let login = loadLogin();
export let loginMessage = "";
export let returnTo = "";
let expiryTimer = null;

/** The line the login page shows next (why the last login ended). */
export function setLoginMessage(text) {
  loginMessage = text;
}

/** The page to open after the next login. */
export function setReturnTo(hash) {
  returnTo = hash;
}

function loadLogin() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
    if (saved && typeof saved.token === "string" && saved.expires_ms > Date.now()) return saved;
  } catch (_) {
    /* a damaged entry is a missing one */
  }
  return null;
}

export function saveLogin(value) {
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

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
    this.ended = status === 401;
  }
}

export async function errorOf(res) {
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
export async function api(method, path, body) {
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

export function describe(e) {
  if (e instanceof ApiError) {
    return e.code && !e.code.startsWith("http_") && e.code !== "network" ? `${e.message} (${e.code})` : e.message;
  }
  return e && e.message ? e.message : String(e);
}


/**
 * Follows the server-sent events of `path` (fetch with the Authorization header, read as a
 * stream) until the view is left; reconnects with backoff. `onEvent(json)` per event,
 * `onOpen()` after each (re)connect, state shown in `statusEl`.
 */
export function eventStream(ctx, path, { onEvent, onOpen, statusEl }) {
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
