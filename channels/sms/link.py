"""One bound transceiver session over smpplib, bridged to asyncio.

smpplib is blocking, so the session has two threads of its own: a reader that waits on the socket and a
writer that sends what the event loop queued.  Answers to our requests resolve asyncio futures by
sequence number; a ``deliver_sm`` is handed to the event loop and answered only after the loop's
handler has stored it (its return value is the ``deliver_sm_resp`` status).

Around smpplib's edges: the socket timeout it keeps for reading would, when it fired in the middle of
a PDU, throw away the bytes already read and lose the PDU framing; after the bind the socket blocks
without a timeout and liveness is the ``enquire_link`` keeper's job (the channel's).  Its sequence
counter is not thread-safe; ours takes a lock.  Its ``make_pdu`` drops a ``sequence=`` keyword (see
:func:`answer_pdu`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
from smpplib import smpp

from channels.base import ChannelError

log = logging.getLogger(__name__)

ESME_ROK = 0x00
ESME_RX_T_APPN = 0x64
INTERFACE_VERSION = 0x34


class LinkLost(ChannelError):
    """The TCP connection to the SMSC ended; every request without an answer is unanswered."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The SMSC's response to one request."""

    command: str
    status: int
    message_id: str | None = None

    @property
    def status_name(self) -> str:
        return f"{smpplib.consts.DESCRIPTIONS.get(self.status, 'unknown status')} (0x{self.status:02X})"


class _Sequences:
    MAX = 0x7FFFFFFF

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    @property
    def sequence(self) -> int:
        return self._value

    def next_sequence(self) -> int:
        with self._lock:
            self._value = 1 if self._value >= self.MAX else self._value + 1
            return self._value


def answer_pdu(command: str, client: Any, sequence: int, status: int = ESME_ROK, **fields: Any) -> Any:
    """A response PDU to the request numbered ``sequence``.  smpplib's ``make_pdu`` ignores a
    ``sequence=`` keyword once its client has counted one (it keeps the client's current number), so
    the number is set on the PDU afterwards, as smpplib's own client does."""
    pdu = smpp.make_pdu(command, client=client, status=status, **fields)
    pdu.sequence = sequence
    return pdu


DeliverHandler = Callable[[Any], Awaitable[int]]


