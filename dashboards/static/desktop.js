/* The agent desktop: own state, offers with their remaining time, screen pops, the conversation
   workspace (thread, ticket, SLA timer, classification, status, notes, replies, transfer, click-to-call),
   the client card, client search, a ticket by hand and own statistics.  The thread scrolls in its own
   pane above the composer, follows new messages while the agent reads the newest (otherwise a marker
   counts them), and the open conversation is reopened after a reload. */
"use strict";
const D = {agent: null, offers: {}, conversations: {}, current: null, view: null, vocab: null, drafts: {}, replyKeys: {}, unseen: 0, unread: {}, previews: {}, announced: new Set()};
const NEAR_BOTTOM_PX = 40;

function openKey() { return "sb_open_conversation:" + SB.me.id; }
const BREAK_REASONS = ["lunch", "rest", "training", "meeting"];

function renderState() {
  const a = D.agent; if (!a) return;
  document.getElementById("state").textContent = t("state." + a.state, a.state) + (a.reason ? ` (${t("break." + a.reason, a.reason)})` : "");
  document.getElementById("state").dataset.state = a.state;
  document.getElementById("state-time").textContent = fmtDuration(Date.now() / 1000 - a.since);
  const wrap = document.getElementById("wrap-up");
  wrap.hidden = !a.wrap_up_until;
  if (a.wrap_up_until) document.getElementById("wrap-up-left").textContent = fmtDuration(a.wrap_up_until - Date.now() / 1000);
}

function renderOffers() {
  const box = document.getElementById("offers"); box.replaceChildren();
  const offers = Object.values(D.offers);
  if (!offers.length) box.append(el("p", {class: "muted"}, t("desktop.no_offers")));
  for (const o of offers) {
    const left = o.state.expires_at - Date.now() / 1000;
    box.append(el("div", {class: "offer", "data-offer": o.id},
      el("div", {}, el("b", {}, t("channel." + o.state.channel, o.state.channel)), " · ", o.state.ticket || "", " · ", queueName(o.state.queue)),
      o.state.preview ? el("div", {class: "offer-preview muted"}, o.state.preview) : null,
      el("div", {class: "row"}, el("span", {}, t("desktop.expires_in") + ": ", el("b", {class: "offer-left"}, fmtDuration(left))),
        el("button", {class: "primary accept", on: {click: () => accept(o.id)}}, t("desktop.accept")),
        el("button", {class: "reject", on: {click: () => reject(o.id)}}, t("desktop.reject")))));
    if (!o.shown && document.visibilityState === "visible") { o.shown = true; offerShown(o.id); }
  }
}

// Only offers the agent was shown count as missed: tell the server once the card is on screen.
async function offerShown(offerId) {
  try { await api("POST", `/api/v1/agents/me/offers/${encodeURIComponent(offerId)}/shown`); } catch (e) { /* withdrawn meanwhile */ }
}
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") renderOffers(); });

function renderConversations() {
  const box = document.getElementById("conversations"); box.replaceChildren();
  const items = Object.values(D.conversations);
  if (!items.length) box.append(el("p", {class: "muted"}, t("desktop.no_conversations")));
  // Each conversation: channel and ticket, status (On Hold shows its SLA paused), messages not yet read, the last message.
  for (const c of items) {
    const ticket = c.state.ticket || {}, unread = D.unread[c.id] || 0, last = D.previews[c.id];
    box.append(el("div", {class: "conversation-item" + (c.id === D.current ? " current" : ""), "data-conversation": c.id},
      el("div", {class: "row"}, el("a", {href: "#", "data-thread": c.id, "aria-current": c.id === D.current ? "true" : null,
        on: {click: e => { e.preventDefault(); openConversation(c.id); }}}, `${t("channel." + c.state.channel, c.state.channel)} · ${ticket.number || c.id}`),
        el("span", {class: "muted"}, t("status." + ticket.status, ticket.status || "")),
        ticket.status === "on_hold" ? el("span", {class: "badge"}, t("desktop.sla_paused")) : null,
        unread ? el("span", {class: "badge unread", "aria-label": `${t("desktop.unread")}: ${unread}`}, String(unread)) : null),
      last ? el("div", {class: "preview muted"}, `${t("desktop.direction." + last.direction, "")}: ${last.text}`) : null));
  }
}

