"""The customers of the end-to-end messaging benchmark, one driver per channel, each playing its channel's
sandbox the way real customers use it: a Telegram user writing to the bot, a Viber user whose message
Viber posts to the gateway's webhook, a customer's e-mail landing in the support mailbox (IMAP APPEND),
a visitor of the web chat posting to the HTTP API channel."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import aiohttp

from channels.sandbox.telegram import SandboxUser
from channels.sandbox.viber import ViberUser
from channels.sandbox.web import WebVisitor, post_contact

WEB_SOURCE, WEB_KEY, WEB_CHANNEL = "site_chat", "sandbox-webchat-key", "webchat"
BENCH_DOMAIN = "klient.bench.example.net"
FIRST_TELEGRAM_ID = 900_000_000_000


class ChatDriver(Protocol):
    """Plays one channel's customers: ``new_thread`` names a new conversation (its thread key and the
    handle to write in it), ``send`` writes one text in a conversation as its customer."""

    channel: str

    def new_thread(self, n: int) -> tuple[str, Any]: ...

    async def send(self, handle: Any, text: str) -> None: ...


class TelegramDriver:
    channel = "telegram"

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox

    def new_thread(self, n: int) -> tuple[str, Any]:
        user = SandboxUser(id=FIRST_TELEGRAM_ID + n, first_name=f"Клієнт {n}")
        return f"telegram:{user.id}", user

    async def send(self, handle: Any, text: str) -> None:
        self.sandbox.user_sends_text(handle, text)


class ViberDriver:
    channel = "viber"

    def __init__(self, sandbox: Any, run: str) -> None:
        self.sandbox, self.run = sandbox, run

    def new_thread(self, n: int) -> tuple[str, Any]:
        user = ViberUser(id=f"bn{self.run}{n:06d}Zx9Q==", name=f"Абонент {n}")
        return f"viber:{user.id}", user

    async def send(self, handle: Any, text: str) -> None:
        result = await self.sandbox.user_sends_text(handle, text)
        if result.status >= 400:
            raise RuntimeError(f"viber webhook answered {result.status}")


@dataclass(slots=True)
class MailThread:
    root: str
    sender: str
    references: list[str] = field(default_factory=list)


class MailDriver:
    channel = "email"

    def __init__(self, server: Any, run: str, mailbox: str = "INBOX") -> None:
        self.server, self.run, self.mailbox = server, run, mailbox

    def new_thread(self, n: int) -> tuple[str, Any]:
        root = f"<{self.run}.{n}.open@{BENCH_DOMAIN}>"
        return f"email:{root}", MailThread(root, f"Абонент {n} <abonent.{n}@{BENCH_DOMAIN}>")

    async def send(self, handle: MailThread, text: str) -> None:
        mail = EmailMessage()
        message_id = handle.root if not handle.references else \
            f"<{self.run}.{uuid.uuid4().hex[:12]}@{BENCH_DOMAIN}>"
        mail["From"] = handle.sender
        mail["To"] = self.server.user
        mail["Subject"] = "Re: Нарахування за газ" if handle.references else "Нарахування за газ"
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = message_id
        if handle.references:
            mail["In-Reply-To"] = handle.references[-1]
            mail["References"] = " ".join(handle.references)
        mail.set_content(text)
        handle.references.append(message_id)
        await self.server.append(self.mailbox, mail.as_bytes())


class WebDriver:
    channel = "web"

    def __init__(self, session: aiohttp.ClientSession, gateway_url: str, run: str) -> None:
        self.session, self.gateway_url, self.run = session, gateway_url, run

    def new_thread(self, n: int) -> tuple[str, Any]:
        visitor = WebVisitor(thread=f"{self.run}-{n}", phone=None, name=f"Відвідувач {n}")
        return f"{WEB_CHANNEL}:{WEB_SOURCE}:{visitor.thread}", visitor

    async def send(self, handle: Any, text: str) -> None:
        status = await post_contact(self.session, self.gateway_url, WEB_SOURCE, WEB_KEY, handle, text)
        if status >= 400:
            raise RuntimeError(f"the API channel answered {status}")


def drivers_for(peers: Any, session: aiohttp.ClientSession, gateway_url: str, run: str) -> list[ChatDriver]:
    drivers: list[ChatDriver] = []
    if "telegram" in peers.peers:
        drivers.append(TelegramDriver(peers.peers["telegram"].sandbox))
    if "viber" in peers.peers:
        drivers.append(ViberDriver(peers.peers["viber"].sandbox, run))
    if "email" in peers.peers:
        drivers.append(MailDriver(peers.peers["email"].server, run))
    drivers.append(WebDriver(session, gateway_url, run))
    return drivers
