"""viberbot's ``Api``, fixed at the edge.

* The REST base URL is fixed in the library (``VIBER_BOT_API_URL``); here it comes from settings.
* ``verify_signature`` compares with ``==``, which leaks timing; here ``hmac.compare_digest``.
* Every request opened a fresh connection and had no timeout (``requests.post``); here one pooled
  ``requests.Session`` with a timeout, and the ``X-Viber-Auth-Token`` header the current REST API
  documents besides the ``auth_token`` body field the library sends.
* A non-zero ``status`` became a bare ``Exception``; here :class:`ViberApiError` with the status code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import requests
from viberbot import Api, BotConfiguration
from viberbot.api.api_request_sender import ApiRequestSender
from viberbot.api.consts import VIBER_BOT_USER_AGENT
from viberbot.api.message_sender import MessageSender

log = logging.getLogger(__name__)

NOT_SUBSCRIBED = 6
"""Viber's status for a receiver who is not subscribed (``receiverNotSubscribed``)."""


class ViberApiError(Exception):
    """The REST API answered a non-zero ``status`` (or could not be reached: ``status`` is ``None``)."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"viber status {status}: {message}")
        self.status = status
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.status, self.message)


class _PooledRequestSender(ApiRequestSender):
    def __init__(self, api_url: str, configuration: BotConfiguration, timeout_s: float) -> None:
        super().__init__(log, api_url, configuration, VIBER_BOT_USER_AGENT)
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": VIBER_BOT_USER_AGENT,
                                      "X-Viber-Auth-Token": configuration.auth_token,
                                      "Content-Type": "application/json"})
        self._timeout_s = timeout_s

    def post_request(self, endpoint: str, payload: str) -> dict[str, Any]:
        try:
            response = self._session.post(f"{self._viber_bot_api_url}/{endpoint}", data=payload.encode(),
                                          timeout=self._timeout_s)
            response.raise_for_status()
            result = json.loads(response.text)
        except (requests.RequestException, ValueError) as exc:
            raise ViberApiError(None, f"{endpoint} failed: {exc}") from exc
        if not isinstance(result, dict):
            raise ViberApiError(None, f"{endpoint} answered {type(result).__name__}, not an object")
        status = result.get("status")
        if status != 0:
            raise ViberApiError(status if isinstance(status, int) else None,
                                str(result.get("status_message", "unknown error")))
        return result

    def close(self) -> None:
        self._session.close()


class ViberBotApi(Api):
    """viberbot's ``Api`` with a configurable base URL, constant-time signatures and pooled requests."""

    def __init__(self, configuration: BotConfiguration, api_url: str, timeout_s: float) -> None:
        super().__init__(configuration)
        self._request_sender = _PooledRequestSender(api_url.rstrip("/"), configuration, timeout_s)
        self._message_sender = MessageSender(self._logger, self._request_sender, configuration)
        self._key = configuration.auth_token.encode()

    def signature_of(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def verify_signature(self, request_data: bytes, signature: str | None) -> bool:
        if not signature:
            return False
        return hmac.compare_digest(signature.strip().lower().encode(), self.signature_of(request_data).encode())

    def close(self) -> None:
        self._request_sender.close()