async function accept(offerId) {
  const view = await api("POST", `/api/v1/agents/me/offers/${encodeURIComponent(offerId)}/accept`);
  delete D.offers[offerId]; renderOffers(); D.wanted = view.conversation.id; showConversation(view);
}
async function reject(offerId) {
  await api("POST", `/api/v1/agents/me/offers/${encodeURIComponent(offerId)}/reject`, {reason: "rejected"});
  delete D.offers[offerId]; renderOffers();
}

// The conversation the agent last chose is the one shown: a slower answer for another one (a live
// refresh of the conversation left a moment ago) is dropped.
async function openConversation(threadKey) {
  D.wanted = threadKey;
  const view = await api("GET", `/api/v1/conversations/${encodeURIComponent(threadKey)}`);
  if (D.wanted === threadKey) showConversation(view);
}
function refreshConversation(threadKey) {
  if (threadKey === D.wanted) openConversation(threadKey).catch(() => {});
}

function select(name, values, current, label) {
  return el("select", {name, "aria-label": t("field." + name)}, values.map(v => el("option", {value: v, selected: v === current}, label(v))));
}

// The server's clocks: a paused clock (On Hold) shows its frozen time left, a met one that it was met.
function slaLine(sla) {
  const clocks = (sla && sla.clocks) || {};
  const first = clocks.first_response;
  const clock = first && first.state !== "stopped" ? first : clocks.resolution || first;
  if (!clock) return el("span", {class: "muted"}, t("app.none"));
  if (clock.state === "stopped") return el("span", {id: "sla-timer", class: "ok"}, t("desktop.sla_met"));
  if (clock.state === "paused") return el("span", {id: "sla-timer", class: "muted"},
    `${t("desktop.sla_paused")} · ${fmtDuration(Math.max(0, clock.remaining_s))} ${t("desktop.sla_left")}`);
  return el("b", {id: "sla-timer", "data-due": clock.due_at}, "");
}

function tickSla() {
  const node = document.getElementById("sla-timer"); if (!node || !node.dataset.due) return;
  const left = (new Date(node.dataset.due) - Date.now()) / 1000;
  node.textContent = left > 0 ? `${fmtDuration(left)} ${t("desktop.sla_left")}` : t("desktop.sla_breached");
  node.className = left > 600 ? "ok" : left > 0 ? "warn" : "bad";
}

