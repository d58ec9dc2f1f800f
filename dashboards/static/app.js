/* Shared by every page: locale strings, API calls with clear error messages, the session, the menu,
   and live event streams that show the page as stale when the feed is not live. */
"use strict";
const SB = {strings: {}, me: null, lang: "uk"};

function t(key, fallback) { return SB.strings[key] || fallback || key; }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function toast(text, isError) {
  let box = document.getElementById("toast");
  if (!box) { box = el("div", {id: "toast", role: "status"}); document.body.append(box); }
  box.textContent = text; box.className = isError ? "error" : ""; box.style.display = "block";
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { box.style.display = "none"; }, 5000);
}

async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {method, credentials: "same-origin",
      headers: method === "GET" ? {} : {"Content-Type": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) { toast(t("error.network"), true); throw e; }
  if (response.status === 401) { location.href = "/login"; throw new Error("unauthenticated"); }
  const data = response.headers.get("Content-Type", "").includes("json") ? await response.json() : null;
  if (!response.ok) {
    const message = (data && data.message ? data.message : response.statusText) + (data && data.detail ? ": " + data.detail : "");
    toast(message, true);
    const error = new Error(message); error.code = data && data.error; throw error;
  }
  return data;
}

async function loadStrings(lang) {
  const data = await (await fetch(`/api/v1/i18n/${lang}`)).json();
  SB.strings = data.strings; SB.lang = lang; document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach(n => { n.textContent = t(n.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach(n => { n.placeholder = t(n.dataset.i18nPlaceholder); });
}

async function boot(page) {
  SB.me = await api("GET", "/api/v1/me");
  await loadStrings(SB.me.lang);
  if (!SB.me.menu.includes(page)) { location.href = "/"; throw new Error("page not in menu"); }
  const header = el("header", {},
    el("strong", {}, t("app.title")),
    el("nav", {}, SB.me.menu.filter(p => p !== "tickets").map(p => el("a", {href: "/" + p, id: "menu-" + p}, t("menu." + p)))),
    el("span", {class: "who"}, `${SB.me.full_name} · ${t("role." + SB.me.role)}`),
    el("select", {id: "lang", "aria-label": t("app.language"), on: {change: async e => {
      await api("POST", "/api/v1/me/language", {lang: e.target.value}); location.reload(); }}},
      SB.me.languages.map(l => el("option", {value: l, selected: l === SB.lang}, l.toUpperCase()))),
    el("button", {id: "logout", on: {click: async () => { await api("POST", "/api/v1/auth/logout"); location.href = "/login"; }}}, t("app.logout")));
  document.body.prepend(header, el("div", {id: "banner", role: "alert"}, t("app.stale")));
  return SB.me;
}

/* A live stream: EventSource reconnects by itself and sends Last-Event-ID, so the server replays what
   was missed.  The page is marked stale on an error, on a heartbeat saying the feed is not live, or
   when nothing at all was heard for three heartbeats. */
function liveStream(path, handlers, heartbeatS) {
  const limitMs = (heartbeatS || 10) * 3000;
  let lastHeard = Date.now();
  const source = new EventSource(path);
  const setLive = live => { document.body.classList.toggle("stale", !live); document.body.dataset.live = live ? "1" : "0"; };
  const heard = () => { lastHeard = Date.now(); };
  source.addEventListener("open", () => { heard(); });
  source.addEventListener("error", () => { setLive(false); });
  source.addEventListener("heartbeat", e => { heard(); setLive(JSON.parse(e.data).live); });
  source.addEventListener("snapshot", e => { heard(); setLive(true); SB.snapshots = (SB.snapshots || 0) + 1; handlers.snapshot(JSON.parse(e.data)); });
  source.addEventListener("session_expired", () => { source.close(); location.href = "/login"; });
  for (const [name, fn] of Object.entries(handlers)) {
    if (name !== "snapshot") source.addEventListener(name, e => { heard(); setLive(true); fn(JSON.parse(e.data), Number(e.lastEventId)); });
  }
  setInterval(() => { if (Date.now() - lastHeard > limitMs) setLive(false); }, 1000);
  return source;
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || isNaN(seconds)) return t("app.none");
  const s = Math.max(0, Math.round(seconds)), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
  return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s % 60).padStart(2, "0");
}

function fmtTime(iso) { return iso ? new Date(iso).toLocaleString(SB.lang === "uk" ? "uk-UA" : "en-GB") : t("app.none"); }

/* Re-render at most once per animation frame however many events arrive. */
function scheduler(render) {
  let pending = false;
  return () => { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; render(); }); } };
}

window.addEventListener("load", () => {
  const notice = sessionStorage.getItem("sb_notice");
  if (notice) { sessionStorage.removeItem("sb_notice"); toast(notice, true); }
});
