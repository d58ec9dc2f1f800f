"""Request middlewares: who is asking (session cookie or bearer token) and how refusals look (JSON with
a code and a localised message; engine and database trouble as 503/504 asking the client to retry)."""

from __future__ import annotations

import asyncio
import logging

import psycopg
from aiohttp import web
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dashboards.api import json_response
from dashboards.context import AUTH_FAILURE, PRINCIPAL, TOKEN, gateway
from dashboards.errors import ApiError, safe_detail
from dashboards.schema import check_address

log = logging.getLogger("dashboards.errors")

RETRY_AFTER_S = "2"


def session_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.cookies.get(gateway(request).settings.session_cookie) or None


@web.middleware
async def authenticate(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    token = session_token(request)
    if token is not None:
        who = await gateway(request).sessions.resolve(token)
        if who is None:
            request[AUTH_FAILURE] = "session_expired"
        else:
            request[PRINCIPAL] = who
            request[TOKEN] = token
    return await handler(request)


def error_response(request: web.Request, status: int, code: str, detail: str | None = None,
                   **extra: object) -> web.Response:
    gw = gateway(request)
    lang = gw.locales.pick(request)
    body = {"error": code, "message": gw.locales.text(lang, f"error.{code}"), **extra}
    if detail := safe_detail(detail):
        body["detail"] = detail
    headers = {"Retry-After": RETRY_AFTER_S} if status in (503, 504) else None
    if "retry_after" in extra:
        headers = {"Retry-After": str(extra["retry_after"])}
    return json_response(body, status=status, headers=headers)


@web.middleware
async def refuse_clearly(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    try:
        check_address(request)
        return await handler(request)
    except ApiError as exc:
        return error_response(request, exc.status, exc.code, exc.detail, **exc.extra)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status, "bad_request")
        response = error_response(request, exc.status, code)
        if "Allow" in exc.headers:  # a 405 names the methods the resource has (RFC 9110)
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except DataError as exc:  # a value the database cannot take (an id past its column's range, say)
        log.warning("database refused a value of %s %s: %s", request.method, request.path, exc.orig)
        return error_response(request, 400, "bad_request")
    except (OperationalError, PoolTimeout, DBAPIError, ConnectionError, psycopg.OperationalError) as exc:
        if isinstance(exc, DBAPIError) and not exc.connection_invalidated and not isinstance(exc, OperationalError):
            log.exception("database refused %s %s", request.method, request.path)
            return error_response(request, 500, "internal")
        log.warning("database unavailable for %s %s: %s", request.method, request.path, type(exc).__name__)
        return error_response(request, 503, "database_unavailable")
    except TimeoutError:
        log.warning("engine did not answer %s %s in time", request.method, request.path)
        return error_response(request, 504, "engine_timeout")
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(request, 500, "internal")
