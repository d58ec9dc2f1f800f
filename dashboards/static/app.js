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

/* What a refusal says to a person: the localised text of its code (and of the field it names), never
   the code itself nor the server's English detail. */
function errorMessage(data, status) {
  const code = data && data.error;
  const text = (code && SB.strings["error." + code]) || (data && data.message) || t(status >= 500 ? "error.internal" : "error.bad_request");
  const field = data && data.field && SB.strings["field." + data.field];
  return field ? `${text}: ${field}` : text;
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
    const message = errorMessage(data, response.status);
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
  document.querySelectorAll("[data-i18n-aria]").forEach(n => { n.setAttribute("aria-label", t(n.dataset.i18nAria)); });
}

async function boot(page) {
  SB.me = await api("GET", "/api/v1/me");
  await loadStrings(SB.me.lang);
  if (!SB.me.menu.includes(page)) { location.href = "/"; throw new Error("page not in menu"); }
  const header = el("header", {},
    el("strong", {}, t("app.title")),
    el("nav", {}, SB.me.menu.map(p => el("a", {href: "/" + p, id: "menu-" + p, "aria-current": location.pathname.startsWith("/" + p) ? "page" : null}, t("menu." + p)))),
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

/* Dates and times as the centre reads them: in its own time zone, in the interface language's format. */
const CENTRE_ZONE = "Europe/Kyiv";
const REPEAT_WINDOW_MS = 72 * 3600 * 1000;
function locale() { return SB.lang === "uk" ? "uk-UA" : "en-GB"; }
function fmtTime(iso) {
  return iso ? new Date(iso).toLocaleString(locale(), {timeZone: CENTRE_ZONE,
    day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit"}) : t("app.none");
}

/* The instant a wall-clock time of the centre names ("2026-12-07T09:30" in Kyiv), as ISO 8601 in UTC:
   read as UTC first, then moved by the centre's offset at that moment. */
function centreInstant(local) {
  if (!local) return "";
  const guess = new Date(local + "Z");
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {timeZone: CENTRE_ZONE, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"}).formatToParts(guess).map(p => [p.type, p.value]));
  const shown = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return new Date(guess.getTime() - (shown - guess.getTime())).toISOString();
}

/* Names, not ids: queues by their localised names, people (authors of events and changes) by name. */
function queueName(queue) { return queue ? t("queue." + queue, queue) : t("app.none"); }
async function loadPeople() {
  if (!SB.people) {
    SB.people = {};
    try { for (const p of (await api("GET", "/api/v1/people")).people) SB.people[p.id] = p; } catch (e) { /* the toast said why */ }
  }
  return SB.people;
}
function personName(id) {
  if (id === null || id === undefined || id === "") return t("app.none");
  const person = (SB.people || {})[id];
  return person ? person.name : t("people.unknown") + " " + id;
}
/* An author as stored ("agent:12", "user:3", "system", "sla", "bot", "client", "rule:night"): a person's
   name or what the engine part is called. */
function authorName(author) {
  const [kind, id] = String(author || "").split(":");
  if ((kind === "agent" || kind === "user") && id) return personName(Number(id));
  return t("author." + kind, kind || t("app.none"));
}

/* Re-render at most once per animation frame however many events arrive. */
function scheduler(render) {
  let pending = false;
  return () => { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; render(); }); } };
}

window.addEventListener("load", () => {
  const notice = sessionStorage.getItem("sb_notice");
  if (notice) { sessionStorage.removeItem("sb_notice"); toast(notice, true); }
});
