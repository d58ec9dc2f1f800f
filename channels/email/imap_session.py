"""One logged-in IMAP session on one folder, over aioimaplib, with its gaps closed at the edge.

aioimaplib 2.0 does not fail the commands in flight when the server drops the connection: they wait for
their timeout (or, for IDLE, forever).  This wrapper races every command against the connection-lost
callback and raises :class:`MailboxLost` at once, so a mailbox that drops the connection mid-IDLE is
noticed immediately and the watcher reconnects.  It also parses the FETCH and SEARCH answers into
plain Python values.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from typing import TypeVar

import aioimaplib

from channels.email.inbound import MailboxMessage
from channels.email.settings import ImapSettings

T = TypeVar("T")

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_PERMANENT = re.compile(rb"PERMANENTFLAGS \(([^)]*)\)")
_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_START = re.compile(rb"^\d+ FETCH \(")


class MailboxError(Exception):
    """The server refused something (login, select, store): the message says what."""


class MailboxLost(MailboxError):
    """The connection to the mailbox is gone (dropped, reset, timed out)."""


def uid_set(uids: list[int]) -> str:
    """``1:3,7`` for ``[1, 2, 3, 7]``: the compact IMAP sequence set of sorted UIDs."""
    ranges: list[str] = []
    start = prev = uids[0]
    for uid in uids[1:]:
        if uid != prev + 1:
            ranges.append(f"{start}:{prev}" if start != prev else str(start))
            start = uid
        prev = uid
    ranges.append(f"{start}:{prev}" if start != prev else str(start))
    return ",".join(ranges)


def parse_fetch(lines: list[bytes | bytearray]) -> list[tuple[int, bytes]]:
    """``(uid, body)`` pairs from a ``UID FETCH ... (UID BODY.PEEK[])`` answer, in server order.

    The UID may stand before the literal (``1 FETCH (UID 5 BODY[] {40}``) or after it (`` UID 5)``);
    untagged FETCH lines without a body (flag changes by other clients) are ignored.
    """
    found: list[tuple[int, bytes]] = []
    for index, line in enumerate(lines):
        if not isinstance(line, bytearray):
            continue
        head = lines[index - 1] if index else b""
        tail = lines[index + 1] if index + 1 < len(lines) else b""
        match = _FETCH_UID.search(bytes(head)) if _FETCH_START.match(bytes(head)) else None
        match = match or _FETCH_UID.search(bytes(tail))
        if match:
            found.append((int(match.group(1)), bytes(line)))
    return found


class MailboxSession:
    """Connect, log in and select; then search, fetch, flag and IDLE on the selected folder."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.uidvalidity = 0
        self.can_idle = False
        self.ack_flag = settings.ack_keyword
        self._lost = asyncio.Event()
        self._client: aioimaplib.IMAP4 | None = None

    @property
    def client(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise MailboxLost("not connected")
        return self._client

    def _on_lost(self, exc: Exception | None) -> None:
        self._lost.set()

    async def _guard(self, operation: Awaitable[T], what: str) -> T:
        """Await ``operation`` unless the connection is lost first."""
        if self._lost.is_set():
            raise MailboxLost(f"connection lost before {what}")
        task = asyncio.ensure_future(operation)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if task not in done:
            task.cancel()
            raise MailboxLost(f"connection lost during {what}")
        try:
            return task.result()
        except (TimeoutError, aioimaplib.CommandTimeout) as exc:
            raise MailboxLost(f"{what} timed out") from exc
        except aioimaplib.Abort as exc:
            raise MailboxLost(f"{what} aborted: {exc}") from exc

    async def _ok(self, operation: Awaitable[aioimaplib.Response], what: str) -> aioimaplib.Response:
        response = await self._guard(operation, what)
        if response.result != "OK":
            text = b" ".join(bytes(line) for line in response.lines[-1:]).decode(errors="replace")
            raise MailboxError(f"{what} refused: {response.result} {text}")
        return response

    async def connect(self) -> None:
        s = self.settings
        if s.tls == "ssl":
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(host=s.host, port=s.port, timeout=s.command_timeout_s)
            client.protocol.conn_lost_cb = self._on_lost
        else:
            client = aioimaplib.IMAP4(
                host=s.host, port=s.port, timeout=s.command_timeout_s, conn_lost_cb=self._on_lost
            )
        self._client = client
        try:
            await self._guard(client.wait_hello_from_server(), "greeting")
        except OSError as exc:
            raise MailboxLost(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        await self._ok(client.login(s.user, s.password), f"login as {s.user}")
        selected = await self._ok(client.select(s.mailbox), f"select {s.mailbox}")
        blob = b"\n".join(bytes(line) for line in selected.lines)
        match = _UIDVALIDITY.search(blob)
        if match is None:
            raise MailboxError(f"select {s.mailbox}: server sent no UIDVALIDITY")
        self.uidvalidity = int(match.group(1))
        permanent = _PERMANENT.search(blob)
        if permanent is not None and b"\\*" not in permanent.group(1) and s.ack_keyword.startswith("$"):
            self.ack_flag = "\\Flagged"
        self.can_idle = client.has_capability("IDLE")

    async def unacknowledged(self, from_uid: int, *, refresh: bool = False) -> list[int]:
        """UIDs from ``from_uid`` on that do not carry the acknowledgement flag yet, ascending.

        ``refresh`` sends a NOOP pipelined before the SEARCH, so mail that arrived since the last
        command is in the server's view when it searches (needed when not coming out of IDLE).
        """
        flag_test = "UNFLAGGED" if self.ack_flag == "\\Flagged" else f"UNKEYWORD {self.ack_flag}"
        search = self.client.uid_search(f"UID {max(from_uid, 1)}:* {flag_test}", charset=None)
        if refresh:
            _, response = await self._guard(asyncio.gather(self.client.noop(), search), "noop and search")
            if response.result != "OK":
                raise MailboxError(f"search refused: {response.result} {response.lines[-1:]!r}")
        else:
            response = await self._ok(search, "search")
        uids: set[int] = set()
        for line in response.lines[:-1]:
            uids.update(int(token) for token in bytes(line).split() if token.isdigit())
        return sorted(uid for uid in uids if uid >= from_uid)

    async def fetch(self, uids: list[int]) -> list[MailboxMessage]:
        response = await self._ok(self.client.uid("fetch", uid_set(uids), "(UID BODY.PEEK[])"), "fetch")
        wanted = set(uids)
        return [
            MailboxMessage(self.uidvalidity, uid, raw)
            for uid, raw in sorted(parse_fetch(response.lines))
            if uid in wanted
        ]

    async def acknowledge(self, uids: list[int]) -> None:
        """Flag ``uids`` as stored by the engine (so they are never fetched again)."""
        await self._ok(
            self.client.uid("store", uid_set(uids), "+FLAGS.SILENT", f"({self.ack_flag})"), "store flags"
        )

    async def wait_for_news(self, timeout: float) -> None:
        """IDLE until the server reports a change or ``timeout`` passes, then leave IDLE."""
        client = self.client
        queue = client.protocol.idle_queue
        while not queue.empty():
            queue.get_nowait()
        idle = await self._guard(client.idle_start(timeout=timeout), "IDLE")
        try:
            await self._guard(client.wait_server_push(timeout=timeout + 5), "IDLE wait")
        except MailboxLost as exc:
            if not isinstance(exc.__cause__, TimeoutError):
                raise
        if client.has_pending_idle():
            client.idle_done()
        await self._guard(asyncio.wait_for(idle, self.settings.command_timeout_s), "IDLE done")

    async def append(self, mailbox: str, raw: bytes, flags: str = "\\Seen") -> None:
        response = await self._guard(self.client.append(raw, mailbox=mailbox, flags=flags), f"append to {mailbox}")
        if response.result != "OK" and b"TRYCREATE" in b" ".join(bytes(line) for line in response.lines):
            await self._ok(self.client.create(mailbox), f"create {mailbox}")
            response = await self._guard(self.client.append(raw, mailbox=mailbox, flags=flags), f"append to {mailbox}")
        if response.result != "OK":
            raise MailboxError(f"append to {mailbox} refused: {response.lines[-1:]!r}")

    async def close(self) -> None:
        """Log out politely if the connection still stands; never raises."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if not self._lost.is_set():
                await asyncio.wait_for(client.logout(), 2.0)
        except Exception:  # noqa: BLE001 - closing a dead session must not fail
            pass
        transport = client.protocol.transport
        if transport is not None:
            transport.close()
