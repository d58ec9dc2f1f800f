/* A conversation's messages as bubbles, told apart by who wrote: the client (left), an agent (right), the
   bot, an internal note; each names its author and time and shows its attachments. */
"use strict";
const BUBBLE = {in: "from-client", out: "from-agent", bot: "from-bot", note: "from-note"};

function attachmentsOf(m) {
  const items = Array.isArray(m.attachments) ? m.attachments : (m.attachments && m.attachments.items) || [];
  return items.map(a => (a.content_type || "").startsWith("audio/") && a.url
    ? el("audio", {controls: true, src: a.url, title: t("desktop.recording")})
    : (a.content_type || "").startsWith("image/") && a.url
      ? el("a", {href: a.url, target: "_blank", rel: "noopener"}, el("img", {class: "preview", src: a.url, alt: a.filename || t("thread.image")}))
      : el("div", {class: "attachment"}, `📎 ${a.filename || t("thread.file")}${a.size ? ` (${Math.ceil(a.size / 1024)} ${t("thread.kb")})` : ""}`));
}

function messageAuthor(m) {
  if (m.direction === "in") return t("desktop.direction.in");
  if (m.direction === "bot") return t("desktop.direction.bot");
  const who = authorName(m.author);
  return m.direction === "note" ? `${t("desktop.direction.note")} · ${who}` : who;
}

function messageBubble(m) {
  return el("div", {class: "msg " + (BUBBLE[m.direction] || "from-client"), "data-direction": m.direction, "data-message": m.id},
    el("div", {class: "meta"}, el("span", {class: "author"}, messageAuthor(m)), " · ", el("time", {datetime: m.at}, fmtTime(m.at)),
      m.delivery_status ? el("span", {class: "delivery"}, " · " + t("delivery." + m.delivery_status, "")) : null),
    el("div", {class: "text"}, m.text),
    attachmentsOf(m));
}
