/* The audit log for the roles holding audit.read: who changed what and when, filtered by the person who
   made the change, by one client (found by name or phone) or kind of record, and by time (the centre's
   wall-clock time); newest
   first, PAGE_SIZE at a time ("more" reads on from the last entry shown). */
"use strict";
const PAGE_SIZE = 100;
const ENTITIES = ["client", "conversation", "escalation", "notification", "user", "role_matrix", "api_key", "security", "parked_item"];
const A = {until: null, clients: {}, tickets: {}};

/* An author as the audit log stores it: "agent:<id>" for people who work conversations, "user:<id>" otherwise. */
function authorOf(person) { return `${person.agent ? "agent" : "user"}:${person.id}`; }

/* Values of the fields people know by name: statuses, priorities, types, queues, channels, states. */
const NAMED_VALUES = {status: "status.", priority: "priority.", type: "type.", channel: "channel.", state: "state.", to: "status.", from: "status."};

function valueText(value, key) {
  if (value === null || value === undefined || value === "") return t("app.none");
  if (typeof value === "object") return Array.isArray(value) ? value.map(v => valueText(v, key)).join(", ")
    : Object.entries(value).map(([k, v]) => `${t("event_field." + k, k)}: ${valueText(v, k)}`).join("; ");
  if (key === "queue") return queueName(value);
  if (key === "agent_id") return personName(value);
  return NAMED_VALUES[key] ? t(NAMED_VALUES[key] + value, String(value)) : String(value);
}

function changeCell(entry) {
  const before = entry.before || {}, after = entry.after || {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return el("td", {class: "changes"}, keys.map(k => el("div", {},
    el("span", {class: "muted"}, t("event_field." + k, k) + ": "),
    k in before ? el("del", {}, valueText(before[k], k)) : null, k in before && k in after ? " → " : "",
    k in after ? el("ins", {}, valueText(after[k], k)) : null)));
}

function entityCell(entry) {
  const kind = t("audit.entity." + entry.entity, entry.entity);
  const number = entry.entity === "conversation" && A.tickets[entry.entity_id];
  if (number) return el("td", {}, `${kind} · `, el("a", {href: "/tickets/" + encodeURIComponent(number), class: "ticket-link"}, number));
  const name = entry.entity === "client" ? (A.clients[entry.entity_id] || `№ ${entry.entity_id}`)
    : (entry.entity === "user" || entry.entity === "security") && SB.people[entry.entity_id] ? personName(Number(entry.entity_id))
    : entry.entity_id;
  return el("td", {}, `${kind} · ${name}`);
}

function entryRow(entry) {
  return el("tr", {"data-audit": entry.id}, el("td", {class: "nowrap"}, fmtTime(entry.at)),
    el("td", {class: "who"}, authorName(entry.actor)), el("td", {class: "action"}, t("audit." + entry.action, t("audit.other"))),
    entityCell(entry), changeCell(entry));
}

async function load(form, more) {
  const f = new FormData(form);
  const params = new URLSearchParams({limit: String(PAGE_SIZE)});
  for (const name of ["actor", "entity", "entity_id"]) if (f.get(name)) params.set(name, f.get(name));
  if (f.get("since")) params.set("since", centreInstant(f.get("since")));
  const until = more ? A.until : centreInstant(f.get("until"));
  if (until) params.set("until", until);
  const data = await api("GET", "/api/v1/audit?" + params);
  const table = document.getElementById("audit-list");
  if (!more) table.replaceChildren(el("thead", {}, el("tr", {}, ["audit.when", "audit.user", "audit.action", "audit.entity", "audit.changes"]
    .map(k => el("th", {scope: "col"}, t(k))))), el("tbody", {}));
  const conversations = [...new Set(data.entries.filter(e => e.entity === "conversation" && /^\d+$/.test(e.entity_id) && !(e.entity_id in A.tickets)).map(e => e.entity_id))];
  if (conversations.length && (SB.me.permissions.includes("tickets.read") || SB.me.permissions.includes("audit.read"))) {
    const found = await api("GET", "/api/v1/conversation-tickets?" + new URLSearchParams({conversation: conversations.join(",")})).catch(() => ({tickets: {}}));
    Object.assign(A.tickets, found.tickets);
  }
  const body = table.querySelector("tbody");
  body.append(...data.entries.map(entryRow));
  if (!body.children.length) body.append(el("tr", {}, el("td", {colspan: 5, class: "muted", id: "no-entries"}, t("audit.none"))));
  A.until = data.entries.length ? data.entries[data.entries.length - 1].at : A.until;
  document.getElementById("audit-more").hidden = data.entries.length < PAGE_SIZE;
  document.body.dataset.loads = String(Number(document.body.dataset.loads || 0) + 1);
}

function wireClientPicker(form) {
  const input = document.getElementById("audit-client-q"), hits = document.getElementById("audit-client-hits");
  const chosen = document.getElementById("audit-entity-id");
  if (!SB.me.permissions.includes("clients.search")) { document.getElementById("client-pick").hidden = true; return; }
  let timer = null;
  input.addEventListener("input", () => {
    const picked = [...hits.options].find(o => o.value === input.value);
    if (picked) { chosen.value = picked.dataset.client; form.elements.entity.value = "client"; load(form); return; }
    chosen.value = "";
    clearTimeout(timer);
    const text = input.value.trim(); if (text.length < 3) return;
    timer = setTimeout(async () => {
      const field = /^[+\d\s()-]{5,}$/.test(text) ? "phone" : "name";
      const found = await api("GET", `/api/v1/clients/search?${field}=${encodeURIComponent(text)}&limit=10`).catch(() => ({hits: []}));
      hits.replaceChildren(...found.hits.map(h => { A.clients[h.client_id] = h.full_name;
        return el("option", {value: `${h.full_name}${h.account_no ? " · " + h.account_no : ""}`, "data-client": h.client_id}); }));
    }, 300);
  });
}

(async () => {
  await boot("audit");
  await loadPeople();
  const form = document.getElementById("audit-filter");
  form.elements.actor.replaceChildren(el("option", {value: ""}, t("reports.all")),
    ...Object.values(SB.people).map(p => el("option", {value: authorOf(p)}, p.name)));
  form.elements.entity.replaceChildren(el("option", {value: ""}, t("reports.all")),
    ...ENTITIES.map(e => el("option", {value: e}, t("audit.entity." + e, e))));
  wireClientPicker(form);
  form.addEventListener("submit", e => { e.preventDefault(); load(form); });
  form.addEventListener("reset", () => setTimeout(() => load(form)));
  form.elements.actor.addEventListener("change", () => load(form));
  form.elements.entity.addEventListener("change", () => { if (form.elements.entity.value !== "client") form.elements.entity_id.value = ""; load(form); });
  document.getElementById("audit-more").onclick = () => load(form, true);
  await load(form);
  document.body.dataset.ready = "1";
})();
