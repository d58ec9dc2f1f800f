"""Run the sandbox Telegram Bot API with chatbot users: ``python -m channels.sandbox.telegram [--port 8081]``.

Point config/channels/telegram.toml's ``api_url`` at the printed URL and use the same token; the
users write, press the bot's buttons and share their phones at --rate per second until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from channels.sandbox.telegram.sandbox import TelegramSandbox, demo_users


async def run(args: argparse.Namespace) -> None:
    sandbox = TelegramSandbox(args.token)
    await sandbox.start(args.host, args.port)
    logging.info("sandbox Telegram Bot API on %s (token %s)", sandbox.url, args.token)
    try:
        await sandbox.run_traffic(args.rate, args.duration, users=demo_users(args.users))
        if args.duration is not None:
            await asyncio.sleep(args.linger)
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m channels.sandbox.telegram", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="7000000001:SANDBOX-token")
    parser.add_argument("--rate", type=float, default=1.0, help="user actions per second")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=None, help="seconds of traffic (default: until interrupted)")
    parser.add_argument("--linger", type=float, default=30.0, help="seconds to keep serving after the traffic")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
