"""An in-process engine whose Telegram channel polls a sandbox Bot API server: what the chat tests run on."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from actors.system import LocalEngine
from channels.sandbox.telegram import TelegramSandbox
from tests.support.channels import channel_table
from tests.support.teardown import bounded


@contextlib.asynccontextmanager
async def engine_with_telegram(db_url: str, **table: Any) -> AsyncIterator[tuple[LocalEngine, TelegramSandbox]]:
    """The started engine and its sandbox; ``table`` overrides the Telegram channel's settings."""
    sandbox = TelegramSandbox()
    await sandbox.start()
    local = LocalEngine(db_url, channels={"telegram": channel_table("telegram", api_url=sandbox.url, poll_timeout_s=1,
                                                                    **table)})
    await local.start()
    try:
        yield local, sandbox
    finally:
        await bounded(local.stop(), "engine stop")
        await bounded(sandbox.stop(), "telegram sandbox stop")
