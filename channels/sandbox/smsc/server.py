"""A sandbox SMSC speaking SMPP 3.4 over TCP; PDUs are read and written with smpplib's codec.

It checks ``bind_transceiver`` credentials, answers ``submit_sm`` with a message id, sends delivery
receipts (``deliver_sm`` with the receipt bit, the appendix-B text and the ``receipted_message_id`` /
``message_state`` TLVs) after ``receipt_delay_s`` with ``failure_share`` of them UNDELIV, answers
ESME_RTHROTTLED past ``max_submits_per_s``, answers ``enquire_link``, and on demand drops a connection
in the middle of a window or sends mobile-originated messages.  A part is accepted when its
``submit_sm_resp`` is written; parts read but not answered when the connection drops are not.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smpplib import consts, smpp

from channels.sandbox.smsc.state import AcceptedPart, Mailbox

log = logging.getLogger(__name__)

ESME_ROK, ESME_RINVPASWD, ESME_RINVSYSID, ESME_RINVBNDSTS, ESME_RTHROTTLED = 0x00, 0x0E, 0x0F, 0x04, 0x58
STATE_DELIVERED, STATE_UNDELIVERABLE = 2, 5


class _Sequences:
    def __init__(self) -> None:
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


def decode(data: bytes, codec: _Sequences) -> Any:
    return smpp.parse_pdu(data, client=codec, allow_unknown_opt_params=True)


def _text(value: Any) -> str:
    return value.decode("latin-1").rstrip("\x00") if isinstance(value, bytes) else str(value or "")


@dataclass(eq=False)
class EsmeSession:
    """One bound (or binding) client connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    codec: _Sequences = field(default_factory=_Sequences)
    system_id: str = ""
    bound: bool = False
    unanswered: int = 0
    waiting: dict[int, asyncio.Future[int]] = field(default_factory=dict)
    dropping: asyncio.Event = field(default_factory=asyncio.Event)
    split_gap_s: float = 0.0

    def send(self, command: str, sequence: int | None = None, **fields: Any) -> int:
        pdu = smpp.make_pdu(command, client=self.codec, **fields)
        if sequence is not None:  # smpplib's make_pdu ignores the keyword once its codec has counted one
            pdu.sequence = sequence
        data = pdu.generate()
        if self.split_gap_s and command == "deliver_sm":
            gap, self.split_gap_s = self.split_gap_s, 0.0
            self.writer.write(data[:10])
            asyncio.get_running_loop().call_later(gap, self.writer.write, data[10:])
        else:
            self.writer.write(data)
        return pdu.sequence


@dataclass
class _Drop:
    after_accepts: int
    swallow: int


