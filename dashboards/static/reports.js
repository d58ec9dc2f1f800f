/* Reports for any period with filters, a trend chart, top categories, agent load and the exports. */
"use strict";
const TOTALS = ["tickets", "resolved", "open", "avg_first_response_s", "avg_resolution_s", "sla_met_pct", "fcr_pct", "aht_s", "asa_s", "abandoned_pct"];

function value(key, v) {
  if (v === null || v === undefined) return t("app.none");
  return key.endsWith("_s") ? fmtDuration(v) : key.endsWith("_pct") ? v + "%" : v;
}

function query(form) {
  return new URLSearchParams([...new FormData(form)].filter(([, v]) => String(v).trim()));
}

async function run(form) {
  const params = query(form);
  const data = await api("GET", "/api/v1/reports/summary?" + params);
  document.getElementById("totals").replaceChildren(...TOTALS.map(k => el("div", {class: "card", id: "total-" + k}, t("reports." + k), el("b", {}, value(k, data.totals[k])))));
  const peak = Math.max(1, ...data.series.map(p => p.tickets));
  document.getElementById("series").replaceChildren(...data.series.map(p => el("div", {style: `height:${100 * p.tickets / peak}%`, title: `${fmtTime(p.at)}: ${p.tickets}`})));
  document.getElementById("series-axis").replaceChildren(data.series.length ? `${fmtTime(data.series[0].at)} — ${fmtTime(data.series[data.series.length - 1].at)}` : "");
  const vocab = SB.vocab;
  document.getElementById("categories").replaceChildren(...data.top_categories.map(c => el("tr", {}, el("td", {}, t(vocab.categories[c.category], c.category || t("app.none"))), el("td", {}, c.tickets))));
  document.getElementById("agents").replaceChildren(el("tr", {}, ["wall.agent", "reports.tickets", "reports.open", "reports.resolved", "reports.avg_resolution_s"].map(k => el("th", {}, t(k)))),
    ...data.agents.map(a => el("tr", {"data-agent": a.agent_id}, el("td", {class: "agent-name"}, personName(a.agent_id)), el("td", {}, a.tickets), el("td", {}, a.open), el("td", {}, a.resolved), el("td", {}, value("avg_resolution_s", a.avg_resolution_s)))));
  const exportParams = new URLSearchParams(params);
  document.getElementById("export-csv").href = "/api/v1/exports/tickets.csv?" + exportParams;
  document.getElementById("export-xlsx").href = "/api/v1/exports/tickets.xlsx?" + exportParams;
}

(async () => {
  await boot("reports");
  [SB.vocab] = await Promise.all([api("GET", "/api/v1/vocabulary"), loadPeople()]);
  const form = document.getElementById("report-form");
  const options = (name, values, label) => form.elements[name].replaceChildren(el("option", {value: ""}, `${t("reports.all")}`), ...values.map(v => el("option", {value: v}, label(v))));
  options("channel", SB.vocab.channels, v => t("channel." + v, v));
  options("type", SB.vocab.types, v => t("type." + v, v));
  options("category", Object.keys(SB.vocab.categories), v => t(SB.vocab.categories[v], v));
  options("queue", SB.vocab.queues, queueName);
  options("agent_id", Object.values(SB.people).filter(p => p.agent).map(p => String(p.id)), id => personName(Number(id)));
  const today = new Date(), monthAgo = new Date(Date.now() - 30 * 86400000);
  form.elements.from.value = monthAgo.toISOString().slice(0, 10); form.elements.to.value = today.toISOString().slice(0, 10);
  form.addEventListener("submit", e => { e.preventDefault(); run(form); });
  if (!SB.me.permissions.includes("reports.export")) document.querySelectorAll("#export-csv,#export-xlsx").forEach(a => a.remove());
  run(form);
})();
