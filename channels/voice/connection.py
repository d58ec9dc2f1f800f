"""One AMI session over asyncio: greeting, login, actions matched by ActionID, event lists, events.

Why not pyst2's own connection.  pyst2 0.5.1 (``asterisk.manager.Manager``) is kept for what it does
well, composing actions (:mod:`channels.voice.actions`), but its reading path is replaced here,
because on real traffic it:

- reads the socket one byte per ``recv`` (``makefile(buffering=0)`` iterated line by line), which
  caps it far below the 5,000 events/s the channel must ingest: bench/bench_ami.py measured 292 to
  1,126 events/s for pyst2 against 13,800 to 29,900 events/s for this codec plus the call tracker,
  in the same runs on the same loaded 2-core machine;
- crashes its message thread on any ``ChanVariable`` header (``dict.has_key``, Python 2 only), which
  Asterisk sends on every event once ``channelvars`` is set in manager.conf; the thread dies silently
  and events stop;
- glues every message after a ``Status`` response ("Channel status will follow") into one until a
  line mentions ``StatusComplete``, so the calls that happen during a reconcile are lost;
- hands responses out in arrival order instead of by ActionID, and waits for them without a
  timeout, so one lost response hangs every later action and a PBX that stops answering pings is
  never noticed;
- starts its threads in ``__init__`` (a ``Manager`` can connect only once) and shares a mutable
  default dict between ``send_action`` calls.

This module fixes all of that at the edge, without threads: the decoder is incremental, responses
resolve futures by ActionID, every action has a timeout, event lists (CoreShowChannels, Status) are
collected by ActionID while unrelated events keep flowing, and any transport failure ends the
session with :class:`AmiConnectionLost` so the channel reconnects.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from asterisk.manager import ManagerAuthException, ManagerSocketException

from channels.base import ChannelError
from channels.voice.codec import AmiDecoder, AmiFrameError, AmiGreeting, AmiMessage, encode_action

log = logging.getLogger(__name__)

_READ_SIZE = 256 * 1024
_session_numbers = itertools.count(1)


class AmiConnectionLost(ChannelError, ManagerSocketException):
    """The AMI session ended: the peer closed, the socket failed or a ping went unanswered."""


class AmiAuthError(ChannelError, ManagerAuthException):
    """The PBX refused the login."""


class AmiActionError(ChannelError):
    """The PBX answered an action with ``Response: Error``."""

    def __init__(self, action: str, response: AmiMessage) -> None:
        super().__init__(f"AMI {action} failed: {response.get('message') or response.name}")
        self.action = action
        self.response = response

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.action, self.response)


class AmiActionTimeout(ChannelError):
    """No response to an action within the timeout."""


class _EventList:
    __slots__ = ("events", "future")

    def __init__(self, future: asyncio.Future[list[AmiMessage]]) -> None:
        self.events: list[AmiMessage] = []
        self.future = future


class AmiConnection:
    """A logged-in AMI session.  Events go to ``on_event`` in arrival order; frames that are not AMI go
    to ``on_bad_frame`` (with their raw bytes) and the session carries on."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        on_event: Callable[[AmiMessage], None],
        on_bad_frame: Callable[[AmiFrameError], None],
        action_timeout: float = 10.0,
        max_frame: int = 256 * 1024,
        wanted: Callable[[bytes], bool] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._on_event = on_event
        self._on_bad_frame = on_bad_frame
        self._action_timeout = action_timeout
        self._decoder = AmiDecoder(max_frame=max_frame, wanted=wanted)
        self._action_ids = (f"sb{next(_session_numbers)}-{n}" for n in itertools.count(1))
        self._pending: dict[str, asyncio.Future[AmiMessage]] = {}
        self._lists: dict[str, _EventList] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._greeting: asyncio.Future[AmiGreeting] | None = None
        self._closed: asyncio.Future[BaseException] | None = None
        self.greeting = ""

    async def open(self, username: str, secret: str, *, timeout: float) -> None:
        """Connect, read the greeting and log in; raises :class:`AmiAuthError` or
        :class:`AmiConnectionLost`."""
        loop = asyncio.get_running_loop()
        self._greeting = loop.create_future()
        self._greeting.add_done_callback(_retrieve)
        self._closed = loop.create_future()
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port, limit=_READ_SIZE), timeout
            )
        except (OSError, TimeoutError) as exc:
            raise AmiConnectionLost(f"cannot connect to AMI at {self._host}:{self._port}: {exc!r}") from exc
        self._read_task = loop.create_task(self._read_loop(), name=f"ami-read-{self._host}:{self._port}")
        try:
            greeting = await asyncio.wait_for(asyncio.shield(self._greeting), timeout)
        except TimeoutError as exc:
            self.close()
            raise AmiConnectionLost(f"no AMI greeting from {self._host}:{self._port} within {timeout}s") from exc
        if not greeting.is_asterisk:
            self.close()
            raise AmiConnectionLost(f"peer at {self._host}:{self._port} is not AMI: greeting {greeting.text!r}")
        self.greeting = greeting.text
        response = await self.action({"Action": "Login", "Username": username, "Secret": secret, "Events": "on"})
        if response.name != "Success":
            self.close()
            raise AmiAuthError(f"AMI login as {username!r} refused: {response.get('message') or response.name}")

    @property
    def events_skipped(self) -> int:
        """Events declined by ``wanted`` before parsing."""
        return self._decoder.skipped

    @property
    def is_open(self) -> bool:
        return self._closed is not None and not self._closed.done()

    async def action(self, fields: Mapping[str, object], *, timeout: float | None = None) -> AmiMessage:
        """Send an action and return its response (``Success`` or ``Error``: the caller judges)."""
        action_id = self._send(fields)
        future: asyncio.Future[AmiMessage] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        try:
            return await self._await(future, fields, timeout)
        finally:
            self._pending.pop(action_id, None)

    async def checked_action(self, fields: Mapping[str, object], *, timeout: float | None = None) -> AmiMessage:
        """Like :meth:`action`, raising :class:`AmiActionError` on ``Response: Error``."""
        response = await self.action(fields, timeout=timeout)
        if response.name == "Error":
            raise AmiActionError(str(fields.get("Action")), response)
        return response

    async def event_list(self, fields: Mapping[str, object], *, timeout: float | None = None) -> list[AmiMessage]:
        """Send a list action (CoreShowChannels, Status) and return the events it produced."""
        action_id = self._send(fields)
        entry = _EventList(asyncio.get_running_loop().create_future())
        self._lists[action_id] = entry
        try:
            return await self._await(entry.future, fields, timeout)
        finally:
            self._lists.pop(action_id, None)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._read_task is not None and not self._read_task.done():
            self._read_task.cancel()
        self._fail(AmiConnectionLost("AMI session closed"))

    async def wait_closed(self) -> BaseException:
        """Wait until the session ends; returns why."""
        assert self._closed is not None, "open() first"
        return await asyncio.shield(self._closed)

    def _send(self, fields: Mapping[str, object]) -> str:
        if not self.is_open or self._writer is None:
            raise AmiConnectionLost("AMI session is not open")
        action_id = next(self._action_ids)
        self._writer.write(encode_action({**fields, "ActionID": action_id}))
        return action_id

    async def _await(self, future: asyncio.Future, fields: Mapping[str, object], timeout: float | None):  # noqa: ANN202
        try:
            return await asyncio.wait_for(future, timeout or self._action_timeout)
        except TimeoutError as exc:
            raise AmiActionTimeout(f"no response to AMI {fields.get('Action')} within {timeout or self._action_timeout}s") from exc

    async def _read_loop(self) -> None:
        assert self._reader is not None
        reason: BaseException
        try:
            while True:
                data = await self._reader.read(_READ_SIZE)
                if not data:
                    pending = self._decoder.pending
                    if pending:
                        log.warning("AMI peer %s:%s closed mid-message; raw bytes %r", self._host, self._port, pending[:4096])
                    reason = AmiConnectionLost(f"AMI peer {self._host}:{self._port} closed the connection")
                    break
                for item in self._decoder.feed(data):
                    self._dispatch(item)
        except asyncio.CancelledError:
            reason = AmiConnectionLost("AMI session closed")
        except OSError as exc:
            reason = AmiConnectionLost(f"AMI socket error: {exc!r}")
        except Exception as exc:  # noqa: BLE001 - a bug in a handler must end the session, not hang it
            log.exception("AMI read loop failed")
            reason = AmiConnectionLost(f"AMI read loop failed: {exc!r}")
        if self._writer is not None:
            self._writer.close()
        self._fail(reason)

    def _dispatch(self, item: AmiMessage | AmiGreeting | AmiFrameError) -> None:
        if isinstance(item, AmiMessage):
            action_id = item.headers.get("actionid")
            if action_id is not None:
                if action_id in self._lists:
                    self._collect(self._lists[action_id], item)
                    return
                future = self._pending.get(action_id)
                if future is not None and not item.is_event:
                    if not future.done():
                        future.set_result(item)
                    return
            if item.is_event:
                self._on_event(item)
            else:
                log.info("AMI response for no waiting action: %r", item.raw[:1024])
        elif isinstance(item, AmiGreeting):
            if self._greeting is not None and not self._greeting.done():
                self._greeting.set_result(item)
        else:
            self._on_bad_frame(item)

    @staticmethod
    def _collect(entry: _EventList, item: AmiMessage) -> None:
        if entry.future.done():
            return
        if not item.is_event:
            if item.name == "Error":
                entry.future.set_exception(AmiActionError("list", item))
            return
        if item.headers.get("eventlist", "").lower() == "complete" or item.name.endswith("Complete"):
            entry.future.set_result(entry.events)
        else:
            entry.events.append(item)

    def _fail(self, reason: BaseException) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(reason)
        for future in list(self._pending.values()):
            if not future.done():
                future.set_exception(reason)
        for entry in list(self._lists.values()):
            if not entry.future.done():
                entry.future.set_exception(reason)
        if self._greeting is not None and not self._greeting.done():
            self._greeting.set_exception(reason)


def _retrieve(future: asyncio.Future) -> None:
    """Mark a failure as seen: nobody awaits the greeting once the session is up or given up."""
    if not future.cancelled():
        future.exception()
