"""Asking entity actors from a request: refusals the actors raise become clear 4xx answers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.runtime.host import EntityNotFound
from actors.runtime.ref import ActorRef
from dashboards.context import gateway
from dashboards.errors import ApiError, reason

ASK_TIMEOUT_S = 10.0


async def ask(request: web.Request, ref: ActorRef, message: Any, timeout_s: float = ASK_TIMEOUT_S) -> Any:
    try:
        return await gateway(request).services.system.ask(ref, message, timeout_s=timeout_s)
    except EntityNotFound:
        raise ApiError(404, "not_found", ref.kind) from None
    except LookupError as exc:
        raise ApiError(409, "no_longer_open", reason(exc)) from None
    except PermissionError as exc:
        raise ApiError(403, "forbidden", reason(exc)) from None
    except ValueError as exc:
        raise ApiError(409, "refused", reason(exc)) from None
