"""Rate limits per channel per minute and per hour (``[informing.rate_limits.<channel>]``), as leaky
buckets (aiolimiter) in the sender's process.  A message over a limit is not waited for in memory: the
sender holds it in the outbox until the bucket has room again."""

from __future__ import annotations

from collections.abc import Mapping

from aiolimiter import AsyncLimiter


class ChannelRateLimits:
    def __init__(self, limits: Mapping[str, tuple[tuple[int, float], ...]]) -> None:
        self._limits = limits
        self._buckets: dict[str, tuple[AsyncLimiter, ...]] = {}

    def _for(self, channel: str) -> tuple[AsyncLimiter, ...]:
        buckets = self._buckets.get(channel)
        if buckets is None:
            buckets = self._buckets[channel] = tuple(AsyncLimiter(count, period)
                                                     for count, period in self._limits.get(channel, ()))
        return buckets

    async def take(self, channel: str) -> float | None:
        """None when a message may go now (its place in every bucket taken); else the seconds until one
        leaks out of the fullest bucket."""
        buckets = self._for(channel)
        full = [b for b in buckets if not b.has_capacity()]
        if full:
            return max(b.time_period / b.max_rate for b in full)
        for bucket in buckets:
            await bucket.acquire()
        return None
