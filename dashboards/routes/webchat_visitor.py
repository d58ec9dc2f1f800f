"""Who a web-chat visitor is and how much they may do: the ``[webchat]`` settings, the signed visitor
token bound to one thread, and the per-visitor rate limit.

A visitor has no account and the widget holds no secret: the gateway issues a thread id and signs it
(with the visitor's optional name and phone) into a token; every later call presents that token, so a
visitor can write to and read from their own thread only.  The token is stateless (HMAC-SHA256 over the
payload), so any gateway sharing the secret accepts it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboards.errors import ApiError
from dashboards.settings import ApiSource, DashboardConfigError

TOKEN_VERSION = 1
SECRET_FILE = Path("dashboards") / "webchat.secret"
MIN_SECRET_CHARS = 32
ESCAPED_CHAR_BYTES = 6  # a character as JSON may send it: \uXXXX
BODY_OVERHEAD_BYTES = 512


@dataclass(frozen=True, slots=True)
class WebchatSettings:
    """The ``[webchat]`` section of ``config/dashboards.toml``."""

    sources: tuple[str, ...]
    allowed_origins: frozenset[str]
    secret: bytes
    token_ttl_s: float = 30 * 86400
    max_body_bytes: int = 32_768
    max_text_chars: int = 4_000
    messages_per_minute: float = 20
    burst: int = 8
    streams_per_visitor: int = 4
    history_messages: int = 100

    @classmethod
    def load(cls, config_dir: Path, data_dir: Path, api_sources: Mapping[str, ApiSource],
             environ: Mapping[str, str] = os.environ) -> WebchatSettings:
        path = config_dir / "dashboards.toml"
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8")).get("webchat", {})
            sources = tuple(raw.get("sources", ()))
            for name in sources:
                if name not in api_sources or api_sources[name].channel != "webchat":
                    raise ValueError(f"webchat source {name!r} is not an [inbound.sources] entry of channel webchat")
            origins = {str(o).rstrip("/") for o in raw.get("allowed_origins", ())}
            origins |= {o.strip().rstrip("/") for o in environ.get(raw.get("origins_env", ""), "").split(",") if o.strip()}
            max_body_bytes = int(raw.get("max_body_bytes", cls.max_body_bytes))
            max_text_chars = int(raw.get("max_text_chars", cls.max_text_chars))
            if max_body_bytes < max_text_chars * ESCAPED_CHAR_BYTES + BODY_OVERHEAD_BYTES:
                raise ValueError(f"max_body_bytes must hold max_text_chars escaped: at least "
                                 f"{max_text_chars * ESCAPED_CHAR_BYTES + BODY_OVERHEAD_BYTES}")
            return cls(sources=sources, allowed_origins=frozenset(origins),
                       secret=_secret(environ.get(raw.get("token_secret_env", ""), ""), data_dir),
                       token_ttl_s=float(raw.get("token_ttl_hours", 720)) * 3600,
                       max_body_bytes=max_body_bytes, max_text_chars=max_text_chars,
                       messages_per_minute=float(raw.get("messages_per_minute", cls.messages_per_minute)),
                       burst=int(raw.get("burst", cls.burst)),
                       streams_per_visitor=int(raw.get("streams_per_visitor", cls.streams_per_visitor)),
                       history_messages=int(raw.get("history_messages", cls.history_messages)))
        except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
            raise DashboardConfigError(f"{path} [webchat]: {exc}") from exc


def _secret(configured: str, data_dir: Path) -> bytes:
    """The token secret: from the environment when set, else a random one kept in the data directory
    (created once, atomically, so gateways sharing the directory agree on it)."""
    if configured:
        if len(configured) < MIN_SECRET_CHARS:
            raise ValueError(f"the token secret must have at least {MIN_SECRET_CHARS} characters")
        return configured.encode()
    path = data_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(secrets.token_hex(32), encoding="ascii")
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="ascii").strip().encode()


@dataclass(frozen=True, slots=True)
class Visitor:
    """What a valid token says: the source and thread the visitor may use, and who they said they are."""

    source: str
    thread: str
    expires_at: float
    name: str | None = None
    phone: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VisitorTokens:
    """Issues and checks visitor tokens: ``<payload>.<signature>``, both base64url."""

    def __init__(self, secret: bytes, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.ttl_s = ttl_s
        self.clock = clock

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.secret, f"webchat.v{TOKEN_VERSION}.{payload}".encode(), hashlib.sha256).digest())

    def issue(self, source: str, name: str | None = None, phone: str | None = None) -> tuple[Visitor, str]:
        visitor = Visitor(source, secrets.token_urlsafe(16), round(self.clock() + self.ttl_s), name, phone)
        fields = {"v": TOKEN_VERSION, "s": visitor.source, "t": visitor.thread, "e": visitor.expires_at,
                  "n": name, "p": phone}
        payload = _b64(json.dumps({k: v for k, v in fields.items() if v is not None},
                                  ensure_ascii=False, separators=(",", ":")).encode())
        return visitor, f"{payload}.{self._sign(payload)}"

    def check(self, token: str | None) -> Visitor:
        """The visitor a token names; 401 ``invalid_visitor_token`` for a missing, malformed or forged
        token, 401 ``visitor_token_expired`` for an outdated one (the widget then starts a new chat)."""
        payload, _, signature = (token or "").partition(".")
        if not payload or not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            raise ApiError(401, "invalid_visitor_token")
        try:
            fields: dict[str, Any] = json.loads(_unb64(payload))
            visitor = Visitor(str(fields["s"]), str(fields["t"]), float(fields["e"]), fields.get("n"), fields.get("p"))
        except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise ApiError(401, "invalid_visitor_token") from None
        if fields.get("v") != TOKEN_VERSION:
            raise ApiError(401, "invalid_visitor_token", "unknown token version")
        if visitor.expires_at <= self.clock():
            raise ApiError(401, "visitor_token_expired")
        return visitor


class RateLimiter:
    """A token bucket per key (a visitor's thread): ``burst`` messages at once, then ``per_minute``.
    Memory is bounded: past ``max_keys`` the least recently used buckets are forgotten."""

    def __init__(self, per_minute: float, burst: int, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """0 when the key may act now (and it is counted), else the seconds until it may."""
        now = self.clock()
        tokens, at = self.buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            allowed = 0.0
        else:
            self.buckets[key] = (tokens, now)
            allowed = (1 - tokens) / self.rate if self.rate > 0 else float("inf")
        while len(self.buckets) > self.max_keys:
            del self.buckets[next(iter(self.buckets))]
        return allowed
