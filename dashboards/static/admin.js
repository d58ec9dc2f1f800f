/* The administration page: users (create, deactivate, activate, reset a password, import from CSV), the
   role matrix (permissions and masked fields per role, saved as a new version) and the keys of the
   inbound API sources (a rotated key is shown once). */
"use strict";

const ADMIN = {matrix: null};

function cell(...children) { return el("td", {}, ...children); }

async function loadUsers() {
  const {users} = await api("GET", "/api/v1/admin/users");
  const table = document.getElementById("users");
  table.replaceChildren(el("tr", {}, ["admin.login", "admin.full_name", "admin.role", "admin.extension", "admin.state", ""]
    .map(k => el("th", {}, k ? t(k) : ""))));
  for (const user of users) {
    const toggle = el("button", {on: {click: async () => {
      await api("POST", `/api/v1/admin/users/${user.id}/${user.active ? "deactivate" : "activate"}`);
      await loadUsers();
    }}}, t(user.active ? "admin.deactivate" : "admin.activate"));
    const reset = el("button", {on: {click: async () => {
      const password = prompt(t("admin.new_password"));
      if (!password) return;
      await api("POST", `/api/v1/admin/users/${user.id}/password`, {password});
      toast(t("admin.password_set"));
    }}}, t("admin.reset_password"));
    table.append(el("tr", {}, cell(user.login), cell(user.full_name), cell(t("role." + user.role)),
      cell(user.extension || ""), cell(t(user.active ? "admin.active" : "admin.inactive")), cell(toggle, " ", reset)));
  }
}

async function createUser(event) {
  event.preventDefault();
  const form = event.target;
  const body = {};
  for (const [name, value] of new FormData(form)) if (value) body[name] = value;
  await api("POST", "/api/v1/admin/users", body);
  form.reset();
  toast(t("admin.created"));
  await loadUsers();
}

async function importCsv(event) {
  event.preventDefault();
  const file = new FormData(event.target).get("csv");
  const response = await fetch("/api/v1/admin/users/import", {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "text/csv"}, body: await file.text()});
  const report = await response.json();
  if (!response.ok) { toast(report.message + (report.detail ? ": " + report.detail : ""), true); return; }
  const table = document.getElementById("import-report");
  table.replaceChildren(el("tr", {}, el("td", {colspan: 3},
    `${t("admin.imported")}: ${report.imported} · ${t("admin.existing")}: ${report.existing} · ${t("admin.refused")}: ${report.refused.length}`)));
  for (const row of report.refused) {
    table.append(el("tr", {}, cell(row.line), cell(row.login), cell(`${t("error." + row.reason)}: ${row.detail}`)));
  }
  await loadUsers();
}

async function loadMatrix() {
  ADMIN.matrix = await api("GET", "/api/v1/admin/roles");
  const {roles, permissions, maskable, version} = ADMIN.matrix;
  document.getElementById("matrix-version").textContent = version;
  const names = Object.keys(roles);
  const table = document.getElementById("matrix");
  table.replaceChildren(el("tr", {}, el("th", {}, ""), names.map(n => el("th", {}, t("role." + n)))));
  const rows = [...permissions.map(p => ["permissions", p, t("permission." + p, p)]),
                ...maskable.map(f => ["mask", f, `${t("admin.masked")}: ${t("mask." + f, f)}`])];
  for (const [list, key, label] of rows) {
    table.append(el("tr", {}, el("th", {}, label), names.map(n => cell(el("input", {
      type: "checkbox", "data-role": n, "data-list": list, "data-key": key, "aria-label": `${n} ${label}`,
      checked: roles[n][list].includes(key)})))));
  }
}

async function saveMatrix() {
  const roles = {};
  for (const name of Object.keys(ADMIN.matrix.roles)) roles[name] = {permissions: [], mask: []};
  document.querySelectorAll("#matrix input[type=checkbox]").forEach(box => {
    if (box.checked) roles[box.dataset.role][box.dataset.list].push(box.dataset.key);
  });
  await api("PUT", "/api/v1/admin/roles", {version: ADMIN.matrix.version, roles});
  toast(t("admin.saved"));
  await loadMatrix();
}

async function loadKeys() {
  const {sources, keys} = await api("GET", "/api/v1/admin/api-keys");
  const table = document.getElementById("keys");
  table.replaceChildren(el("tr", {}, ["admin.source", "admin.channel", "admin.active_keys", ""].map(k => el("th", {}, k ? t(k) : ""))));
  for (const source of sources) {
    const active = keys.filter(k => k.source === source.name && k.active).length;
    const rotate = el("button", {on: {click: async () => {
      const issued = await api("POST", `/api/v1/admin/api-keys/${source.name}/rotate`);
      document.getElementById("new-key").textContent = `${t("admin.key_once")} ${source.name}: ${issued.key}`;
      await loadKeys();
    }}}, t("admin.rotate"));
    table.append(el("tr", {}, cell(source.name), cell(source.channel), cell(active), cell(rotate)));
  }
}

(async () => {
  await boot("admin");
  const roleSelect = document.getElementById("new-role");
  for (const name of Object.keys((await api("GET", "/api/v1/admin/roles")).roles)) {
    roleSelect.append(el("option", {value: name}, t("role." + name)));
  }
  document.getElementById("new-user").addEventListener("submit", createUser);
  document.getElementById("import").addEventListener("submit", importCsv);
  document.getElementById("save-matrix").addEventListener("click", saveMatrix);
  await Promise.all([loadUsers(), loadMatrix(), loadKeys()]);
})();
