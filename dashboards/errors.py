"""Errors at the edge: every refusal is JSON with a stable ``error`` code, a message in the user's
language and, where useful, the offending field; never a stack trace."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request refused with ``status``; ``code`` is also the locale key ``error.<code>``."""

    def __init__(self, status: int, code: str, detail: str | None = None, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {detail or ''}")
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra


def bad_request(code: str, detail: str | None = None, **extra: Any) -> ApiError:
    return ApiError(400, code, detail, **extra)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)


def forbidden(permission: str) -> ApiError:
    return ApiError(403, "forbidden", permission)
