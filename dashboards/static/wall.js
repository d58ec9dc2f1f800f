/* The supervisor wall: live per-queue and per-agent state pushed over server-sent events, open tickets
   with SLA status, the escalations feed and the actor view, as widgets the user arranges. */
"use strict";
const W = {queues: {}, agents: {}, conversations: {}, escalations: {}, widgets: [], available: [], seq: 0, vocab: null, levels: {}};

// Today's service level per queue, from the tickets (the same figure as the reports and /metrics).
async function refreshServiceLevel() {
  const data = await api("GET", "/api/v1/supervisor/service-level");
  W.levels = {}; for (const q of data.queues) W.levels[q.queue] = q; render();
}
const FILTERS = {tickets: ["channel", "category", "queue", "agent_id", "sla"], agents: ["queue"], queues: [], escalations: ["queue"], actors: []};

function applySnapshot(data) {
  W.queues = {}; W.agents = {}; W.conversations = {};
  for (const q of data.queue) W.queues[q.id] = q;
  for (const a of data.agent) W.agents[a.id] = a;
  for (const c of data.conversation) W.conversations[c.id] = c;
  W.seq = data.seq; render(); refreshTickets();
}
function applyEvent(name) {
  return (event, seq) => { const map = W[name]; if (event.removed) delete map[event.id]; else map[event.id] = event; W.seq = seq; render(); };
}

function breachesOf(queue) { return Object.values(W.escalations).filter(e => e.queue === queue && !e.acknowledged_by).length; }

function queuesWidget() {
  return el("table", {class: "queues"}, el("tr", {}, ["wall.queue", "wall.waiting", "wall.longest_wait", "wall.offered", "wall.answered",
    "wall.abandoned", "wall.service_level", "wall.sla_breaches"].map(k => el("th", {}, t(k)))),
    Object.values(W.queues).sort((a, b) => queueName(a.id).localeCompare(queueName(b.id))).map(q => {
      const s = q.state.stats || {}, sl = W.levels[q.id] || {};
      const level = sl.service_level_pct == null ? t("app.none") : Math.round(sl.service_level_pct) + "%";
      return el("tr", {"data-queue": q.id}, el("td", {class: "queue-name"}, queueName(q.id)), el("td", {class: "waiting"}, q.state.waiting_count),
        el("td", {}, fmtDuration(q.state.longest_wait_s)), el("td", {}, s.offered || 0), el("td", {}, s.answered || 0),
        el("td", {}, sl.abandoned || 0), el("td", {title: Object.values(sl.targets || {}).join(", ")}, level), el("td", {class: breachesOf(q.id) ? "bad" : ""}, breachesOf(q.id)));
    }));
}

/* Load against capacity per kind of work (calls, chats, e-mails), as the agent actor counts it. */
function loadLine(agent) {
  const used = {};
  for (const [channel, n] of Object.entries(agent.load || {})) {
    const kind = (W.vocab.channel_kinds || {})[channel] || channel;
    used[kind] = (used[kind] || 0) + n;
  }
  return Object.entries(agent.capacity || {}).filter(([kind, slots]) => slots || used[kind])
    .map(([kind, slots]) => `${t("work_kind." + kind, kind)} ${used[kind] || 0}/${slots}`).join(", ");
}

function agentsWidget(filters) {
  const now = Date.now() / 1000;
  const rows = Object.values(W.agents).filter(a => !filters.queue || (a.state.queues || []).includes(filters.queue))
    .sort((a, b) => String(a.state.name || a.id).localeCompare(String(b.state.name || b.id)));
  return el("table", {class: "agents"}, el("tr", {}, ["wall.agent", "wall.state", "wall.time_in_state", "wall.load", "wall.current", ""].map(k => el("th", {}, k ? t(k) : ""))),
    rows.map(a => { const s = a.state;
      const load = loadLine(s);
      const stateSelect = el("select", {"aria-label": t("wall.set_state"), on: {change: async e => {
        const value = e.target.value; if (!value) return;
        await api("POST", `/api/v1/supervisor/agents/${a.id}/state`, value === "break" ? {state: value, reason: "meeting"} : {state: value}); }}},
        el("option", {value: ""}, t("wall.set_state")), ["available", "break", "offline"].map(v => el("option", {value: v}, t("state." + v))));
      return el("tr", {"data-agent": a.id}, el("td", {}, s.name || personName(Number(a.id))), el("td", {class: "agent-state", "data-state": s.state}, t("state." + s.state, s.state)),
        el("td", {}, fmtDuration(now - s.since)), el("td", {class: "agent-load"}, load || t("app.none")), el("td", {}, (s.conversations || []).length),
        el("td", {}, SB.me.permissions.includes("wall.act") ? stateSelect : null)); }));
}

