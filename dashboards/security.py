"""What every answer and every cookie-authenticated write go through: a browser's state change must come
from the gateway's own pages as JSON (no cross-site form or fetch rides on the session cookie), and every
answer tells the browser to run only the gateway's own scripts, never to sniff types, never to frame the
pages and to keep the address to itself."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from dashboards.context import gateway
from dashboards.errors import ApiError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
ALWAYS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def cookie_authenticated(request: web.Request) -> bool:
    """The session cookie is the request's credential (a bearer token or an API key is not sent by a
    browser on its own, so it needs no origin check)."""
    if request.headers.get("Authorization", "")[:7].lower() == "bearer ":
        return False
    return bool(request.cookies.get(gateway(request).settings.session_cookie))


def _origin(request: web.Request) -> str | None:
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc.lower()
    referer = request.headers.get("Referer")
    return urlsplit(referer).netloc.lower() if referer else None


def check_cookie_write(request: web.Request) -> None:
    """A write on the session cookie comes from the gateway's own pages (``Origin``, else ``Referer``) and
    as JSON, which no cross-site form can send."""
    if request.method in SAFE_METHODS or not cookie_authenticated(request):
        return
    if _origin(request) != request.host.lower():
        raise ApiError(403, "cross_origin")
    if request.content_type != "application/json":
        raise ApiError(415, "json_required")


def session_cookie_secure(request: web.Request) -> bool:
    """The session cookie is ``Secure`` when the gateway is reached over TLS, itself or behind a proxy."""
    return request.secure or gateway(request).settings.behind_tls_proxy


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in ALWAYS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