function showConversation(view) {
  D.view = view; D.current = view.conversation.id;
  const newest = view.messages[view.messages.length - 1];
  if (newest) D.previews[D.current] = {direction: newest.direction, text: newest.text};
  delete D.unread[D.current];
  const ticket = view.ticket || {}, key = D.current, path = `/api/v1/conversations/${encodeURIComponent(key)}`;
  const before = document.getElementById("messages");
  const sameThread = Boolean(before && before.dataset.thread === String(key));
  const following = !sameThread || before.scrollHeight - before.scrollTop - before.clientHeight < NEAR_BOTTOM_PX;
  const arrived = sameThread ? Math.max(0, view.messages.length - Number(before.dataset.count)) : 0;
  const readingAt = sameThread ? before.scrollTop : 0;
  if (!sameThread) D.unseen = 0;
  const messages = el("div", {id: "messages", class: "thread-pane", role: "log", "aria-live": "polite", "data-thread": key,
    "data-count": view.messages.length, on: {scroll: () => { if (atBottom(messages)) hideMarker(); }}}, view.messages.map(messageBubble));
  const marker = el("button", {id: "new-messages", class: "new-messages", hidden: true, on: {click: () => { messages.scrollTop = messages.scrollHeight; hideMarker(); }}});
  const transitions = (D.vocab.transitions[ticket.status] || []);
  // The thread is drawn again on every live event of the conversation: what the agent is typing survives it.
  const reply = el("textarea", {id: "reply-text", "aria-label": t("desktop.reply"), on: {input: () => { D.drafts[key] = reply.value; delete D.replyKeys[key]; },
    keydown: e => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send.click(); } }}});
  reply.placeholder = t("desktop.reply_placeholder");
  const typing = document.activeElement && document.activeElement.id === "reply-text";
  reply.value = D.drafts[key] || "";
  const draft = text => { reply.value = text; D.drafts[key] = text; delete D.replyKeys[key]; };
  // One key per draft: a send retried after a lost answer is not delivered twice.
  const replyKey = () => D.replyKeys[key] || (D.replyKeys[key] = `${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const templates = el("select", {id: "template", "aria-label": t("desktop.template"), on: {change: e => { if (e.target.value) draft(t("template." + e.target.value)); }}},
    el("option", {value: ""}, t("desktop.template")), D.vocab.templates.map(k => el("option", {value: k}, t("template_name." + k))));
  const classify = el("form", {id: "classify", class: "row"},
    select("category", Object.keys(D.vocab.categories), ticket.category, v => t(D.vocab.categories[v], v)),
    select("type", D.vocab.types, ticket.type, v => t("type." + v, v)),
    select("priority", D.vocab.priorities, ticket.priority, v => t("priority." + v, v)),
    el("button", {}, t("app.save")));
  classify.addEventListener("submit", async e => { e.preventDefault(); const f = new FormData(classify);
    await api("POST", path + "/classification", {category: f.get("category"), type: f.get("type"), priority: f.get("priority")}); openConversation(key); });
  const status = el("form", {id: "status-form", class: "row"}, select("status", transitions, null, v => t("status." + v, v)), el("button", {}, t("desktop.change_status")));
  status.addEventListener("submit", async e => { e.preventDefault();
    const changed = await api("POST", path + "/status", {status: new FormData(status).get("status")});
    if (D.wanted === key) showConversation(changed); });
  const targets = D.targets || {queues: [], agents: []};
  const transfer = el("form", {id: "transfer", class: "row"},
    el("select", {name: "queue", "aria-label": t("desktop.transfer_queue")}, el("option", {value: ""}, t("desktop.transfer_queue")),
      targets.queues.map(q => el("option", {value: q.queue}, q.department_name ? `${q.name} · ${q.department_name}` : q.name))),
    el("select", {name: "agent_id", "aria-label": t("desktop.transfer_agent")}, el("option", {value: ""}, t("desktop.transfer_agent")),
      targets.agents.map(a => el("option", {value: a.agent_id}, `${a.name} · ${t("state." + a.state, a.state)}`))),
    el("input", {name: "reason", required: true, placeholder: t("desktop.transfer_reason")}), el("button", {}, t("desktop.transfer")));
  transfer.addEventListener("submit", async e => { e.preventDefault(); const f = new FormData(transfer);
    const body = {reason: f.get("reason")}; if (f.get("agent_id")) body.agent_id = Number(f.get("agent_id")); else body.queue = f.get("queue");
    await api("POST", path + "/transfer", body); toast(t("desktop.transfer")); });
  const send = el("button", {id: "send", class: "primary", title: t("desktop.send_hint"), on: {click: async () => {
    if (!reply.value.trim()) { reply.focus(); return; }
    await api("POST", path + "/reply", {text: reply.value, dedupe_key: replyKey()}); draft(""); D.following = true; openConversation(key); }}}, t("desktop.reply"));
  const note = el("button", {id: "add-note", on: {click: async () => {
    await api("POST", path + "/notes", {text: reply.value}); draft(""); openConversation(key); }}}, t("desktop.add_note"));
  // A call-back (the caller hung up before an agent answered): the number and a click-to-call.
  const back = (ticket.attributes || {}).call_back;
  const callBack = back ? el("div", {id: "call-back", class: "row"}, el("b", {}, t("desktop.call_back") + ": "), back.number || "",
    back.wait_seconds != null ? el("span", {class: "muted"}, `${t("desktop.call_back_waited")} ${fmtDuration(back.wait_seconds)}`) : null,
    back.number ? el("button", {class: "primary call", on: {click: async () => {
      await api("POST", "/api/v1/calls", {number: back.number, conversation: key}); toast(t("desktop.call_back_placed")); }}}, t("desktop.call")) : null) : null;
  const closed = view.conversation.status === "closed";
  document.getElementById("thread").replaceChildren(...[
    callBack,
    el("div", {class: "row thread-head"}, el("a", {href: ticket.number ? "/tickets/" + encodeURIComponent(ticket.number) : null, class: "ticket-link"},
      el("b", {id: "ticket-number"}, ticket.number || "")), el("span", {id: "ticket-status", class: "badge"}, t("status." + ticket.status, ticket.status)),
      el("span", {}, t("desktop.sla") + ": "), slaLine(view.sla), closed ? null : status),
    closed ? null : el("details", {id: "ticket-actions", open: Boolean(D.actionsOpen), on: {toggle: e => { D.actionsOpen = e.target.open; }}},
      el("summary", {}, t("desktop.ticket_actions")), classify, transfer),
    el("div", {class: "thread-box"}, messages, marker),
    closed ? el("div", {id: "closed", class: "muted"}, t("desktop.conversation_closed"))
      : el("div", {class: "composer"}, templates, reply, el("div", {class: "row"}, send, note, el("span", {class: "muted hint"}, t("desktop.send_hint"))))]
    .filter(Boolean));
  document.getElementById("thread").className = "workspace-thread";
  if (following || D.following) { messages.scrollTop = messages.scrollHeight; D.unseen = 0; }
  else { messages.scrollTop = readingAt; D.unseen += arrived; showMarker(); }
  D.following = false;
  localStorage.setItem(openKey(), key);
  renderConversations();
  if (typing) reply.focus();
  renderCard(view.card, ticket);
  tickSla();
}

function atBottom(pane) { return pane.scrollHeight - pane.scrollTop - pane.clientHeight < NEAR_BOTTOM_PX; }
function showMarker() {
  const marker = document.getElementById("new-messages"); if (!marker || !D.unseen) return;
  marker.textContent = `${t("desktop.new_messages")}: ${D.unseen} ↓`; marker.hidden = false;
}
function hideMarker() { D.unseen = 0; const marker = document.getElementById("new-messages"); if (marker) marker.hidden = true; }

function onSnapshot(data) {
  D.agent = data.agent; D.offers = {}; D.conversations = {};
  for (const c of data.conversations) D.conversations[c.id] = c;
  renderState(); renderOffers(); renderConversations();
  const kept = localStorage.getItem(openKey());
  if (!D.current && kept && D.conversations[kept]) openConversation(kept).catch(() => localStorage.removeItem(openKey()));
}
function onAgent(event) { D.agent = event.state; renderState(); }
function onOffer(event) {
  if (event.removed) delete D.offers[event.id]; else { D.offers[event.id] = event; announce(event); }
  renderOffers();
}

/* A new offer is announced once: a short tone, and a browser notification (with the first message) when
   the agent allowed them.  The browser asks once, when the agent presses "turn on notifications"; the
   button is there only while nobody has answered. */
function notificationsButton() {
  const button = document.getElementById("enable-notifications");
  button.hidden = !("Notification" in window) || Notification.permission !== "default";
  button.onclick = async () => { button.hidden = true; await Notification.requestPermission().catch(() => {}); notificationsButton(); };
}
function chime() {
  try {
    const audio = chime.context || (chime.context = new AudioContext());
    const tone = audio.createOscillator(), gain = audio.createGain();
    tone.frequency.value = 880; gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination); tone.start(); tone.stop(audio.currentTime + 0.4);
  } catch (e) { /* no audio output: the card and the notification still tell */ }
}
function announce(offer) {
  if (D.announced.has(offer.id)) return;
  D.announced.add(offer.id);
  chime();
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const title = `${t("desktop.new_offer")}: ${t("channel." + offer.state.channel, offer.state.channel)} · ${queueName(offer.state.queue)}`;
  const notice = new Notification(title, {body: offer.state.preview || "", tag: offer.id});
  notice.onclick = () => { window.focus(); notice.close(); };
}
function onConversation(event) {
  if (event.removed || event.agent_id !== SB.me.id) {
    delete D.conversations[event.id];
    if (localStorage.getItem(openKey()) === event.id) localStorage.removeItem(openKey());
  } else D.conversations[event.id] = event;
  renderConversations();
  if (!event.removed) refreshConversation(event.id);
}
function onMessage(event) {
  D.previews[event.id] = {direction: event.state.direction, text: event.state.text};
  if (event.id === D.wanted) { refreshConversation(event.id); return; }
  if (event.state.direction === "in") D.unread[event.id] = (D.unread[event.id] || 0) + 1;
  renderConversations();
}
function onScreenPop(event) {
  const panel = document.getElementById("card-panel"); panel.classList.add("pop");
  toast(t("desktop.screen_pop")); renderCard(event.state.card, null);
  setTimeout(() => panel.classList.remove("pop"), 15000);
}

async function setState(state, reason) {
  D.agent = await api("POST", "/api/v1/agents/me/state", reason ? {state, reason} : {state}); renderState();
}

async function loadStats() {
  const s = await api("GET", "/api/v1/agents/me/stats");
  document.getElementById("stats").replaceChildren(...[["handled_today", s.handled_today], ["handled_week", s.handled_week],
    ["handled_month", s.handled_month], ["aht", fmtDuration(s.aht_s)], ["sla_met", s.sla_met_pct === null ? t("app.none") : s.sla_met_pct + "%"]]
    .map(([k, v]) => el("div", {class: "card", id: "stat-" + k}, t("desktop." + k), el("b", {}, v))));
}

function wireForms() {
  const reasons = document.getElementById("break-reason");
  reasons.replaceChildren(...BREAK_REASONS.map(r => el("option", {value: r}, t("break." + r))));
  document.getElementById("go-available").onclick = () => setState("available");
  notificationsButton();
  document.getElementById("go-break").onclick = () => setState("break", reasons.value);
  document.getElementById("go-offline").onclick = () => setState("offline");
  const search = document.getElementById("search-form");
  search.addEventListener("submit", async e => {
    e.preventDefault();
    const params = new URLSearchParams([...new FormData(search)].filter(([, v]) => v.trim()));
    const result = await api("GET", "/api/v1/clients/search?" + params);
    const box = document.getElementById("search-results");
    box.replaceChildren(result.hits.length ? el("table", {id: "hits"}, result.hits.map(h => el("tr", {on: {click: async () =>
      renderCard(await api("GET", "/api/v1/clients/" + h.client_id), null)}}, el("td", {}, h.full_name), el("td", {}, h.account_no || ""),
      el("td", {}, h.service_address || "")))) : el("p", {class: "muted"}, t("desktop.search_none")));
  });
  const walkIn = document.getElementById("walk-in");
  walkIn.elements.contact_kind.replaceChildren(...["phone", "email"].map(k => el("option", {value: k}, t("contact." + k))));
  walkIn.addEventListener("submit", async e => {
    e.preventDefault();
    const body = Object.fromEntries([...new FormData(walkIn)].filter(([, v]) => v.trim()));
    await api("POST", "/api/v1/tickets", body); walkIn.reset(); toast(t("desktop.created"));
  });
}

(async () => {
  await boot("desktop");
  wireForms();  // the state buttons and the forms work as soon as the header is drawn
  [D.vocab] = await Promise.all([api("GET", "/api/v1/vocabulary"), loadPeople()]);
  api("GET", "/api/v1/transfer-targets").then(targets => { D.targets = targets; }).catch(() => {});
  liveStream("/api/v1/agents/me/stream", {snapshot: onSnapshot, agent: onAgent, offer: onOffer, conversation: onConversation,
    screen_pop: onScreenPop, message: onMessage}, D.vocab.heartbeat_s);
  setInterval(() => { renderState(); document.querySelectorAll("[data-offer]").forEach(n => {
    const o = D.offers[n.dataset.offer]; if (o) n.querySelector(".offer-left").textContent = fmtDuration(o.state.expires_at - Date.now() / 1000); }); tickSla(); }, 1000);
  loadStats().catch(() => {});
})();
