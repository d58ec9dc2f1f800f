"""One-click unsubscribe tokens (RFC 8058): the client and channel, signed with the engine's secret, so
the link in a message's ``List-Unsubscribe`` header opts out that client and no other."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


class BadToken(ValueError):
    """A token that was not made with this secret, or is malformed."""


@dataclass(frozen=True, slots=True)
class UnsubscribeRequest:
    client_id: int
    channel: str


def _mac(secret: bytes, payload: str) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:18]).decode()


def make_token(secret: bytes, client_id: int, channel: str) -> str:
    payload = f"{client_id}.{channel}"
    return f"{payload}.{_mac(secret, payload)}"


def read_token(secret: bytes, token: str) -> UnsubscribeRequest:
    client, sep, rest = token.partition(".")
    channel, sep2, mac = rest.partition(".")
    if not (sep and sep2 and client.isdigit() and channel):
        raise BadToken("malformed token")
    if not hmac.compare_digest(mac, _mac(secret, f"{client}.{channel}")):
        raise BadToken("token not signed by this engine")
    return UnsubscribeRequest(int(client), channel)
