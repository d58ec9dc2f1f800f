"""Realistic mail from a Ukrainian utility's customers, as raw RFC 5322 bytes.

Senders write in UTF-8, Windows-1251 (old Outlook and The Bat!) or KOI8-U (old Unix mailers), with
RFC 2047 encoded names and subjects and 8-bit or base64 bodies.  Some write HTML with a text
alternative, some attach a photo of their meter, some answer an earlier thread (with full
``References`` or, like some mobile mailers, only ``In-Reply-To``), and a few out-of-office robots
answer automatically.  Deterministic for a given seed.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formatdate
from typing import Literal

Charset = Literal["utf-8", "windows-1251", "koi8-u"]
MailKind = Literal["new", "reply", "reply_no_references", "html", "attachment", "auto_reply"]


@dataclass(frozen=True, slots=True)
class Sender:
    address: str
    name: str
    charset: Charset = "utf-8"


DEFAULT_SENDERS: tuple[Sender, ...] = (
    Sender("olena.kovalenko@ukr.net", "Олена Коваленко", "utf-8"),
    Sender("petro.shevchuk@i.ua", "Петро Шевчук", "windows-1251"),
    Sender("mykola.bondar@meta.ua", "Микола Бондар", "koi8-u"),
    Sender("iryna.tkachenko@gmail.com", "Ірина Ткаченко", "utf-8"),
    Sender("vasyl.hnatiuk@ukr.net", "Василь Гнатюк", "windows-1251"),
    Sender("oksana.melnyk@bigmir.net", "Оксана Мельник", "koi8-u"),
)

SUBJECTS = (
    "Показники лічильника за жовтень",
    "Неправильне нарахування за газ",
    "Відключення електроенергії на вул. Шевченка",
    "Перерахунок після заміни лічильника",
    "Довідка про відсутність заборгованості",
    "Зміна власника особового рахунку",
    "Питання щодо тарифу на розподіл",
    "Скарга на роботу контролера",
)

BODIES = (
    "Добрий день!\n\nНе можу передати показники лічильника через особистий кабінет: "
    "сторінка видає помилку. Особовий рахунок {account}, показники {reading} кВт·год.\n\nЗ повагою,\n{name}",
    "Вітаю.\n\nУ рахунку за минулий місяць нараховано {reading} м³ газу, хоча фактично спожито вдвічі менше. "
    "Прошу перевірити нарахування по рахунку {account}.\n\n{name}",
    "Доброго дня! Третій день немає світла в будинку, а на гарячій лінії не відповідають. "
    "Коли відновлять електропостачання? Рахунок {account}.\n\n— {name}",
    "Шановні працівники!\nПісля заміни лічильника ({reading}) рахунок {account} досі показує старі дані. "
    "Що мені робити?\n\nДякую, {name}",
)

REPLIES = (
    "Дякую за відповідь, але проблема залишилась. Показники: {reading}.\n\n{name}",
    "Надсилаю фото лічильника, як ви просили. Рахунок {account}.\n\n{name}",
    "Добре, чекатиму на перерахунок. Дякую!\n{name}",
)

AUTO_REPLY = "Я у відпустці до {day} листопада. З нагальних питань звертайтесь до колег.\n\n{name}"

# A 1x1 JPEG's worth of bytes stands in for the photo of a meter.
METER_PHOTO = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////"
    "////////////////////////2wBDAf//////////////////////////////////////////////////////////////////"
    "////////////////////wAARCAABAAEDASIAAhEBAxEB/8QAFAABAAAAAAAAAAAAAAAAAAAAA//EABQQAQAAAAAAAAAAAAAAAAAA"
    "AAD/xAAUAQEAAAAAAAAAAAAAAAAAAAAA/8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQACEQMRAD8AP//Z"
)


@dataclass(frozen=True, slots=True)
class GeneratedMail:
    raw: bytes
    message_id: str
    kind: MailKind
    thread_root: str
    sender: Sender


@dataclass(slots=True)
class _Thread:
    root: str
    last: str
    references: list[str]
    subject: str
    sender: Sender


@dataclass(slots=True)
class MailFactory:
    """``next()`` gives the next customer mail; replies answer threads it started earlier."""

    to_address: str = "support@example.com"
    senders: tuple[Sender, ...] = DEFAULT_SENDERS
    seed: int = 0
    reply_share: float = 0.35
    auto_reply_share: float = 0.03
    _rng: random.Random = field(init=False)
    _threads: list[_Thread] = field(default_factory=list, init=False)
    _counter: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _message_id(self, sender: Sender) -> str:
        self._counter += 1
        domain = sender.address.partition("@")[2]
        return f"<{self.seed}.{self._counter}.{self._rng.getrandbits(40):x}@{domain}>"

    def _fill(self, template: str, sender: Sender) -> str:
        return template.format(
            account=f"{self._rng.randrange(10**9, 10**10)}", reading=self._rng.randrange(100, 99999),
            name=sender.name, day=self._rng.randrange(10, 28),
        )

    def next(self) -> GeneratedMail:
        roll = self._rng.random()
        if self._threads and roll < self.auto_reply_share:
            return self._auto_reply()
        if self._threads and roll < self.auto_reply_share + self.reply_share:
            return self._reply(keep_references=self._rng.random() > 0.2)
        sender = self._rng.choice(self.senders)
        variant = self._rng.random()
        kind: MailKind = "html" if sender.charset == "utf-8" and variant < 0.3 else (
            "attachment" if variant > 0.85 else "new")
        return self._new_thread(sender, kind)

    def _headers(self, sender: Sender, subject: str, message_id: str, extra: list[str]) -> list[str]:
        charset = sender.charset
        return [
            f"From: {Header(sender.name, charset).encode()} <{sender.address}>",
            f"To: {self.to_address}",
            f"Subject: {Header(subject, charset).encode()}",
            f"Date: {formatdate(localtime=True)}",
            f"Message-ID: {message_id}",
            "MIME-Version: 1.0",
            *extra,
        ]

    def _text_part(self, sender: Sender, text: str) -> tuple[list[str], bytes]:
        if sender.charset == "utf-8":
            body = base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
            return [f"Content-Type: text/plain; charset={sender.charset}", "Content-Transfer-Encoding: base64"], body
        body = text.replace("\n", "\r\n").encode(sender.charset, errors="replace")  # as old mailers do
        return [f"Content-Type: text/plain; charset={sender.charset}", "Content-Transfer-Encoding: 8bit"], body

    def _assemble(self, headers: list[str], body_headers: list[str], body: bytes) -> bytes:
        head = "\r\n".join([*headers, *body_headers]).encode("ascii")
        return head + b"\r\n\r\n" + body + b"\r\n"

    def _new_thread(self, sender: Sender, kind: MailKind) -> GeneratedMail:
        subject = self._rng.choice(SUBJECTS)
        message_id = self._message_id(sender)
        text = self._fill(self._rng.choice(BODIES), sender)
        headers = self._headers(sender, subject, message_id, [])
        if kind == "html":
            raw = self._multipart(headers, "alternative", [
                self._text_part(sender, text),
                (["Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64"],
                 base64.encodebytes(self._html(text).encode()).replace(b"\n", b"\r\n")),
            ])
        elif kind == "attachment":
            raw = self._multipart(headers, "mixed", [
                self._text_part(sender, text),
                (["Content-Type: image/jpeg; name=\"=?utf-8?b?" + base64.b64encode("лічильник.jpg".encode()).decode()
                  + "?=\"", "Content-Disposition: attachment; filename*=utf-8''%D0%BB%D1%96%D1%87%D0%B8%D0%BB%D1%8C%D0%BD%D0%B8%D0%BA.jpg",
                  "Content-Transfer-Encoding: base64"], base64.encodebytes(METER_PHOTO).replace(b"\n", b"\r\n")),
            ])
        else:
            raw = self._assemble(headers, *self._text_part(sender, text))
        self._threads.append(_Thread(message_id, message_id, [message_id], subject, sender))
        return GeneratedMail(raw, message_id, kind, message_id, sender)

    @staticmethod
    def _html(text: str) -> str:
        paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n") if line)
        return f"<html><head><style>p{{margin:0}}</style></head><body>{paragraphs}</body></html>"

    def _multipart(self, headers: list[str], subtype: str, parts: list[tuple[list[str], bytes]]) -> bytes:
        boundary = f"=_sb_{self._rng.getrandbits(48):x}"
        body = b""
        for part_headers, part_body in parts:
            body += f"--{boundary}\r\n".encode() + "\r\n".join(part_headers).encode() + b"\r\n\r\n" + part_body + b"\r\n"
        body += f"--{boundary}--".encode()
        return self._assemble(headers, [f'Content-Type: multipart/{subtype}; boundary="{boundary}"'], body)

    def _reply(self, *, keep_references: bool) -> GeneratedMail:
        thread = self._rng.choice(self._threads)
        sender = thread.sender
        message_id = self._message_id(sender)
        extra = [f"In-Reply-To: {thread.last}"]
        if keep_references:
            extra.append(f"References: {' '.join(thread.references)}")
        headers = self._headers(sender, f"Re: {thread.subject}", message_id, extra)
        raw = self._assemble(headers, *self._text_part(sender, self._fill(self._rng.choice(REPLIES), sender)))
        thread.last = message_id
        thread.references.append(message_id)
        kind: MailKind = "reply" if keep_references else "reply_no_references"
        return GeneratedMail(raw, message_id, kind, thread.root, sender)

    def _auto_reply(self) -> GeneratedMail:
        thread = self._rng.choice(self._threads)
        sender = thread.sender
        message_id = self._message_id(sender)
        extra = [f"In-Reply-To: {thread.last}", "Auto-Submitted: auto-replied (vacation)", "Precedence: bulk"]
        headers = self._headers(sender, f"Автовідповідь: {thread.subject}", message_id, extra)
        raw = self._assemble(headers, *self._text_part(sender, self._fill(AUTO_REPLY, sender)))
        return GeneratedMail(raw, message_id, "auto_reply", thread.root, sender)
