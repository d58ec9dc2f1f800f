"""One sandbox peer per channel, as the demo runs it: the peer listens on 127.0.0.1 on a free port,
rewrites its channel's table (config/channels/<name>.toml) to point at itself, and plays that
channel's customers at a given rate.

Every peer has the same small shape: ``start()``, ``table(base, gateway_url)``, ``traffic(rate, s)``
and ``stop()``; :mod:`actors.demo.sandboxes` runs them together.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import random
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from actors.demo.guard import DaemonGuard
from crm_core.seed.demo import DemoCaller

log = logging.getLogger(__name__)

UNKNOWN_CALLERS = 6
"""Numbers the CRM does not know, beside the demo's known callers, so some calls stay anonymous."""
CHAT_USERS = 8
"""Generated Telegram and Viber users beside the demo's known ones: few enough that each comes back
within seconds (a Viber user opens the chat first, so the first round brings no messages)."""
IDS_PER_SECOND = 100
"""Room for this many peer-made ids (Telegram update ids, Viber message tokens) per second of a run.

A run of the demo is told apart from earlier ones on the same database by ``run``, the second it
started: its chat users' ids and its customers' Message-IDs are new, so it opens new conversations
instead of joining those an earlier run left open; and its Telegram update ids and Viber message
tokens continue past every earlier run's, as Telegram's and Viber's own do, so the inbox does not
take them for repeats of items it stored before (the sandboxes number them from the same start
every time they are created)."""


def continue_numbering(run: int, first: int) -> itertools.count[int]:
    """A peer's id sequence for this run: past every id an earlier run (started before) could use."""
    return itertools.count(first + run * IDS_PER_SECOND)


class SandboxPeer(Protocol):
    name: str

    async def start(self) -> None: ...

    def table(self, base: Mapping[str, Any], gateway_url: str) -> dict[str, Any]: ...

    async def traffic(self, rate_per_s: float, duration_s: float | None) -> int: ...

    async def stop(self) -> None: ...


def run_secret() -> str:
    """A secret for one demo run's sandbox peer (a bot token, the AMI secret): made up on the spot and
    never stored, so nothing the demo used opens the engine afterwards."""
    return secrets.token_hex(24)


def national(phone: str) -> str:
    """``+380671234567`` as a Ukrainian trunk usually delivers it: ``0671234567``."""
    return "0" + phone[4:] if phone.startswith("+380") else phone


class PbxPeer:
    """The sandbox PBX (AMI) and VICIdial's web APIs.  Calls ring the sandbox agents' ``extensions``;
    every agent with an extension (``desks``) counts as logged in to VICIdial, so a person at the
    desktop can click to call."""

    name = "voice"

    def __init__(self, base: Mapping[str, Any], extensions: Sequence[str], desks: Sequence[str],
                 callers: Sequence[DemoCaller], seed: int = 5) -> None:
        from channels.sandbox.pbx import AmiServer, VicidialApiServer

        if not extensions:
            raise ValueError("the PBX needs at least one agent extension to ring")
        self.extensions = list(extensions)
        rng = random.Random(seed)
        known = [national(phone) for caller in callers for phone in caller.phones]
        self.callers = known + [f"0{rng.choice('5679')}{rng.randrange(10**8):08d}" for _ in range(UNKNOWN_CALLERS)]
        self.pbx = AmiServer(username=str(base.get("username", "switchboard")),
                             secret=str(base.get("secret") or run_secret()))
        self.api = VicidialApiServer(self.pbx, user=str(base.get("vicidial_api_user", "apiuser")),
                                     password=str(base.get("vicidial_api_pass") or run_secret()),
                                     agents={*self.extensions, *desks})

    async def start(self) -> None:
        await self.pbx.start("127.0.0.1", 0)
        await self.api.start("127.0.0.1", 0)

    def table(self, base: Mapping[str, Any], gateway_url: str) -> dict[str, Any]:
        return {**base, "host": "127.0.0.1", "port": self.pbx.port, "mode": "observe", "secret": self.pbx.secret,
                "vicidial_api_pass": self.api.password,
                "vicidial_non_agent_api_url": f"{self.api.url}/vicidial/non_agent_api.php",
                "vicidial_agent_api_url": f"{self.api.url}/agc/api.php"}

    async def traffic(self, rate_per_s: float, duration_s: float | None) -> int:
        await self.pbx.wait_for_login(timeout=3600)
        return await self.pbx.run_traffic(rate_per_s, duration_s, agents=self.extensions, callers=self.callers)

    async def stop(self) -> None:
        await self.api.stop()
        await self.pbx.stop()


