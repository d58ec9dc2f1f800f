"""Bounded fixture teardowns: a loaded machine makes the suite slower, never red.

A teardown step (an engine stop, a server close, a browser close, a Ray shutdown) gets its time; one
that takes longer is left behind with a log line and the suite goes on, instead of holding the test until
the per-test timeout fails it although it passed.  An error the step raises within its time is still
raised: only slowness is forgiven.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

log = logging.getLogger("tests.teardown")

TEARDOWN_S = 60.0


async def bounded(step: Awaitable[object], what: str, seconds: float = TEARDOWN_S) -> None:
    """Await ``step`` for at most ``seconds``; cancelled and left behind after that (without waiting for
    the cancellation to be honoured, which ``asyncio.wait_for`` would)."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait([task], timeout=seconds)
    if not done:
        task.cancel()
        log.warning("teardown: %s did not finish within %.0f s; left behind", what, seconds)
        return
    task.result()


def bounded_sync(step: Callable[[], object], what: str, seconds: float = TEARDOWN_S) -> None:
    """``step()`` in a daemon thread for at most ``seconds`` (for blocking teardowns such as a Ray
    shutdown)."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            step()
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"teardown: {what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        log.warning("teardown: %s did not finish within %.0f s; left behind", what, seconds)
        return
    if failure:
        raise failure[0]
