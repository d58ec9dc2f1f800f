"""Wrong logins, per account and per address: a few are free, then each next try waits twice as long as
the one before (429 with ``Retry-After``) and is refused without hashing anything; the password hashes
themselves run in a pool of ``hash_workers`` threads, so a flood of logins takes one core at most.  A user
whose account saw failed tries is told so at the next login."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dashboards.errors import ApiError
from dashboards.settings import LoginThrottle

T = TypeVar("T")


@dataclass(slots=True)
class _Failures:
    count: int = 0
    last_at: float = 0.0
    since_success: int = 0


@dataclass
class LoginGuard:
    settings: LoginThrottle
    clock: Callable[[], float] = time.monotonic
    failures: dict[str, _Failures] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pool = ThreadPoolExecutor(self.settings.hash_workers, thread_name_prefix="password-hash")

    async def hash_in(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def _entry(self, key: str) -> _Failures:
        entry = self.failures.get(key)
        if entry is not None and self.clock() - entry.last_at > self.settings.window_s:
            entry.count = 0
        return entry or _Failures()

    def _delay(self, entry: _Failures) -> float:
        over = entry.count - self.settings.free_failures
        if over < 0:
            return 0.0
        wait = min(self.settings.base_delay_s * 2 ** min(over, 60), self.settings.max_delay_s)
        return max(0.0, entry.last_at + wait - self.clock())

    def check(self, account: str, address: str) -> None:
        """Refuse a try that comes before its wait is over (nothing is hashed for it)."""
        wait = max(self._delay(self._entry(f"account:{account}")), self._delay(self._entry(f"address:{address}")))
        if wait > 0:
            raise ApiError(429, "too_many_logins", retry_after=math.ceil(wait))

    def failed(self, account: str, address: str) -> None:
        for key in (f"account:{account}", f"address:{address}"):
            entry = self._entry(key)
            entry.count += 1
            entry.since_success += 1
            entry.last_at = self.clock()
            self.failures[key] = entry

    def succeeded(self, account: str) -> int:
        """Forget the account's failures; returns how many tries failed since its last login."""
        entry = self.failures.pop(f"account:{account}", None)
        return entry.since_success if entry is not None else 0
