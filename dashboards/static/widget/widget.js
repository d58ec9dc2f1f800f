/* Switchboard web chat widget.  Embed with one line:
 *   <script src="https://<gateway>/static/widget/widget.js" data-source="site_chat" async></script>
 * Optional: data-lang="en" (Ukrainian by default).  The page may call SwitchboardChat.open() / .close().
 * The widget lives in a shadow root, so the host page's styles and its own never mix. */
(function () {
  "use strict";
  if (window.SwitchboardChat) return;
  var wantOpen = false;
  window.SwitchboardChat = { open: function () { wantOpen = true; }, close: function () { wantOpen = false; } };
  var script = document.currentScript || document.querySelector("script[src*='/static/widget/widget.js']");
  if (!script) return;
  var base = new URL(script.src, location.href).origin;
  var source = script.getAttribute("data-source") || "site_chat";
  var lang = script.getAttribute("data-lang") || "uk";
  var storeKey = "sb-webchat:" + base + ":" + source;
  var RETRIES = 6;
  var FOLLOW_MS = 24 * 3600 * 1000;  // a page load follows replies by itself for a day after the last message

  var T = {}, maxChars = 4000, session = loadSession(), stream = null, streamDelay = 1000;
  var seen = {}, unread = 0, ui = null;

  function api(path, query) {
    var url = new URL(base + "/api/v1/webchat/" + path);
    url.searchParams.set("lang", lang);
    Object.keys(query || {}).forEach(function (k) { url.searchParams.set(k, query[k]); });
    return url.toString();
  }

  function loadSession() {
    try {
      var saved = JSON.parse(localStorage.getItem(storeKey) || "null");
      return saved && saved.expires_at * 1000 > Date.now() ? saved : null;
    } catch (e) { return null; }
  }

  function touch() {
    if (session) { session.active_at = Date.now(); saveSession(session); }
  }

  function saveSession(value) {
    session = value;
    try {
      if (value) localStorage.setItem(storeKey, JSON.stringify(value)); else localStorage.removeItem(storeKey);
    } catch (e) { /* storage blocked: the chat lasts as long as the page */ }
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  /* ---- the interface ---- */

  function build() {
    var host = el("div");
    host.id = "sb-webchat";
    var root = host.attachShadow({ mode: "open" });
    var css = el("link");
    css.rel = "stylesheet";
    css.href = base + "/static/widget/widget.css";
    root.appendChild(css);

    var launcher = el("button", "launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-label", T.open);
    launcher.appendChild(el("span", "label", T.open));
    var badge = el("span", "badge");
    badge.hidden = true;
    launcher.appendChild(badge);

    var panel = el("section", "panel");
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", T.title);
    var head = el("header");
    head.appendChild(el("h2", null, T.title));
    var close = el("button", "close", "×");
    close.type = "button";
    close.setAttribute("aria-label", T.close);
    head.appendChild(close);
    var status = el("div", "status", T.offline);
    status.hidden = true;
    var log = el("div", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.appendChild(el("p", "greeting", T.greeting));

    var form = el("form");
    var intro = el("div", "intro");
    var name = el("input");
    name.name = "name"; name.maxLength = 100; name.placeholder = T.name; name.autocomplete = "name";
    var phone = el("input");
    phone.name = "phone"; phone.type = "tel"; phone.maxLength = 32; phone.placeholder = T.phone; phone.autocomplete = "tel";
    intro.appendChild(name);
    intro.appendChild(phone);
    intro.hidden = !!session;
    var text = el("textarea");
    text.name = "text"; text.rows = 2; text.placeholder = T.placeholder;
    text.setAttribute("aria-label", T.placeholder);
    var hint = el("div", "hint");
    var send = el("button", "send", T.send);
    send.type = "submit";
    form.appendChild(intro);
    form.appendChild(text);
    form.appendChild(hint);
    form.appendChild(send);
    panel.appendChild(head);
    panel.appendChild(status);
    panel.appendChild(log);
    panel.appendChild(form);
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(host);

    launcher.addEventListener("click", function () { toggle(); });
    close.addEventListener("click", function () { toggle(false); });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
    text.addEventListener("input", checkLength);
    text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : submit(e); }
    });
    form.addEventListener("submit", submit);
    return { host: host, launcher: launcher, badge: badge, panel: panel, status: status, log: log, intro: intro,
             name: name, phone: phone, text: text, hint: hint, send: send };
  }

  function checkLength() {
    var tooLong = ui.text.value.length > maxChars;
    ui.hint.textContent = tooLong ? T.too_long + " (" + ui.text.value.length + "/" + maxChars + ")" : "";
    ui.send.disabled = tooLong;
  }

  function toggle(open) {
    var show = open === undefined ? ui.panel.hidden : open;
    ui.panel.hidden = !show;
    ui.launcher.setAttribute("aria-expanded", String(show));
    if (show) {
      connect();
      unread = 0;
      ui.badge.hidden = true;
      ui.text.focus();
      ui.log.scrollTop = ui.log.scrollHeight;
    }
  }

  function show(message) {
    if (seen[message.id]) return seen[message.id];
    var node = el("div", "msg " + (message.direction === "in" ? "mine" : "theirs"));
    node.dataset.id = message.id;
    node.dataset.direction = message.direction;
    node.appendChild(el("span", "who", message.direction === "in" ? T.you : T.agent));
    node.appendChild(el("span", "text", message.text));
    node.appendChild(el("span", "note"));
    seen[message.id] = node;
    ui.log.appendChild(node);
    ui.log.scrollTop = ui.log.scrollHeight;
    if (message.direction !== "in" && ui.panel.hidden) {
      unread += 1;
      ui.badge.textContent = String(unread);
      ui.badge.setAttribute("aria-label", T.unread);
      ui.badge.hidden = false;
    }
    return node;
  }

  function mark(node, state, note) {
    node.dataset.state = state;
    node.querySelector(".note").textContent = note || "";
  }

  /* ---- talking to the gateway ---- */

  function post(path, body, token) {
    var headers = { "Content-Type": "application/json" };
    if (token) headers["X-Visitor-Token"] = token;
    return fetch(api(path), { method: "POST", headers: headers, body: JSON.stringify(body) }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  function startSession() {
    if (session) return Promise.resolve(session);
    var visitor = { source: source };
    if (ui.name.value.trim()) visitor.name = ui.name.value.trim();
    if (ui.phone.value.trim()) visitor.phone = ui.phone.value.trim();
    return post("sessions", visitor).then(function (answer) {
      if (answer.status !== 201) throw answer;
      saveSession(answer.data);
      ui.intro.hidden = true;
      disconnect();
      connect();
      return session;
    });
  }

  function deliver(text, key, node, attempt) {
    mark(node, "sending", T.sending);
    return startSession().then(function (current) {
      return post("messages", { text: text, dedupe_key: key }, current.token);
    }).then(function (answer) {
      if (answer.status === 202 || answer.status === 200) { mark(node, "sent"); touch(); return; }
      if (answer.status === 401 && attempt < RETRIES) {  // the session ended: a new one, the same message
        saveSession(null);
        return deliver(text, key, node, attempt + 1);
      }
      if (answer.status === 429 && attempt < RETRIES) {
        return sleep(1000 * (answer.data.retry_after_s || 2)).then(function () { return deliver(text, key, node, attempt + 1); });
      }
      if (answer.status >= 500 && attempt < RETRIES) throw answer;
      failed(node, text, key, answer.data.message);
    }).catch(function (problem) {
      if (problem && problem.status >= 400 && problem.status < 500) { failed(node, text, key, problem.data.message); return; }
      if (attempt >= RETRIES) { failed(node, text, key); return; }
      return sleep(Math.min(16000, 500 * Math.pow(2, attempt))).then(function () { return deliver(text, key, node, attempt + 1); });
    });
  }

  function failed(node, text, key, reason) {
    mark(node, "failed", (reason ? reason + " " : "") + T.failed);
    node.onclick = function () { node.onclick = null; deliver(text, key, node, 0); };
  }

  function submit(event) {
    event.preventDefault();
    var text = ui.text.value.trim();
    if (!text || text.length > maxChars) return;
    ui.text.value = "";
    checkLength();
    var key = newKey();
    deliver(text, key, show({ id: key, direction: "in", text: text }), 0);
  }

  function connect() {
    if (stream || !session) return;
    var es = stream = new EventSource(api("stream", { token: session.token }));
    es.addEventListener("open", function () { streamDelay = 1000; });
    es.addEventListener("snapshot", function (e) {
      JSON.parse(e.data).messages.forEach(function (m) { mark(show(m), "sent"); });
      ui.host.dataset.snapshots = String(Number(ui.host.dataset.snapshots || 0) + 1);
    });
    var incoming = function (e) {
      var m = JSON.parse(e.data);
      show({ id: m.id, direction: "out", text: m.text });
      touch();
    };
    es.addEventListener("reply", incoming);
    es.addEventListener("message", incoming);
    es.addEventListener("heartbeat", function (e) { live(JSON.parse(e.data).live); });
    es.addEventListener("error", function () {
      if (es !== stream) return;
      live(false);
      if (es.readyState === EventSource.CLOSED) reconnect();  // refused, not dropped: find out why, retry
    });
  }

  function disconnect() {
    if (stream) stream.close();
    stream = null;
  }

  function reconnect() {
    disconnect();
    if (!session) return;
    var url = api("stream", { token: session.token });
    var probe = new AbortController();
    fetch(url, { signal: probe.signal }).then(function (r) {
      probe.abort();
      if (r.status === 401) { saveSession(null); ui.intro.hidden = false; }
    }).catch(function () {}).then(function () {
      setTimeout(connect, streamDelay);
      streamDelay = Math.min(30000, streamDelay * 2);
    });
  }

  function live(ok) {
    ui.status.hidden = ok;
    ui.host.dataset.live = ok ? "1" : "0";
  }

  fetch(api("config", { source: source })).then(function (r) {
    if (!r.ok) throw new Error("web chat refused: HTTP " + r.status);
    return r.json();
  }).then(function (config) {
    T = config.strings;
    maxChars = config.max_text_chars;
    ui = build();
    if (session && Date.now() - (session.active_at || 0) < FOLLOW_MS) connect();
    window.SwitchboardChat.open = function () { toggle(true); };
    window.SwitchboardChat.close = function () { toggle(false); };
    if (wantOpen) toggle(true);
    ui.host.dataset.ready = "1";
  }).catch(function (error) {
    if (window.console) console.warn("Switchboard web chat:", error.message || error);
  });
})();
