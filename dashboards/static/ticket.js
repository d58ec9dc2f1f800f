/* One ticket: its header (status, classification, queue, agent), the thread, a timeline of every event
   (status, assignment, SLA, classification, transfer, notes) naming who and when, the SLA clocks, the
   tickets it repeats and the client's card. */
"use strict";
const TK = {vocab: null, ticket: null};

/* How an event's data reads: each known key with its localised label and its value by name; keys
   that mean nothing to a person (a routing step's index, internal ids) are left out. */
const EVENT_FIELDS = {
  queue: queueName, from_queue: queueName, agent_id: personName, from_agent: personName,
  category: v => t((TK.vocab.categories || {})[v], v), type: v => t("type." + v, v), priority: v => t("priority." + v, v),
  clock: v => t("wall.clock." + v, v), due_at: fmtTime, waited_s: fmtDuration, level: v => v,
  channel: v => t("channel." + v, v), sla_policy: v => t("sla_policy." + v, v),
  reason: v => t("reason." + v, v), comment: v => v, rule: v => t("rule." + v, v),
};
const QUEUE_KINDS = new Set(["queued", "widened", "overflowed", "requeued", "rerouted", "transferred", "escalated_to_queue"]);

function detail(text) { return el("span", {class: "detail"}, text); }

function eventDetails(kind, data) {
  data = data || {};
  const parts = [];
  if (kind === "status") parts.push(detail(`${t("status." + data.from, data.from)} → ${t("status." + data.to, data.to)}`));
  if (data.to === "agent" && data.target) parts.push(detail(`${t("event_field.target")}: ${personName(data.target)}`));
  const add = (key, value, prefix) => {
    if (value === null || value === undefined || value === "" || !EVENT_FIELDS[key]) return;
    const label = key === "priority" && QUEUE_KINDS.has(kind) ? "event_field.queue_priority" : "event_field." + key;
    parts.push(detail(`${prefix || ""}${t(label)}: ${EVENT_FIELDS[key](value)}`));
  };
  for (const [key, value] of Object.entries(data)) {
    if ((key === "before" || key === "after") && value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) add(k, v, key === "before" ? t("event_field.was") + " " : "");
    } else add(key, value);
  }
  if (kind === "repeat_contact") parts.push(detail([t("ticket.previous") + ": ",
    ...(data.previous || []).map(n => el("a", {href: "/tickets/" + encodeURIComponent(n)}, n + " "))]));
  return parts;
}

function timelineItems(events, messages) {
  const notes = messages.filter(m => m.direction === "note").map(m => ({at: m.at, author: m.author, kind: "note", data: {}, text: m.text}));
  return [...events, ...notes].sort((a, b) => new Date(a.at) - new Date(b.at));
}

function renderTimeline(events, messages) {
  const items = timelineItems(events, messages);
  document.getElementById("timeline").replaceChildren(...items.map(e => el("li", {"data-kind": e.kind},
    el("time", {datetime: e.at}, fmtTime(e.at)),
    el("span", {class: "who"}, authorName(e.author)),
    el("b", {class: "what"}, t("event." + e.kind, t("event.other"))),
    ...eventDetails(e.kind, e.data), e.text ? el("div", {class: "note-text"}, e.text) : null)));
}

function clockLine(label, due, done) {
  if (!due) return el("div", {}, `${t(label)}: `, el("span", {class: "muted"}, t("app.none")));
  const late = new Date(done || Date.now()) > new Date(due);
  const state = done ? (late ? "ticket.clock_met_late" : "ticket.clock_met") : (late ? "desktop.sla_breached" : "ticket.clock_running");
  return el("div", {"data-clock": label}, `${t(label)}: `, el("b", {class: late ? "bad" : "ok"}, t(state)),
    ` · ${t("ticket.due")} ${fmtTime(due)}`, done ? ` · ${t("ticket.done_at")} ${fmtTime(done)}` : "");
}

function renderHead(tk) {
  const field = (label, value, id) => el("div", {class: "field", id}, el("span", {class: "muted"}, t(label)), el("b", {}, value));
  document.getElementById("ticket-head").replaceChildren(
    el("div", {class: "row"}, el("h1", {class: "page-title", id: "ticket-number"}, `${t("wall.ticket")} ${tk.number}`),
      el("span", {class: "badge", id: "ticket-status", "data-status": tk.status}, t("status." + tk.status, tk.status)),
      el("span", {class: tk.sla_state === "breached" ? "badge bad" : "badge ok"}, t("sla." + tk.sla_state, tk.sla_state)),
      el("a", {href: "/tickets", class: "push"}, t("ticket.back_to_list"))),
    el("p", {id: "ticket-subject", hidden: !tk.subject}, tk.subject || ""),
    el("div", {class: "fields"},
      field("tickets.created", fmtTime(tk.created_at)), field("wall.channel", t("channel." + tk.channel, tk.channel)),
      field("desktop.category", t((TK.vocab.categories || {})[tk.category], tk.category || t("app.none"))),
      field("ticket.type", t("type." + tk.type, tk.type)), field("tickets.priority", t("priority." + tk.priority, tk.priority)),
      field("wall.queue", queueName(tk.queue), "ticket-queue"), field("wall.agent", tk.agent_id ? personName(tk.agent_id) : t("app.none"), "ticket-agent")));
  document.getElementById("sla-clocks").replaceChildren(
    clockLine("ticket.first_response", tk.first_response_due, tk.first_response_at),
    clockLine("ticket.resolution", tk.resolution_due, tk.resolved_at));
  const links = tk.links || [];
  document.getElementById("ticket-links").replaceChildren(...(links.length ? links.map(l => el("div", {class: "row"},
    el("a", {href: "/tickets/" + encodeURIComponent(l.number)}, l.number), el("span", {class: "muted"}, fmtTime(l.created_at)),
    el("span", {}, t("status." + l.status, l.status)))) : [el("p", {class: "muted"}, t("app.none"))]));
}

async function renderClient(tk) {
  const link = document.getElementById("client-link");
  if (!tk.client_id) { link.replaceChildren(el("p", {class: "muted"}, t("tickets.unidentified"))); document.getElementById("card").textContent = ""; return; }
  link.replaceChildren(el("a", {id: "client-tickets", href: "/tickets?client_id=" + tk.client_id}, t("ticket.client_tickets")));
  if (!SB.me.permissions.includes("clients.search")) return;
  renderCard(await api("GET", "/api/v1/clients/" + tk.client_id), tk);
}

(async () => {
  await boot("tickets");
  const number = decodeURIComponent(location.pathname.split("/").pop());
  [TK.vocab] = await Promise.all([api("GET", "/api/v1/vocabulary"), loadPeople()]);
  const path = "/api/v1/tickets/" + encodeURIComponent(number);
  let tk;
  try { tk = await api("GET", path); } catch (e) {
    document.getElementById("ticket-head").replaceChildren(el("p", {class: "bad", id: "ticket-missing", role: "alert"}, errorMessage({error: e.code}, 404)));
    return;
  }
  TK.ticket = tk;
  document.title = `${tk.number} · ${t("app.title")}`;
  renderHead(tk);
  const [history, thread] = await Promise.all([api("GET", path + "/history"), api("GET", path + "/messages")]);
  document.getElementById("ticket-thread").replaceChildren(...thread.messages.map(messageBubble));
  renderTimeline(history.events, thread.messages);
  await renderClient(tk).catch(() => {});
  document.body.dataset.ready = "1";
})();