function ticketsWidget(filters, index) {
  const rows = (W.ticketRows || {})[index] || [];
  return el("table", {class: "tickets"}, el("tr", {}, ["wall.ticket", "wall.channel", "desktop.category", "wall.queue", "wall.agent", "desktop.status", "wall.sla_state", ""]
    .map(k => el("th", {}, k ? t(k) : ""))),
    rows.map(r => el("tr", {"data-ticket": r.number}, el("td", {}, ticketLink(r.number)), el("td", {}, t("channel." + r.channel, r.channel)),
      el("td", {}, t((W.vocab.categories || {})[r.category], r.category || "")), el("td", {class: "queue-name"}, queueName(r.queue)),
      el("td", {class: "agent-name"}, r.agent_id ? r.agent_name || personName(r.agent_id) : t("app.none")),
      el("td", {}, t("status." + r.status, r.status)), el("td", {class: r.sla_state === "breached" ? "bad" : "ok"}, t("sla." + r.sla_state)),
      el("td", {}, SB.me.permissions.includes("wall.act") ? reassignPicker(r) : null))));
}

function ticketLink(number) {
  return el("a", {href: "/tickets/" + encodeURIComponent(number), class: "ticket-link"}, number);
}

/* Reassign by picking an agent by name (the agents the wall sees, available ones first). */
function reassignPicker(ticketRow) {
  const conversation = Object.values(W.conversations).find(c => c.state.ticket && c.state.ticket.number === ticketRow.number);
  if (!conversation) return null;
  const agents = Object.values(W.agents).filter(a => a.state.state !== "offline" && Number(a.id) !== ticketRow.agent_id)
    .sort((a, b) => (a.state.state !== "available") - (b.state.state !== "available") || String(a.state.name).localeCompare(String(b.state.name)));
  return el("select", {class: "reassign", "aria-label": t("wall.reassign"), on: {change: async e => {
    const agentId = Number(e.target.value); if (!agentId) return;
    await api("POST", `/api/v1/supervisor/conversations/${encodeURIComponent(conversation.id)}/reassign`, {agent_id: agentId, reason: "supervisor"});
    toast(t("wall.reassigned")); refreshTickets(); }}},
    el("option", {value: ""}, t("wall.reassign")),
    agents.map(a => el("option", {value: a.id}, `${a.state.name || personName(Number(a.id))} · ${t("state." + a.state.state, a.state.state)}`)));
}

function escalationsWidget(filters) {
  // Not yet acknowledged first, newest first within each.
  const rows = Object.values(W.escalations).filter(e => !filters.queue || e.queue === filters.queue)
    .sort((a, b) => Boolean(a.acknowledged_by) - Boolean(b.acknowledged_by) || String(b.at).localeCompare(String(a.at)));
  if (!rows.length) return el("p", {class: "muted"}, t("wall.no_escalations"));
  return el("div", {class: "escalations"}, rows.map(e => el("div", {class: "row", "data-escalation": e.id},
    el("a", {href: "/tickets/" + encodeURIComponent(e.ticket), class: e.acknowledged_by ? "ticket-link muted" : "ticket-link bad"}, e.ticket),
    el("span", {}, t("wall.clock." + e.clock, e.clock)), el("span", {class: "muted queue-name"}, queueName(e.queue)),
    el("time", {class: "muted", datetime: e.at}, fmtTime(e.at)),
    e.acknowledged_by ? el("span", {class: "muted"}, t("wall.acknowledged")) :
      SB.me.permissions.includes("wall.act") ? el("button", {class: "ack", on: {click: () => api("POST", `/api/v1/supervisor/escalations/${encodeURIComponent(e.id)}/ack`, {})}}, t("wall.acknowledge")) : null)));
}

function actorsWidget() {
  return el("table", {class: "actors"}, el("tr", {}, ["wall.host", "wall.entities", "wall.mailbox"].map(k => el("th", {}, t(k)))),
    (W.actors || []).map(h => el("tr", {}, el("td", {}, `${h.kind}:${h.shard}`), el("td", {}, (h.entities || []).length),
      el("td", {}, (h.entities || []).reduce((n, e) => n + (e.mailbox || 0), 0)))));
}

const RENDERERS = {queues: queuesWidget, agents: agentsWidget, tickets: ticketsWidget, escalations: escalationsWidget, actors: actorsWidget};

/* The choices of each filter, by name: queues, channels, categories, agents, SLA states. */
function filterChoices(name) {
  const v = W.vocab;
  if (name === "queue") return (v.queues || []).map(q => [q, queueName(q)]);
  if (name === "channel") return v.channels.map(c => [c, t("channel." + c, c)]);
  if (name === "category") return Object.keys(v.categories).map(c => [c, t(v.categories[c], c)]);
  if (name === "sla") return ["breached", "at_risk", "ok"].map(s => [s, t("sla." + s, s)]);
  if (name === "agent_id") return Object.values(SB.people || {}).filter(p => p.agent && p.active).map(p => [String(p.id), p.name]);
  return [];
}
const FILTER_LABELS = {queue: "wall.queue", channel: "wall.channel", category: "desktop.category", sla: "wall.sla_state", agent_id: "wall.agent"};