class TelegramPeer:
    """The sandbox Bot API server; generated chat users plus the demo callers who use Telegram."""

    name = "telegram"

    def __init__(self, base: Mapping[str, Any], callers: Sequence[DemoCaller], run: int,
                 users: int = CHAT_USERS) -> None:
        from channels.sandbox.telegram import SandboxUser, TelegramSandbox, demo_users

        self.sandbox = TelegramSandbox(str(base.get("token") or f"7000000001:{run_secret()}"))
        self.sandbox.state._update_ids = continue_numbering(run, 500_000_001)
        known = [SandboxUser(id=int(c.telegram), first_name=c.full_name, phone=c.phones[0] if c.phones else None)
                 for c in callers if c.telegram]
        self.users = demo_users(users, first_id=380_000_001 + run % 10**7 * users) + known

    async def start(self) -> None:
        await self.sandbox.start("127.0.0.1", 0)

    def table(self, base: Mapping[str, Any], gateway_url: str) -> dict[str, Any]:
        return {**base, "api_url": self.sandbox.url, "token": self.sandbox.token, "mode": "polling"}

    async def traffic(self, rate_per_s: float, duration_s: float | None) -> int:
        return await self.sandbox.run_traffic(rate_per_s, duration_s, users=self.users)

    async def stop(self) -> None:
        await self.sandbox.stop()


class ViberPeer:
    """The sandbox Viber REST server; its callbacks go to the gateway's ``POST /webhooks/viber``."""

    name = "viber"

    def __init__(self, base: Mapping[str, Any], callers: Sequence[DemoCaller], run: int, run_dir: Path,
                 users: int = CHAT_USERS) -> None:
        from channels.sandbox.viber import ViberSandbox, ViberUser, demo_users

        self.sandbox = ViberSandbox(str(base.get("token") or run_secret()))
        self.sandbox._tokens = continue_numbering(run, 5_491_272_817_120_358_401)
        self.run_dir = run_dir
        known = [ViberUser(id=c.viber, name=c.full_name, phone=c.phones[0] if c.phones else None)
                 for c in callers if c.viber]
        self.users = [dataclasses.replace(u, id=f"sb{run % 10**7:07d}{u.id[5:]}") for u in demo_users(users)] + known

    async def start(self) -> None:
        await self.sandbox.start("127.0.0.1", 0)

    def table(self, base: Mapping[str, Any], gateway_url: str) -> dict[str, Any]:
        return {**base, "api_url": self.sandbox.api_url, "token": self.sandbox.account.token,
                "public_webhook_url": f"{gateway_url}/webhooks/viber",
                "state_path": str(self.run_dir / "viber-unsubscribed.json")}

    async def traffic(self, rate_per_s: float, duration_s: float | None) -> int:
        """Users start writing once the bot registered its webhook (the channel does it on start)."""
        while not self.sandbox.account.webhook_url:
            await asyncio.sleep(0.2)
        log.info("viber sandbox: webhook %s registered; users start writing", self.sandbox.account.webhook_url)
        return await self.sandbox.run_traffic(rate_per_s, duration_s, users=self.users)

    async def stop(self) -> None:
        await self.sandbox.stop()


class MailPeer:
    """A private Dovecot (IMAP) for the support mailbox and an SMTP relay that keeps the replies."""

    name = "email"

    def __init__(self, base: Mapping[str, Any], callers: Sequence[DemoCaller], run: int, run_dir: Path) -> None:
        from channels.sandbox.mail import DEFAULT_SENDERS, DovecotServer, MailFactory, Sender, SmtpCapture

        imap = base.get("imap", {})
        self.server = DovecotServer(user=str(imap.get("user", "support@example.com")))
        self.relay = SmtpCapture()
        self.run_dir = run_dir
        senders = (*DEFAULT_SENDERS, *(Sender(c.email, c.full_name) for c in callers if c.email))
        self.mail = MailFactory(to_address=self.server.user, senders=senders, seed=run)
        self.guard = DaemonGuard()

    @staticmethod
    def available() -> bool:
        from channels.sandbox.mail import DovecotServer

        return DovecotServer.available()

    async def start(self) -> None:
        await self.server.start()
        assert self.server.base is not None
        # Dovecot's master writes its pid where its base_dir says: <base>/run/master.pid.
        self.guard.start(self.server.base / "run" / "master.pid", [self.server.base, self.run_dir])
        await self.relay.start()

    def table(self, base: Mapping[str, Any], gateway_url: str) -> dict[str, Any]:
        imap = {k: v for k, v in base.get("imap", {}).items() if k != "password_env"}
        smtp = {k: v for k, v in base.get("smtp", {}).items() if k != "password_env"}
        return {**base, "from_address": self.server.user,
                "spool_dir": str(self.run_dir / "email-spool"), "state_path": str(self.run_dir / "email-uids.json"),
                "imap": {**imap, **self.server.imap_settings()}, "smtp": {**smtp, **self.relay.smtp_settings()}}

    async def traffic(self, rate_per_s: float, duration_s: float | None) -> int:
        from channels.sandbox.mail import run_traffic

        return len(await run_traffic(self.server, rate_per_s, duration_s, factory=self.mail))

    async def stop(self) -> None:
        await self.relay.stop()
        await self.server.stop(remove=True)
        self.guard.stop()
