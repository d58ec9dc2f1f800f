/* The ticket list: one search box (ticket number, client's name, phone, account number), filters picked
   from the configured vocabularies, pages of PAGE_SIZE newest first.  The search and the filters live in
   the address, so a reload keeps them and a link can carry them (a client's tickets). */
"use strict";
const PAGE_SIZE = 25;
const L = {vocab: null, cursors: [null], page: 0, next: null};

function options(select, values, label) {
  select.replaceChildren(el("option", {value: ""}, t("reports.all")), ...values.map(v => el("option", {value: v}, label(v))));
}

function fillPickers(form) {
  const v = L.vocab;
  options(form.elements.status, v.statuses, s => t("status." + s, s));
  options(form.elements.queue, v.queues, queueName);
  options(form.elements.channel, v.channels, c => t("channel." + c, c));
  options(form.elements.priority, v.priorities, p => t("priority." + p, p));
  options(form.elements.agent_id, Object.values(SB.people).filter(p => p.agent).map(p => String(p.id)), id => personName(Number(id)));
  options(form.elements.sla, ["breached", "at_risk", "ok"], s => t("sla." + s, s));
}

function formQuery(form) {
  return new URLSearchParams([...new FormData(form)].map(([k, v]) => [k, String(v).trim()]).filter(([, v]) => v));
}

function slaCell(row) {
  return el("td", {class: row.sla_state === "breached" ? "bad" : "ok"}, t("sla." + row.sla_state, row.sla_state));
}

function ticketRow(r) {
  return el("tr", {"data-ticket": r.number},
    el("td", {}, el("a", {href: "/tickets/" + encodeURIComponent(r.number), class: "ticket-link"}, r.number)),
    el("td", {class: "nowrap"}, fmtTime(r.created_at)),
    el("td", {}, t("channel." + r.channel, r.channel)),
    el("td", {class: "client"}, r.client_name || el("span", {class: "muted"}, t("tickets.unidentified"))),
    el("td", {class: "subject"}, r.subject || t((L.vocab.categories || {})[r.category], r.category || t("app.none"))),
    el("td", {}, t("status." + r.status, r.status)),
    el("td", {}, t("priority." + r.priority, r.priority)),
    el("td", {class: "queue"}, queueName(r.queue)),
    el("td", {class: "agent"}, r.agent_id ? (r.agent_name || personName(r.agent_id)) : t("app.none")),
    slaCell(r));
}

async function load(form) {
  const params = formQuery(form);
  params.set("limit", String(PAGE_SIZE));
  const cursor = L.cursors[L.page];
  if (cursor) params.set("before", String(cursor));
  const table = document.getElementById("ticket-list");
  table.setAttribute("aria-busy", "true");
  let data;
  try { data = await api("GET", "/api/v1/tickets?" + params); } finally { table.removeAttribute("aria-busy"); }
  L.next = data.next_before;
  table.replaceChildren(
    el("thead", {}, el("tr", {}, ["wall.ticket", "tickets.created", "wall.channel", "tickets.client", "desktop.subject",
      "desktop.status", "tickets.priority", "wall.queue", "wall.agent", "wall.sla_state"].map(k => el("th", {scope: "col"}, t(k))))),
    el("tbody", {}, data.tickets.length ? data.tickets.map(ticketRow)
      : el("tr", {}, el("td", {colspan: 10, class: "muted", id: "no-tickets"}, t("tickets.none")))));
  document.getElementById("page-no").textContent = t("tickets.page").replace("{n}", L.page + 1);
  document.getElementById("page-prev").disabled = L.page === 0;
  document.getElementById("page-next").disabled = !L.next;
}

function remember(form) {
  const params = formQuery(form);
  history.replaceState(null, "", "/tickets" + (String(params) ? "?" + params : ""));
}

(async () => {
  await boot("tickets");
  [L.vocab] = await Promise.all([api("GET", "/api/v1/vocabulary"), loadPeople()]);
  const form = document.getElementById("ticket-search");
  fillPickers(form);
  for (const [k, v] of new URLSearchParams(location.search)) if (form.elements[k]) form.elements[k].value = v;
  const search = () => { L.cursors = [null]; L.page = 0; remember(form); load(form); };
  form.addEventListener("submit", e => { e.preventDefault(); search(); });
  form.addEventListener("reset", () => setTimeout(search));
  for (const select of form.querySelectorAll("select")) select.addEventListener("change", search);
  document.getElementById("page-next").onclick = () => { if (!L.next) return; L.cursors[L.page + 1] = L.next; L.page += 1; remember(form); load(form); };
  document.getElementById("page-prev").onclick = () => { if (!L.page) return; L.page -= 1; remember(form); load(form); };
  await load(form);
  document.body.dataset.ready = "1";
})();