function filterBar(widget) {
  return (FILTERS[widget.kind] || []).map(name => el("select", {class: "filter", name, "aria-label": t(FILTER_LABELS[name]), on: {change: e => {
    widget.filters[name] = e.target.value; if (!widget.filters[name]) delete widget.filters[name];
    saveLayout(); if (widget.kind === "tickets") refreshTickets(); render(); }}},
    el("option", {value: ""}, `${t(FILTER_LABELS[name])}: ${t("reports.all")}`),
    filterChoices(name).map(([value, label]) => el("option", {value, selected: widget.filters[name] === value}, label))));
}

/* Escalations come first on every layout: the layout's own escalations widget moved to the top, or
   one pinned there when the layout has none. */
function wallOrder() {
  const widgets = W.widgets.map((w, i) => ({w, i}));
  const first = widgets.filter(x => x.w.kind === "escalations"), rest = widgets.filter(x => x.w.kind !== "escalations");
  return [...(first.length ? first : [{w: {kind: "escalations", filters: {}}, i: null}]), ...rest];
}

const render = scheduler(() => {
  const focused = document.activeElement;
  if (focused && focused.closest("#widgets") && /INPUT|SELECT/.test(focused.tagName)) { setTimeout(render, 300); return; }
  document.getElementById("live-seq").textContent = "#" + W.seq;
  document.getElementById("widgets").replaceChildren(...wallOrder().map(({w, i}) => el("section", {"data-widget": w.kind},
    el("div", {class: "row"}, el("h2", {}, t("wall." + w.kind)), ...filterBar(w),
      i === null ? null : el("button", {class: "remove", on: {click: () => { W.widgets.splice(i, 1); saveLayout(); render(); }}}, t("wall.remove_widget"))),
    el("div", {class: "table-wrap"}, RENDERERS[w.kind](w.filters, i)))));
});

async function saveLayout() { await api("PUT", "/api/v1/supervisor/layout", {widgets: W.widgets}); }

let ticketsTimer = null;
function refreshTickets() {
  clearTimeout(ticketsTimer);
  ticketsTimer = setTimeout(async () => {
    // The rows shown stay until the new ones are in: the table is swapped whole, never drawn empty.
    const rows = {};
    for (const [i, w] of W.widgets.entries()) {
      if (w.kind !== "tickets") continue;
      const params = new URLSearchParams({open: "true", limit: "100", ...w.filters});
      try { rows[i] = (await api("GET", "/api/v1/tickets?" + params)).tickets; } catch (e) { rows[i] = (W.ticketRows || {})[i] || []; }
    }
    W.ticketRows = rows;
    render();
  }, 500);
}

async function refreshActors() {
  if (!SB.me.permissions.includes("actors.view") || !W.widgets.some(w => w.kind === "actors")) return;
  W.actors = (await api("GET", "/api/v1/supervisor/actors")).hosts; render();
}

(async () => {
  await boot("wall");
  [W.vocab] = await Promise.all([api("GET", "/api/v1/vocabulary"), loadPeople()]);
  const layout = await api("GET", "/api/v1/supervisor/layout");
  W.widgets = layout.widgets; W.available = layout.available.filter(k => k !== "actors" || SB.me.permissions.includes("actors.view"));
  const kind = document.getElementById("widget-kind");
  kind.replaceChildren(...W.available.map(k => el("option", {value: k}, t("wall." + k))));
  document.getElementById("add-widget").onclick = () => { W.widgets.push({kind: kind.value, filters: {}}); saveLayout(); refreshTickets(); refreshActors(); render(); };
  for (const e of (await api("GET", "/api/v1/supervisor/escalations")).escalations) W.escalations[e.id] = e;
  // What came while no wall was open: the supervisor's notifications not yet acknowledged.
  for (const n of (await api("GET", "/api/v1/notifications?open=1")).notifications)
    if (!W.escalations[n.key]) W.escalations[n.key] = {id: n.key, at: n.created_at, ticket: n.ticket_number, queue: n.queue, ...n.data};
  liveStream("/api/v1/supervisor/stream", {
    snapshot: applySnapshot, queue: applyEvent("queues"), agent: applyEvent("agents"),
    conversation: (e, seq) => { applyEvent("conversations")(e, seq); refreshTickets(); },
    ticket: () => refreshTickets(),
    escalation: (e, seq) => { W.escalations[e.id] = {id: e.id, at: new Date(e.at * 1000).toISOString(), ...e.state}; W.seq = seq; render(); },
    escalation_ack: (e, seq) => { if (W.escalations[e.id]) W.escalations[e.id].acknowledged_by = e.state.by; W.seq = seq; render(); },
  }, W.vocab.heartbeat_s);
  refreshActors(); setInterval(refreshActors, 5000); refreshServiceLevel(); setInterval(refreshServiceLevel, 15000); setInterval(render, 1000);
})();
