"""Errors at the edge: every refusal is JSON with a stable ``error`` code, a message in the user's
language and, where useful, the offending field; never a stack trace."""

from __future__ import annotations

import re
from functools import partial
from typing import Any


class ApiError(Exception):
    """A request refused with ``status``; ``code`` is also the locale key ``error.<code>``."""

    def __init__(self, status: int, code: str, detail: str | None = None, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {detail or ''}")
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra

    def __reduce__(self) -> tuple[Any, ...]:
        return partial(type(self), **self.extra), (self.status, self.code, self.detail)


def bad_request(code: str, detail: str | None = None, **extra: Any) -> ApiError:
    return ApiError(400, code, detail, **extra)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)


def forbidden(permission: str) -> ApiError:
    return ApiError(403, "forbidden", permission)


_INTERNALS = re.compile(r"Traceback|File \"|\x1b\[|\bpid=|\bip=|\bnode\b|\bray::|actor_?id|\bline \d+|\.py\b|(?:^|\s)/[\w.-]+/"
                        r"|\b\d{1,3}(?:\.\d{1,3}){3}\b|0x[0-9a-f]{6,}|[0-9a-f]{24,}", re.IGNORECASE)
MAX_DETAIL = 300


def cause(exc: BaseException) -> BaseException:
    """The exception an actor raised, without the wrapper that carried it across a Ray boundary (whose
    text is the remote traceback)."""
    inner = getattr(exc, "cause", None)
    return inner if isinstance(inner, BaseException) and hasattr(exc, "traceback_str") else exc


def safe_detail(text: str | None) -> str | None:
    """``text`` if it is one short line that names nothing of the engine's insides (no traceback, file
    path, process id, address or actor id); otherwise nothing: such details go to the log only."""
    if not text:
        return None
    line = text.strip()
    if "\n" in line or len(line) > MAX_DETAIL or _INTERNALS.search(line):
        return None
    return line


def reason(exc: BaseException) -> str | None:
    """What to tell a client about ``exc``: its own message when that is safe to show."""
    return safe_detail(str(cause(exc)))
