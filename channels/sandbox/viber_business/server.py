"""A sandbox Viber Business aggregator serving Infobip's Viber API shape over aiohttp.

``POST /viber/2/messages`` (``Authorization: App <key>``) accepts each message as PENDING, then posts
a signed delivery report and, for a delivered one, a seen report to the message's
``webhooks.delivery.url`` / ``webhooks.seen.url`` (or ``callback_url``).  On demand: numbers that are
not Viber users (UNDELIVERABLE, error EC_NOT_VIBER_USER, in the delivery report), numbers the
aggregator refuses at once (REJECTED in the answer), and failing requests (HTTP 500/400).
Reports are signed with the hex HMAC-SHA256 of the body keyed with the shared secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)


def stamp() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


@dataclass(slots=True)
class SentMessage:
    message_id: str
    to: str
    sender: str
    text: str
    label: str
    delivery_url: str
    seen_url: str


@dataclass(slots=True)
class ReportResult:
    kind: str
    status: int
    payload: dict[str, Any]


@dataclass
class AggregatorState:
    messages: list[SentMessage] = field(default_factory=list)
    not_viber_users: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    failing_requests: list[int] = field(default_factory=list)
    reports: list[ReportResult] = field(default_factory=list)

    def to(self, phone: str) -> list[SentMessage]:
        digits = "".join(ch for ch in phone if ch.isdigit())
        return [m for m in self.messages if m.to == digits]


class ViberBusinessAggregator:
    """``await start()``; configure the channel with ``.url``, ``api_key`` and ``secret``."""

    def __init__(self, api_key: str = "sandbox-viber-business-key", secret: str = "sandbox-callback-secret", *,
                 delivered_after_s: float = 0.05, seen_after_s: float = 0.05, callback_url: str = "",
                 signature_header: str = "X-Signature", repeat_reports: int = 1) -> None:
        self.api_key = api_key
        self.secret = secret
        self.delivered_after_s = delivered_after_s
        self.seen_after_s = seen_after_s
        self.callback_url = callback_url
        self.signature_header = signature_header
        self.repeat_reports = repeat_reports
        self.state = AggregatorState()
        self.url = ""
        self._bulks = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/viber/2/messages", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
        self.url = f"http://{bound[0]}:{bound[1]}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def settle(self) -> None:
        """Wait until every report due so far was posted."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- on demand ----------------------------------------------------------------------------

    def not_a_viber_user(self, phone: str) -> None:
        self.state.not_viber_users.add("".join(ch for ch in phone if ch.isdigit()))

    def reject(self, phone: str) -> None:
        self.state.rejected.add("".join(ch for ch in phone if ch.isdigit()))

    def fail_next_requests(self, *statuses: int) -> None:
        """Answer the next requests with these HTTP statuses (500: a server error, 400: a bad request)."""
        self.state.failing_requests.extend(statuses)

    # --- the API ------------------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"App {self.api_key}":
            return _error(401, "UNAUTHORIZED", "Invalid login details")
        if self.state.failing_requests:
            status = self.state.failing_requests.pop(0)
            return _error(status, "GENERAL_ERROR" if status >= 500 else "BAD_REQUEST", "Sandbox failure on demand")
        try:
            body = json.loads(await request.read())
            messages = body["messages"]
            if not isinstance(messages, list) or not messages:
                raise ValueError("no messages")
        except (ValueError, KeyError, TypeError):
            return _error(400, "BAD_REQUEST", "Invalid request body")
        answers, bulk = [], f"bulk-{next(self._bulks)}"
        for message in messages:
            try:
                answers.extend(self._accept(message))
            except (KeyError, TypeError, ValueError) as exc:
                return _error(400, "BAD_REQUEST", f"Invalid message: {exc}")
        return web.json_response({"bulkId": bulk, "messages": answers})

    def _accept(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        content = message["content"]
        if content.get("type") != "TEXT" or not content.get("text") or not message.get("sender"):
            raise ValueError("sender and TEXT content with text are required")
        hooks = message.get("webhooks") or {}
        answers = []
        for destination in message["destinations"]:
            to = str(destination["to"])
            message_id = str(destination.get("messageId") or f"sbx-{len(self.state.messages) + 1}")
            if to in self.state.rejected:
                answers.append({"messageId": message_id, "destination": to, "status": {
                    "groupId": 5, "groupName": "REJECTED", "id": 51, "name": "REJECTED_DESTINATION_NOT_REGISTERED",
                    "description": "Destination not registered"}})
                continue
            sent = SentMessage(message_id=message_id, to=to, sender=str(message["sender"]), text=content["text"],
                               label=str((message.get("options") or {}).get("label", "")),
                               delivery_url=(hooks.get("delivery") or {}).get("url") or self.callback_url,
                               seen_url=(hooks.get("seen") or {}).get("url") or self.callback_url)
            self.state.messages.append(sent)
            answers.append({"messageId": message_id, "destination": to, "status": {
                "groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED",
                "description": "Message sent to next instance"}})
            task = asyncio.get_running_loop().create_task(self._report_later(sent))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return answers

    async def _report_later(self, sent: SentMessage) -> None:
        sent_at = stamp()
        await asyncio.sleep(self.delivered_after_s)
        viber_user = sent.to not in self.state.not_viber_users
        if viber_user:
            status = {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET",
                      "description": "Message delivered to handset"}
            error = {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "description": "No Error",
                     "permanent": False}
        else:
            status = {"groupId": 2, "groupName": "UNDELIVERABLE", "id": 4, "name": "UNDELIVERABLE_NOT_DELIVERED",
                      "description": "Message sent not delivered"}
            error = {"groupId": 1, "groupName": "HANDSET_ERRORS", "id": 7001, "name": "EC_NOT_VIBER_USER",
                     "description": "Destination is not a Viber user", "permanent": True}
        report = {"results": [{"bulkId": "", "messageId": sent.message_id, "to": sent.to, "sentAt": sent_at,
                               "doneAt": stamp(), "messageCount": 1, "status": status, "error": error,
                               "channel": "VIBER", "price": {"pricePerMessage": 0.012, "currency": "EUR"}}]}
        for _ in range(self.repeat_reports):
            await self.post_report("delivery", sent.delivery_url, report)
        if viber_user:
            await asyncio.sleep(self.seen_after_s)
            seen = {"results": [{"messageId": sent.message_id, "to": sent.to, "from": sent.sender,
                                 "sentAt": sent_at, "seenAt": stamp()}]}
            for _ in range(self.repeat_reports):
                await self.post_report("seen", sent.seen_url, seen)

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()

    async def post_report(self, kind: str, url: str, payload: dict[str, Any], *, signature: str | None = None,
                          attempts: int = 10) -> ReportResult:
        """POST one report, signed (``signature`` overrides: ``""`` sends none); retried on 5xx and
        connection errors, as the aggregator retries webhooks."""
        assert self._session is not None, "start() the sandbox first"
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        chosen = self.sign(body) if signature is None else signature
        if chosen:
            headers[self.signature_header] = chosen
        status = 0
        for attempt in range(attempts):
            try:
                async with self._session.post(url, data=body, headers=headers) as response:
                    status = response.status
            except aiohttp.ClientError as exc:
                log.info("viber business sandbox: webhook unreachable (%s)", exc)
                status = 0
            if 0 < status < 500:
                break
            await asyncio.sleep(min(1.0, 0.05 * 2 ** attempt))
        result = ReportResult(kind, status, payload)
        self.state.reports.append(result)
        return result


def _error(status: int, code: str, text: str) -> web.Response:
    return web.json_response({"requestError": {"serviceException": {"messageId": code, "text": text}}}, status=status)
