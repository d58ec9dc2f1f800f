"""Fixture teardowns are bounded: a step that does not finish (one that even swallows its cancellation)
is left behind with a log line instead of holding the test until the per-test timeout fails it."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from tests.support.teardown import bounded, bounded_sync


async def _stubborn(release: asyncio.Event) -> None:
    while not release.is_set():
        try:
            await release.wait()
        except asyncio.CancelledError:
            continue  # ignores being cancelled, as a stuck close may


async def test_a_step_that_never_ends_is_left_behind_with_a_log_line(caplog):
    release = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="tests.teardown"):
        await bounded(_stubborn(release), "engine stop", seconds=0.2)
    assert "engine stop did not finish" in caplog.text
    release.set()


async def test_an_error_within_the_time_is_still_raised():
    async def failing() -> None:
        raise RuntimeError("pool refused to close")

    with pytest.raises(RuntimeError, match="pool refused"):
        await bounded(failing(), "pool close", seconds=5)


def test_a_blocking_step_is_left_behind_too(caplog):
    release = threading.Event()
    with caplog.at_level(logging.WARNING, logger="tests.teardown"):
        bounded_sync(release.wait, "Ray shutdown", seconds=0.2)
    assert "Ray shutdown did not finish" in caplog.text
    release.set()
