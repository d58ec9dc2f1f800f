"""An aiohttp Viber REST server (``/pa/set_webhook``, ``/pa/send_message``, ``/pa/get_account_info``)
and the callback sender that signs bodies as Viber does.

Shapes and status codes follow https://developers.viber.com/docs/api/rest-bot-api/ : requests carry
``auth_token`` in the body or the ``X-Viber-Auth-Token`` header; answers carry ``status`` (0 ok,
1 invalidUrl, 2 invalidAuthToken, 3 badData, 5 receiverNotRegistered, 6 receiverNotSubscribed) and
``status_message``.  Callbacks are POSTed with ``X-Viber-Content-Signature``: the hex HMAC-SHA256 of
the raw body keyed with the account's token.  ``set_webhook`` first sends a ``webhook`` callback and
fails with status 1 unless the receiver answers 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

STATUS_MESSAGES = {0: "ok", 1: "invalidUrl", 2: "invalidAuthToken", 3: "badData",
                   5: "receiverNotRegistered", 6: "receiverNotSubscribed"}
CHAT_HOSTNAME = "SN-CHAT-05_"


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """What the bot's webhook answered to one callback."""

    status: int
    body: bytes
    payload: dict[str, Any]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(slots=True)
class ViberAccount:
    """What the REST server knows about the bot account and its users."""

    token: str
    name: str = "Switchboard"
    webhook_url: str = ""
    event_types: list[str] = field(default_factory=list)
    subscribed: set[str] = field(default_factory=set)
    known_users: set[str] = field(default_factory=set)
    sent: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    media: dict[str, bytes] = field(default_factory=dict)


class _Refusal(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(STATUS_MESSAGES[status])
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.status,)


class ViberRestServer:
    """The REST side plus the signed callback sender."""

    def __init__(self, token: str = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f") -> None:
        self.account = ViberAccount(token=token)
        self.retry_attempts = 10
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tokens = itertools.count(5_491_272_817_120_358_401)

    @property
    def api_url(self) -> str:
        """The REST base to configure the channel with (``<url>/pa``)."""
        return f"{self.url}/pa"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/pa/{method}", self._api)
        app.router.add_get("/media/{name}", self._media)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
        self.url = f"http://{bound[0]}:{bound[1]}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def next_token(self) -> int:
        return next(self._tokens)

    # --- REST -------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read() or b"{}")
            if not isinstance(body, dict):
                raise _Refusal(3)
            token = request.headers.get("X-Viber-Auth-Token") or body.get("auth_token")
            if token != self.account.token:
                raise _Refusal(2)
            method = request.match_info["method"]
            if method == "set_webhook":
                result = await self._set_webhook(body)
            elif method == "send_message":
                result = self._send_message(body)
            elif method == "get_account_info":
                result = self._account_info()
            else:
                raise _Refusal(3)
        except ValueError:
            result = {"status": 3, "status_message": STATUS_MESSAGES[3]}
        except _Refusal as refusal:
            result = {"status": refusal.status, "status_message": STATUS_MESSAGES[refusal.status]}
        return web.json_response(result)

    async def _media(self, request: web.Request) -> web.Response:
        data = self.account.media.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="application/octet-stream")

    async def _set_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        url = str(body.get("url", ""))
        events = list(body.get("event_types") or ["delivered", "seen", "failed", "subscribed", "unsubscribed",
                                                  "conversation_started"])
        if url:
            check = {"event": "webhook", "timestamp": now_ms(), "chat_hostname": CHAT_HOSTNAME,
                     "message_token": self.next_token()}
            result = await self.post_callback(check, url=url, attempts=1)
            if result.status != 200:
                raise _Refusal(1)
        self.account.webhook_url = url
        self.account.event_types = events
        return {"status": 0, "status_message": "ok", "event_types": events}

    def _send_message(self, body: dict[str, Any]) -> dict[str, Any]:
        receiver = body.get("receiver")
        if not isinstance(receiver, str) or not isinstance(body.get("sender"), dict) \
                or not body["sender"].get("name") or (body.get("type") is None and not body.get("keyboard")):
            raise _Refusal(3)
        if body.get("type") == "text" and not body.get("text"):
            raise _Refusal(3)
        if receiver not in self.account.known_users:
            raise _Refusal(5)
        if receiver not in self.account.subscribed:
            raise _Refusal(6)
        token = self.next_token()
        message = {k: v for k, v in body.items() if k != "auth_token"}
        self.account.sent.setdefault(receiver, []).append({**message, "message_token": token})
        return {"status": 0, "status_message": "ok", "message_token": token, "chat_hostname": CHAT_HOSTNAME,
                "billing_status": 1}

    def _account_info(self) -> dict[str, Any]:
        return {"status": 0, "status_message": "ok", "id": "pa:75346594275468546724",
                "name": self.account.name, "uri": "switchboard", "icon": "", "background": "",
                "category": "Utilities", "subcategory": "Gas", "location": {"lon": 30.5234, "lat": 50.4501},
                "country": "UA", "webhook": self.account.webhook_url, "event_types": self.account.event_types,
                "subscribers_count": len(self.account.subscribed), "members": []}

    # --- callbacks --------------------------------------------------------------------------------

    def sign(self, body: bytes) -> str:
        return hmac.new(self.account.token.encode(), body, hashlib.sha256).hexdigest()

    async def post_callback(self, payload: dict[str, Any], *, url: str | None = None, signature: str | None = None,
                            attempts: int | None = None) -> CallbackResult:
        """POST one signed callback; server errors and connection failures are retried with backoff."""
        assert self._session is not None, "start() the sandbox first"
        target = url or self.account.webhook_url
        if not target:
            raise RuntimeError("no webhook is set")
        try:
            body = json.dumps(payload, ensure_ascii=False).encode()
        except UnicodeEncodeError:  # half a surrogate pair has no UTF-8: sent escaped, as JSON allows
            body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json",
                   "X-Viber-Content-Signature": self.sign(body) if signature is None else signature}
        if signature == "":
            del headers["X-Viber-Content-Signature"]
        status, answer = 0, b""
        for attempt in range(attempts or self.retry_attempts):
            try:
                async with self._session.post(target, data=body, headers=headers) as response:
                    status, answer = response.status, await response.read()
            except aiohttp.ClientError as exc:
                log.info("viber sandbox: webhook unreachable (%s)", exc)
                status, answer = 0, b""
            if 0 < status < 500:
                break
            await asyncio.sleep(min(1.0, 0.05 * 2 ** attempt))
        return CallbackResult(status=status, body=answer, payload=payload)


def now_ms() -> int:
    return int(time.time() * 1000)