class SmppLink:
    """``await open()`` binds; ``request()`` sends a PDU and gives the future of its answer."""

    def __init__(self, host: str, port: int, system_id: str, password: str, system_type: str,
                 connect_timeout_s: float, store_timeout_s: float, on_deliver: DeliverHandler) -> None:
        self.client = smpplib.client.Client(host, port, timeout=connect_timeout_s,
                                            sequence_generator=_Sequences(), allow_unknown_opt_params=True,
                                            logger_name="channels.sms.smpplib")
        self._credentials = dict(system_id=system_id, password=password, system_type=system_type,
                                 interface_version=INTERFACE_VERSION, addr_ton=0, addr_npi=0, address_range="")
        self._store_timeout_s = store_timeout_s
        self._on_deliver = on_deliver
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outgoing: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._pending: dict[int, tuple[asyncio.Future[Answer], float]] = {}
        self._answers: list[tuple[int, Answer]] = []
        self._answers_lock = threading.Lock()
        self._answers_scheduled = False
        self.lost = asyncio.Event()
        self.lost_reason = ""

    async def open(self) -> None:
        """Connect and bind as a transceiver; raises :class:`ChannelError` with the SMSC's reason."""
        self._loop = asyncio.get_running_loop()
        try:
            await asyncio.to_thread(self._bind)
        except smpplib.exceptions.PDUError as exc:
            await asyncio.to_thread(self._close_socket)
            raise ChannelError(f"sms: bind refused: {exc.args[0]}") from exc
        except (smpplib.exceptions.ConnectionError, OSError) as exc:
            await asyncio.to_thread(self._close_socket)
            raise ChannelError(f"sms: cannot reach the SMSC at {self.client.host}:{self.client.port} ({exc})") from exc
        threading.Thread(target=self._read, name="smpp-reader", daemon=True).start()
        threading.Thread(target=self._write, name="smpp-writer", daemon=True).start()

    def _bind(self) -> None:
        self.client.connect()
        self.client.bind_transceiver(**self._credentials)
        self.client._socket.settimeout(None)  # see the module's note on smpplib's read timeout

    def request(self, command: str, **fields: Any) -> asyncio.Future[Answer]:
        """Queue one request PDU for the writer; the future gets its answer or :class:`LinkLost`."""
        assert self._loop is not None
        future: asyncio.Future[Answer] = self._loop.create_future()
        if self.lost.is_set():
            future.set_exception(LinkLost(self.lost_reason))
            return future
        pdu = smpp.make_pdu(command, client=self.client, **fields)
        self._pending[pdu.sequence] = (future, time.monotonic())
        self._outgoing.put(pdu.generate())
        return future

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def oldest_wait_s(self) -> float:
        if not self._pending:
            return 0.0
        return time.monotonic() - min(sent for _future, sent in self._pending.values())

    def abort(self, reason: str) -> None:
        """Drop the connection now (no unbind): the reader ends and everything pending is lost."""
        self._mark_lost(reason)
        self._close_socket()

    async def close(self) -> None:
        """Unbind politely (waiting a moment for the answer), then drop the connection."""
        if not self.lost.is_set():
            with contextlib.suppress(ChannelError, TimeoutError):
                await asyncio.wait_for(self.request("unbind"), 2.0)
        self.abort("closed")

    # --- threads ------------------------------------------------------------------------------

    def _write(self) -> None:
        while True:
            batch = [self._outgoing.get()]
            while not self._outgoing.empty() and len(batch) < 256:
                batch.append(self._outgoing.get_nowait())
            ending = None in batch
            data = b"".join(item for item in batch if item is not None)
            try:
                if data:
                    self.client._socket.sendall(data)
                if ending:
                    return
            except (OSError, AttributeError) as exc:
                self._from_thread(self._mark_lost, f"send failed: {exc}")
                return

    def _read(self) -> None:
        reason = "connection closed by the SMSC"
        try:
            while True:
                pdu = self.client.read_pdu()
                if not self._dispatch(pdu):
                    reason = "unbound by the SMSC"
                    break
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError, AttributeError) as exc:
            reason = f"connection lost ({exc or type(exc).__name__})"
        except smpplib.exceptions.UnknownCommandError as exc:
            reason = f"unreadable PDU ({exc})"
        self._from_thread(self._mark_lost, reason)
        self._close_socket()

    def _dispatch(self, pdu: Any) -> bool:
        command = pdu.command
        if command == "deliver_sm":
            self._reply("deliver_sm_resp", pdu.sequence, self._deliver(pdu))
        elif command == "enquire_link":
            self._reply("enquire_link_resp", pdu.sequence)
        elif command == "unbind":
            self._reply("unbind_resp", pdu.sequence)
            return False
        elif pdu.is_response() or command == "generic_nack":
            message_id = getattr(pdu, "message_id", None)
            if isinstance(message_id, bytes):
                message_id = message_id.decode("latin-1").rstrip("\x00") or None
            self._answer_from_thread(pdu.sequence, Answer(command, int(pdu.status or 0), message_id))
        else:
            log.warning("sms: unexpected %s from the SMSC; answered generic_nack", command)
            self._reply("generic_nack", pdu.sequence, smpplib.consts.SMPP_ESME_RINVCMDID)
        return True

    def _deliver(self, pdu: Any) -> int:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._on_deliver(pdu), self._loop)
        try:
            return future.result(self._store_timeout_s)
        except Exception as exc:  # noqa: BLE001 - any failure to store means "try again later" to the SMSC
            log.error("sms: a deliver_sm could not be stored (%r); the SMSC will deliver it again", exc)
            future.cancel()
            return ESME_RX_T_APPN

    def _reply(self, command: str, sequence: int, status: int = ESME_ROK) -> None:
        self._outgoing.put(answer_pdu(command, self.client, sequence, status).generate())

    def _answer_from_thread(self, sequence: int, answer: Answer) -> None:
        """Answers are handed to the loop in batches: one wake-up of the loop for all that arrived
        while it was busy, not one per PDU."""
        with self._answers_lock:
            self._answers.append((sequence, answer))
            if self._answers_scheduled:
                return
            self._answers_scheduled = True
        self._from_thread(self._take_answers)

    def _take_answers(self) -> None:
        with self._answers_lock:
            answers, self._answers = self._answers, []
            self._answers_scheduled = False
        for sequence, answer in answers:
            self._answered(sequence, answer)

    def _from_thread(self, callback: Callable[..., None], *args: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(callback, *args)

    # --- event loop side ----------------------------------------------------------------------

    def _answered(self, sequence: int, answer: Answer) -> None:
        entry = self._pending.pop(sequence, None)
        if entry is None:
            log.warning("sms: %s for unknown sequence %d ignored", answer.command, sequence)
            return
        if not entry[0].done():
            entry[0].set_result(answer)

    def _mark_lost(self, reason: str) -> None:
        if self.lost.is_set():
            return
        self.lost_reason = reason
        self.lost.set()
        self._outgoing.put(None)
        pending, self._pending = self._pending, {}
        for future, _sent in pending.values():
            if not future.done():
                future.set_exception(LinkLost(reason))

    def _close_socket(self) -> None:
        sock = self.client._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self.client._socket = None
        self.client.state = smpplib.consts.SMPP_CLIENT_STATE_CLOSED
