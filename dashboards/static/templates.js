/* The template builder: variables with their types, a body per channel, save (refused with every reason),
   the SMS segment count, and a preview filled for a real client. */
"use strict";
const TOPICS = ["service", "marketing", "emergency"];
const LANGUAGES = ["uk", "en"];
const TYPES = ["text", "number", "money", "date"];

function variableRow(v) {
  const row = el("tr", {class: "variable"},
    el("td", {}, el("input", {name: "var-name", value: v.name || "", "aria-label": t("templates.variable_name"), placeholder: t("templates.variable_name")})),
    el("td", {}, el("select", {name: "var-type", "aria-label": t("templates.variable_type")}, ...TYPES.map(x => el("option", {value: x}, t("templates.type." + x))))),
    el("td", {}, el("input", {name: "var-max", type: "number", min: "1", value: v.max_length || 40, "aria-label": t("templates.max_length")})),
    el("td", {}, el("button", {type: "button", on: {click: () => { row.remove(); previewInputs(); }}}, t("templates.remove"))));
  row.querySelector("[name=var-type]").value = v.type || "text";
  row.querySelector("[name=var-name]").addEventListener("change", previewInputs);
  return row;
}

function bodyFields(channels) {
  return Object.entries(channels).map(([channel, fields]) => el("fieldset", {"data-channel": channel},
    el("legend", {}, t("channel." + channel, channel)),
    ...fields.map(f => el("label", {class: "body-field"}, el("span", {}, t("templates.field." + f)),
      el(f === "text" || f === "html" ? "textarea" : "input", {name: `${channel}.${f}`, rows: "3"})))));
}

function collect(form) {
  const variables = [...document.querySelectorAll("#variables tr.variable")].map(r => ({
    name: r.querySelector("[name=var-name]").value.trim(), type: r.querySelector("[name=var-type]").value,
    max_length: Number(r.querySelector("[name=var-max]").value || 40)})).filter(v => v.name);
  const bodies = {};
  for (const set of document.querySelectorAll("#bodies fieldset")) {
    const fields = {};
    for (const input of set.querySelectorAll("input, textarea")) if (input.value.trim()) fields[input.name.split(".")[1]] = input.value;
    if (Object.keys(fields).length) bodies[set.dataset.channel] = fields;
  }
  return {name: form.elements.name.value.trim(), topic: form.elements.topic.value, language: form.elements.language.value, variables, bodies};
}

function showProblems(problems) {
  document.getElementById("problems").replaceChildren(...(problems || []).map(p =>
    el("li", {}, `${p.where}: ${t("informing.problem." + p.code, p.code)}${p.detail ? " (" + p.detail + ")" : ""}`)));
}

async function post(path, body) {
  const response = await fetch(path, {method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  return {ok: response.ok, data: await response.json()};
}

async function save(form) {
  const {ok, data} = await post("/api/v1/informing/templates", collect(form));
  showProblems(ok ? [] : data.problems || [{where: "", code: data.error, detail: data.detail}]);
  const sms = ok && data.sms ? " · " + t("templates.sms_segments").replace("{segments}", data.sms.segments).replace("{encoding}", t("templates.encoding." + data.sms.encoding)) : "";
  document.getElementById("save-result").textContent = ok ? t("templates.saved").replace("{version}", data.template.version) + sms : "";
  if (ok) await loadList();
}

function previewInputs() {
  const names = [...document.querySelectorAll("#variables [name=var-name]")].map(i => i.value.trim()).filter(Boolean);
  document.getElementById("preview-values").replaceChildren(...names.map(n => el("label", {}, el("span", {}, n), " ", el("input", {"data-variable": n}))));
}

async function preview(form) {
  const values = {};
  for (const input of document.querySelectorAll("#preview-values input")) values[input.dataset.variable] = input.value;
  const template = document.getElementById("template-form");
  const {ok, data} = await post("/api/v1/informing/templates/preview", {name: template.elements.name.value.trim(), language: template.elements.language.value, client_id: Number(form.elements.client_id.value), values});
  showProblems(ok ? [] : data.problems || [{where: "", code: data.error, detail: data.detail}]);
  document.getElementById("preview").replaceChildren(...(ok ? Object.entries(data.channels) : []).map(([channel, m]) => el("div", {class: "card"},
    el("b", {}, t("channel." + channel, channel)), el("div", {class: "muted"}, m.address || t("templates.no_address")),
    m.subject ? el("div", {}, el("b", {}, m.subject)) : "", el("p", {}, m.text),
    m.button_text ? el("div", {class: "muted"}, `[${m.button_text}] ${m.button_url}`) : "",
    m.segments ? el("div", {class: "muted"}, t("templates.sms_segments").replace("{segments}", m.segments).replace("{encoding}", t("templates.encoding." + m.encoding))) : "")));
}

function fill(template) {
  const form = document.getElementById("template-form");
  form.elements.name.value = template.name; form.elements.topic.value = template.topic; form.elements.language.value = template.language;
  document.getElementById("variables").replaceChildren(...template.variables.map(variableRow));
  for (const input of document.querySelectorAll("#bodies input, #bodies textarea")) {
    const [channel, field] = input.name.split(".");
    input.value = (template.bodies[channel] || {})[field] || "";
  }
  previewInputs();
}

async function loadList() {
  const data = await api("GET", "/api/v1/informing/templates");
  SB.templates = data.templates;
  if (!document.querySelector("#bodies fieldset")) document.getElementById("bodies").replaceChildren(...bodyFields(data.channels));
  document.getElementById("existing").replaceChildren(el("option", {value: ""}, t("templates.new")),
    ...data.templates.map((x, i) => el("option", {value: String(i)}, `${x.name} (${x.language}) v${x.version}`)));
}

(async () => {
  await boot("templates");
  const form = document.getElementById("template-form");
  form.elements.topic.replaceChildren(...TOPICS.map(x => el("option", {value: x}, t("templates.topic." + x))));
  form.elements.language.replaceChildren(...LANGUAGES.map(x => el("option", {value: x}, t("templates.language." + x))));
  await loadList();
  document.getElementById("existing").addEventListener("change", e => { if (e.target.value !== "") fill(SB.templates[Number(e.target.value)]); });
  document.getElementById("add-variable").addEventListener("click", () => { document.getElementById("variables").append(variableRow({})); previewInputs(); });
  form.addEventListener("submit", e => { e.preventDefault(); save(form); });
  document.getElementById("preview-form").addEventListener("submit", e => { e.preventDefault(); preview(e.target); });
})();
