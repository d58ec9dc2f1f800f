/* The client card beside a conversation: accounts with balances in UAH (debt or overpayment), billing's
   figures with their age (refreshed when older than the refresh period, or on the operator's request),
   the client at a glance, contact points the operator corrects, the history of changes, passport data for
   the roles allowed to see it, and for the roles that merge cards, the duplicate candidates to merge into
   this card (and the merges to undo).  Every change names the card's version; a 409 reloads the card. */

const CARD = {current: null, showHistory: false, showDuplicates: false, shown: 0};  /* shown: how many cards were drawn */

function money(value) {
  const amount = Number(value);
  return new Intl.NumberFormat(SB.lang === "uk" ? "uk-UA" : "en-GB", {style: "currency", currency: "UAH"})
    .format(Math.abs(amount));
}

function balanceLine(balance) {
  const amount = Number(balance);
  if (!amount) return el("span", {}, t("card.balance_zero"));
  return el("span", {class: amount < 0 ? "bad" : "ok"}, `${t(amount < 0 ? "card.debt" : "card.overpayment")} ${money(amount)}`);
}

async function reloadCard(clientId) {
  renderCard(await api("GET", "/api/v1/clients/" + clientId), null);
}

async function cardChange(method, path, body) {
  try {
    await api(method, path, {version: CARD.current.client.version, ...body});
  } catch (error) {
    if (error.code !== "version_conflict") throw error;  /* the toast said so; show the card as it now is */
  }
  await reloadCard(CARD.current.client.id);
}

async function refreshBilling(clientId) {
  const asked = CARD.shown;
  const fresh = await api("POST", `/api/v1/clients/${clientId}/billing/refresh`);
  if (fresh.billing_state && fresh.billing_state.unavailable) toast(fresh.billing_state.message, true);
  /* a card drawn since (a change, another client) is newer than this answer */
  if (CARD.shown === asked && CARD.current && CARD.current.client.id === clientId) renderCard(fresh, CARD.ticket, {refreshed: true});
}

function billingLine(card) {
  const state = card.billing_state;
  if (!state) return "";
  const age = state.fetched_at ? `${t("card.billing_as_of")} ${fmtTime(state.fetched_at)}` : t("card.billing_never");
  return el("div", {class: state.stale ? "warn" : "muted", id: "billing-state"}, age, " ",
    el("button", {id: "billing-refresh", on: {click: () => refreshBilling(card.client.id).catch(() => {})}}, t("card.refresh")));
}

function glance(card) {
  const d = card.dashboard;
  if (!d) return null;
  return el("div", {class: "cards", id: "card-glance"},
    el("div", {class: "card"}, t("card.debt_total"), el("b", {}, money(d.debt))),
    el("div", {class: "card"}, t("card.payments"), el("b", {}, `${d.payments_count} · ${money(d.payments_sum)}`)),
    el("div", {class: "card"}, t("card.last_payment"), el("b", {}, d.last_payment ? `${money(d.last_payment.amount)} · ${fmtTime(d.last_payment.paid_at)}` : t("app.none"))),
    el("div", {class: "card"}, t("card.open_tickets"), el("b", {}, String(d.open_tickets))));
}

function accountRows(accounts) {
  return el("table", {id: "card-accounts"}, accounts.map(a => {
    const meters = ((a.billing || {}).meters || []).map(m => {
      const last = (m.readings || [])[0];
      return el("div", {class: "muted"}, `${t("card.meter")} ${m.serial}: ${last ? `${last.value} м³ · ${last.taken_at}` : t("app.none")}`);
    });
    return el("tr", {},
      el("td", {}, el("div", {}, a.account_no), el("div", {class: "muted"}, `EIC ${a.eic_code || ""}`)),
      el("td", {}, el("div", {}, a.service_address || ""), el("div", {class: "muted"}, a.tariff || ""), ...meters),
      el("td", {}, balanceLine(a.balance), el("div", {class: "muted"}, a.balance_as_of ? `${t("desktop.balance_as_of")} ${fmtTime(a.balance_as_of)}` : "")));
  }));
}

function contactRows(card) {
  const editable = SB.me.permissions.includes("clients.edit");
  const rows = (card.contact_points || []).map(c => el("div", {class: "row"},
    `${t("contact." + c.kind, c.kind)}: ${c.value}${c.is_primary ? " ★" : ""}`,
    c.kind === "phone" ? el("button", {class: "call", on: {click: () => api("POST", "/api/v1/calls",
      D.current ? {number: c.value, conversation: D.current} : {number: c.value})}}, t("desktop.call")) : null,
    editable ? el("button", {"aria-label": t("card.remove_contact"), title: t("card.remove_contact"),
      on: {click: () => confirm(t("card.remove_contact") + "?") && cardChange("POST", `/api/v1/clients/${card.client.id}/contact-points/${c.id}/remove`, {})}}, "✕") : null));
  if (!editable) return el("div", {}, rows);
  const kind = el("select", {name: "kind", "aria-label": t("card.contact_kind")},
    ...["phone", "email", "telegram", "viber"].map(k => el("option", {value: k}, t("contact." + k, k))));
  const value = el("input", {name: "value", required: true, "aria-label": t("card.contact_value"), placeholder: t("card.contact_value")});
  const form = el("form", {class: "row", id: "add-contact", on: {submit: e => {
    e.preventDefault();
    cardChange("POST", `/api/v1/clients/${card.client.id}/contact-points`, {kind: kind.value, value: value.value}).catch(() => {});
  }}}, kind, value, el("button", {class: "primary"}, t("card.add_contact")));
  return el("div", {}, ...rows, form);
}

