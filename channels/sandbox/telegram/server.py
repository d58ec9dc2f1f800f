"""An aiohttp Bot API server: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``.

Accepts parameters the ways the Bot API does (query string, ``application/json``,
``x-www-form-urlencoded``, ``multipart/form-data`` with uploaded files) and answers
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``.
With a webhook set, updates are POSTed one by one with the ``X-Telegram-Bot-Api-Secret-Token``
header, kept and retried until the receiver answers 2xx; a method in the webhook's answer body
(``{"method": "answerCallbackQuery", ...}``) is executed, as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from channels.sandbox.telegram.state import BotApiError, BotApiState

log = logging.getLogger(__name__)

JSON_PARAMS = {"reply_markup", "allowed_updates"}
Method = Callable[[dict[str, Any]], Awaitable[Any]]


class BotApiServer:
    """The HTTP face of :class:`BotApiState` for one bot token."""

    def __init__(self, token: str = "7000000001:SANDBOX-token") -> None:
        self.token = token
        self.state = BotApiState(bot_id=int(token.split(":", 1)[0]))
        self.webhook: dict[str, Any] | None = None
        self.webhook_failures = 0
        #: When set, ``getMe`` answers with these fields only, as a minimal Bot API server or proxy does.
        self.get_me_fields: tuple[str, ...] | None = None
        self._runner: web.AppRunner | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""
        self._methods: dict[str, Method] = {
            "getme": self._get_me, "getupdates": self._get_updates, "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook, "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message, "sendphoto": self._send_photo,
            "senddocument": self._send_document, "answercallbackquery": self._answer_callback_query,
            "editmessagereplymarkup": self._edit_reply_markup, "getfile": self._get_file,
            "logout": self._true, "close": self._true,
        }

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
        self.url = f"http://{bound[0]}:{bound[1]}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self._stop_pusher()
        self.state.wake()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- HTTP -------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = self._methods.get(request.match_info["method"].lower())
        if method is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            params = await _read_params(request)
            result = await method(params)
        except ConnectionResetError:
            log.info("telegram sandbox: %s: the client went away mid-request", request.match_info["method"])
            return web.Response(status=400)
        except BotApiError as exc:
            return web.json_response({"ok": False, "error_code": exc.code, "description": exc.description},
                                     status=exc.code)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": f"Bad Request: {exc}"}, status=400)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        stored = self.state.file_by_path(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None or stored.data is None:
            raise web.HTTPNotFound()
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # --- methods ----------------------------------------------------------------------------------

    async def _true(self, params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        me = {**self.state.bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
              "supports_inline_queries": False}
        if self.get_me_fields is not None:
            me = {key: value for key, value in me.items() if key in self.get_me_fields}
        return me

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                   "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset", 0))
        if offset > 0:
            self.state.confirm_below(offset)
        limit = max(1, min(100, int(params.get("limit", 100))))
        allowed = params.get("allowed_updates") or None
        timeout = float(params.get("timeout", 0))
        pending = self.state.pending(allowed, limit)
        if not pending and timeout > 0:
            await self.state.wait_for_updates(timeout)
            pending = self.state.pending(allowed, limit)
        return pending

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        await self._stop_pusher()
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self.state.updates.clear()
        url = str(params.get("url", ""))
        self.webhook = {"url": url, "secret_token": str(params.get("secret_token", "")),
                        "allowed_updates": params.get("allowed_updates") or None} if url else None
        if self.webhook is not None:
            self._pusher = asyncio.create_task(self._push_updates(), name="telegram-sandbox-webhook")
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        await self._stop_pusher()
        self.webhook = None
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self.state.updates.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.state.updates)}

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        if not text:
            raise BotApiError(400, "Bad Request: message text is empty")
        content: dict[str, Any] = {"text": text}
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        return self.state.bot_message(int(params["chat_id"]), content)

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._upload(params, "photo")
        photo = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.size,
                  "width": 1280, "height": 960}]
        return self.state.bot_message(int(params["chat_id"]), self._with_caption(params, {"photo": photo}))

    async def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._upload(params, "document")
        upload = params.get("document")
        name = upload.filename if isinstance(upload, _Upload) else "document"
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                    "file_name": name, "file_size": stored.size}
        return self.state.bot_message(int(params["chat_id"]), self._with_caption(params, {"document": document}))

    def _upload(self, params: dict[str, Any], name: str) -> Any:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, _Upload):
            return self.state.store_file(value.data)
        if isinstance(value, str) and value in self.state.files:
            return self.state.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self.state.store_file(value.encode())
        raise BotApiError(400, f"Bad Request: there is no {name} in the request")

    @staticmethod
    def _with_caption(params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        if params.get("caption"):
            content["caption"] = str(params["caption"])
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        return content

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params["callback_query_id"])
        if query_id not in self.state.callback_queries:
            raise BotApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.state.answered_callbacks.append(query_id)
        return True

    async def _edit_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.state.find_sent(int(params["chat_id"]), int(params["message_id"]))
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.state.get_file(str(params["file_id"]))
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": stored.size, "file_path": stored.path}

    # --- webhook delivery -------------------------------------------------------------------------

    async def _stop_pusher(self) -> None:
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None

    async def _push_updates(self) -> None:
        assert self.webhook is not None and self._session is not None
        while True:
            pending = self.state.pending(self.webhook["allowed_updates"], 1)
            if not pending:
                await self.state.wait_for_updates(1.0)
                continue
            update = pending[0]
            if await self._post_update(update):
                self.state.confirm_below(update["update_id"] + 1)
                self.webhook_failures = 0
            else:
                self.webhook_failures += 1
                await asyncio.sleep(min(2.0, 0.05 * 2 ** min(self.webhook_failures, 6)))

    async def _post_update(self, update: dict[str, Any]) -> bool:
        assert self.webhook is not None and self._session is not None
        headers = {"Content-Type": "application/json"}
        if self.webhook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        try:
            async with self._session.post(self.webhook["url"], data=json.dumps(update), headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=30)) as response:
                body = await response.read()
                if response.status >= 300:
                    log.info("telegram sandbox: webhook answered %s for update %s", response.status,
                             update["update_id"])
                    return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("telegram sandbox: webhook unreachable (%s)", exc)
            return False
        await self._run_reply_method(body)
        return True

    async def _run_reply_method(self, body: bytes) -> None:
        try:
            reply = json.loads(body) if body else None
        except ValueError:
            return
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            method = self._methods.get(reply["method"].lower())
            if method is not None:
                with contextlib.suppress(BotApiError, KeyError, ValueError):
                    await method({k: v for k, v in reply.items() if k != "method"})


class _Upload:
    """A file part of a multipart request."""

    __slots__ = ("data", "filename")

    def __init__(self, filename: str, data: bytes) -> None:
        self.filename = filename
        self.data = data


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    params[part.name] = _Upload(part.filename, bytes(await part.read()))
                else:
                    params[part.name] = await part.text()
        else:
            params.update(await request.post())
    for name in JSON_PARAMS:
        if isinstance(params.get(name), str):
            params[name] = json.loads(params[name])
    return params