class SmscServer:
    """``await start()``; point the SMS channel at ``host``/``port`` with one of ``accounts``."""

    def __init__(self, accounts: dict[str, str] | None = None, *, receipt_delay_s: float = 0.05,
                 failure_share: float = 0.0, max_submits_per_s: float | None = None, response_delay_s: float = 0.0,
                 repeat_receipts: int = 1, seed: int = 7) -> None:
        self.accounts = accounts or {"switchboard": "sandbox"}
        self.receipt_delay_s = receipt_delay_s
        self.failure_share = failure_share
        self.max_submits_per_s = max_submits_per_s
        self.response_delay_s = response_delay_s
        self.repeat_receipts = repeat_receipts
        self.answer_enquire_link = True
        self.enquire_links = 0
        self.mailbox = Mailbox()
        self.sessions: list[EsmeSession] = []
        self.host, self.port = "127.0.0.1", 0
        self.binds = 0
        self.refused_binds = 0
        self.throttled = 0
        self.max_unanswered = 0
        self.receipts_sent = 0
        self.receipt_states: dict[str, str] = {}
        self._random = random.Random(seed)
        self._ids = itertools.count(0x3A1F0000)
        self._recent: deque[float] = deque()
        self._drop: _Drop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.host, self.port = self._server.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        for session in list(self.sessions):
            session.writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- on demand ----------------------------------------------------------------------------

    def drop_mid_window(self, after_accepts: int = 0, swallow: int = 3) -> None:
        """After ``after_accepts`` more accepted parts, read ``swallow`` more submits without answering
        them, then drop the TCP connection (no unbind), as an SMSC that fails mid-window."""
        self._drop = _Drop(after_accepts, swallow)

    async def send_mo(self, source: str, text: str, destination: str = "GasService", *, split_gap_s: float = 0.0) -> int:
        """A mobile-originated message to the first bound client (in concatenated parts when long);
        returns the last ``deliver_sm_resp`` status.
        ``split_gap_s`` writes the PDU in two halves that far apart, as a slow network delivers it."""
        session = await self._a_bound_session()
        session.split_gap_s = split_gap_s
        try:
            body, coding = text.encode("ascii"), 0x00
        except UnicodeEncodeError:
            body, coding = text.encode("utf-16-be"), 0x08
        limit = 160 if coding == 0x00 else 140
        if len(body) <= limit:
            chunks, esm_class = [body], 0x00
        else:
            size = 153 if coding == 0x00 else 134
            pieces = [body[i:i + size] for i in range(0, len(body), size)]
            reference = next(self._ids) & 0xFF
            chunks = [bytes((5, 0, 3, reference, len(pieces), n)) + piece for n, piece in enumerate(pieces, start=1)]
            esm_class = 0x40
        status = 0
        for chunk in chunks:
            status = await self._deliver(session, source_addr=source.lstrip("+"), source_addr_ton=1, source_addr_npi=1,
                                         destination_addr=destination, esm_class=esm_class, data_coding=coding,
                                         short_message=chunk)
            if status:
                return status
        return status

    async def wait_bound(self, count: int = 1, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.binds < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.binds} binds, expected {count}")
            await asyncio.sleep(0.01)

    async def _a_bound_session(self) -> EsmeSession:
        for _ in range(500):
            bound = [s for s in self.sessions if s.bound]
            if bound:
                return bound[0]
            await asyncio.sleep(0.01)
        raise RuntimeError("no client is bound")

    # --- the session --------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = EsmeSession(reader, writer)
        self.sessions.append(session)
        try:
            while True:
                header = await reader.readexactly(4)
                (length,) = struct.unpack(">L", header)
                pdu = decode(header + await reader.readexactly(length - 4), session.codec)
                if not await self._handle(session, pdu):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.sessions.remove(session)
            for future in session.waiting.values():
                if not future.done():
                    future.cancel()
            writer.transport.abort()

    async def _handle(self, session: EsmeSession, pdu: Any) -> bool:
        command = pdu.command
        if command in ("bind_transceiver", "bind_transmitter", "bind_receiver"):
            self._bind(session, pdu)
        elif not session.bound and command != "enquire_link":
            session.send("generic_nack", sequence=pdu.sequence, status=ESME_RINVBNDSTS)
        elif command == "submit_sm":
            self._submit(session, pdu)
            if session.dropping.is_set():
                return False
        elif command == "enquire_link":
            self.enquire_links += 1
            if self.answer_enquire_link:
                session.send("enquire_link_resp", sequence=pdu.sequence)
        elif command == "unbind":
            session.send("unbind_resp", sequence=pdu.sequence)
            await session.writer.drain()
            return False
        elif command == "deliver_sm_resp":
            future = session.waiting.pop(pdu.sequence, None)
            if future is not None and not future.done():
                future.set_result(int(pdu.status or 0))
        else:
            session.send("generic_nack", sequence=pdu.sequence, status=consts.SMPP_ESME_RINVCMDID)
        await session.writer.drain()
        return True

    def _bind(self, session: EsmeSession, pdu: Any) -> None:
        system_id, password = _text(pdu.system_id), _text(pdu.password)
        reply = f"{pdu.command}_resp"
        if system_id not in self.accounts:
            status = ESME_RINVSYSID
        elif self.accounts[system_id] != password:
            status = ESME_RINVPASWD
        else:
            status = ESME_ROK
        if status != ESME_ROK:
            self.refused_binds += 1
            session.send(reply, sequence=pdu.sequence, status=status)
            return
        session.system_id, session.bound = system_id, True
        self.binds += 1
        session.send(reply, sequence=pdu.sequence, system_id="SandboxSMSC")

    def _submit(self, session: EsmeSession, pdu: Any) -> None:
        drop = self._drop
        if drop is not None and drop.after_accepts <= 0:
            if not session.dropping.is_set() and drop.swallow > 0:
                self._spawn(self._drop_soon(session))
            drop.swallow -= 1
            if drop.swallow <= 0:
                self._drop = None
                session.dropping.set()
            return
        if self._over_rate():
            self.throttled += 1
            session.send("submit_sm_resp", sequence=pdu.sequence, status=ESME_RTHROTTLED)
            return
        session.unanswered += 1
        self.max_unanswered = max(self.max_unanswered, session.unanswered)
        if self.response_delay_s:
            self._spawn(self._answer_later(session, pdu))
        else:
            self._accept(session, pdu)

    async def _drop_soon(self, session: EsmeSession) -> None:
        await asyncio.sleep(0.3)
        self._drop = None
        session.dropping.set()
        session.writer.transport.abort()

    async def _answer_later(self, session: EsmeSession, pdu: Any) -> None:
        await asyncio.sleep(self.response_delay_s)
        if session in self.sessions and not session.dropping.is_set():
            self._accept(session, pdu)

    def _accept(self, session: EsmeSession, pdu: Any) -> None:
        session.unanswered -= 1
        message_id = format(next(self._ids), "x")
        session.send("submit_sm_resp", sequence=pdu.sequence, message_id=message_id)
        part = AcceptedPart(message_id=message_id, source=_text(pdu.source_addr), destination=_text(pdu.destination_addr),
                            source_ton=int(pdu.source_addr_ton or 0), data_coding=int(pdu.data_coding or 0),
                            esm_class=int(pdu.esm_class or 0), short_message=bytes(pdu.short_message or b""))
        self.mailbox.accept(part)
        if self._drop is not None:
            self._drop.after_accepts -= 1
        if int(pdu.registered_delivery or 0) & 0x03:
            self._spawn(self._receipt(part, datetime.now(UTC)))

    def _over_rate(self) -> bool:
        if self.max_submits_per_s is None:
            return False
        now = time.monotonic()
        while self._recent and now - self._recent[0] > 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.max_submits_per_s:
            return True
        self._recent.append(now)
        return False

    # --- receipts -----------------------------------------------------------------------------

    async def _receipt(self, part: AcceptedPart, submitted: datetime) -> None:
        await asyncio.sleep(self.receipt_delay_s)
        failed = self._random.random() < self.failure_share
        stat, state, err = ("UNDELIV", STATE_UNDELIVERABLE, "001") if failed else ("DELIVRD", STATE_DELIVERED, "000")
        self.receipt_states[part.message_id] = stat
        stamp, done = submitted.strftime("%y%m%d%H%M"), datetime.now(UTC).strftime("%y%m%d%H%M")
        text = (f"id:{part.message_id} sub:001 dlvrd:{'000' if failed else '001'} submit date:{stamp} "
                f"done date:{done} stat:{stat} err:{err} text:")
        for _ in range(self.repeat_receipts):
            for _attempt in range(50):
                try:
                    session = await self._a_bound_session()
                    status = await self._deliver(
                        session, source_addr=part.destination, source_addr_ton=1, source_addr_npi=1,
                        destination_addr=part.source, esm_class=0x04, data_coding=0,
                        short_message=text.encode("ascii"), receipted_message_id=part.message_id, message_state=state)
                except (RuntimeError, ConnectionError, asyncio.CancelledError, TimeoutError):
                    status = -1
                if status == ESME_ROK:
                    self.receipts_sent += 1
                    break
                await asyncio.sleep(0.1)

    async def _deliver(self, session: EsmeSession, **fields: Any) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        sequence = session.send("deliver_sm", **fields)
        session.waiting[sequence] = future
        with contextlib.suppress(ConnectionError):
            await session.writer.drain()
        return await asyncio.wait_for(future, 10.0)