const MAY_MERGE = () => SB.me.permissions.includes("clients.merge");

async function historyBox(card) {
  const box = el("div", {id: "card-history"});
  const history = await api("GET", `/api/v1/clients/${card.client.id}/history`);
  box.replaceChildren(...history.changes.map(h => el("div", {class: "muted"},
    `${fmtTime(h.at)} · ${t("audit." + h.action, h.action)} · ${h.after && h.after.reason ? h.after.reason : ""}`,
    h.action === "client.merge" && MAY_MERGE() ? el("button", {on: {click: () => undoMerge(card, h.after.merge_id).catch(() => {})}},
      t("card.undo_merge")) : null)));
  return box;
}

async function undoMerge(card, mergeId) {
  if (!confirm(t("card.undo_merge") + "?")) return;
  await api("POST", `/api/v1/client-merges/${mergeId}/undo`, {});
  await reloadCard(card.client.id);
}

async function mergeHere(card, candidate) {
  if (!confirm(`${t("card.merge_confirm")} ${candidate.full_name}?`)) return;
  const other = await api("GET", "/api/v1/clients/" + candidate.client_id);
  await cardChange("POST", `/api/v1/clients/${card.client.id}/merge`,
    {merged_client_id: candidate.client_id, merged_version: other.client.version});
}

async function duplicatesBox(card) {
  const found = await api("GET", `/api/v1/clients/${card.client.id}/duplicates`);
  if (!found.candidates.length) return el("div", {class: "muted", id: "card-duplicates"}, t("card.no_duplicates"));
  return el("div", {id: "card-duplicates"}, found.candidates.map(c => el("div", {class: "row"},
    `${c.full_name} · ${c.reasons.map(r => t("duplicate." + r.reason, r.reason)).join(", ")}`,
    el("button", {on: {click: () => mergeHere(card, c).catch(() => {})}}, t("card.merge_here")))));
}

function duplicatesToggle(card) {
  if (!MAY_MERGE() || card.client.active === false) return null;
  return el("details", {id: "duplicates-toggle", open: CARD.showDuplicates, on: {toggle: async e => {
    CARD.showDuplicates = e.target.open;
    if (e.target.open && !e.target.querySelector("#card-duplicates")) e.target.append(await duplicatesBox(card));
  }}}, el("summary", {}, t("card.duplicates")));
}

function mergedNotice(client) {
  if (!client.merged_into) return null;
  return el("div", {class: "warn", id: "merged-into"}, t("card.merged_into"), " ",
    el("button", {on: {click: () => reloadCard(client.merged_into).catch(() => {})}}, t("card.open_survivor")));
}

function renderCard(card, ticket, options = {}) {
  const box = document.getElementById("card");
  if (!card) { box.className = "muted"; box.textContent = t("desktop.no_card"); CARD.current = null; return; }
  const open = document.getElementById("history-toggle");
  const sameClient = CARD.current && card.client && CARD.current.client.id === card.client.id;
  CARD.showHistory = Boolean(sameClient && (CARD.showHistory || (open && open.open)));  /* kept across redraws */
  CARD.showDuplicates = Boolean(sameClient && CARD.showDuplicates);
  CARD.current = card; CARD.ticket = ticket; CARD.shown += 1;
  box.className = "";
  const client = card.client || card;
  const previous = [...(card.open_tickets || []), ...(card.past_tickets || [])].filter(p => !ticket || p.number !== ticket.number);
  const repeat = previous.some(p => Date.now() - new Date(p.created_at) < REPEAT_WINDOW_MS);
  const history = el("details", {id: "history-toggle", open: CARD.showHistory, on: {toggle: async e => {
    CARD.showHistory = e.target.open;
    if (e.target.open && !e.target.querySelector("#card-history")) e.target.append(await historyBox(card));
  }}}, el("summary", {on: {click: () => { CARD.showHistory = !history.open; }}}, t("card.history")));
  box.replaceChildren(
    el("div", {}, el("b", {id: "card-name"}, client.full_name || ""), client.active === false ? el("span", {class: "bad"}, " · " + t("card.inactive")) : null,
      repeat ? el("span", {class: "bad", id: "repeat"}, " · " + t("desktop.repeat_contact")) : null),
    mergedNotice(client), billingLine(card), glance(card),
    el("h3", {}, t("desktop.accounts")), accountRows(card.accounts || []),
    el("h3", {}, t("desktop.contacts")), contactRows(card),
    el("h3", {}, t("desktop.previous_tickets")),
    el("div", {}, previous.map(p => el("div", {class: "muted"}, `${p.number} · ${fmtTime(p.created_at)} · ${t("status." + p.status, p.status || "")}`))),
    history, card.client ? duplicatesToggle(card) : null);
  if (card.billing_state && card.billing_state.stale && !options.refreshed && card.client && card.client.id) {
    refreshBilling(card.client.id).catch(() => {});
  }
}
