"""Run the sandbox Viber REST API with chatbot users: ``python -m channels.sandbox.viber [--port 8082]``.

Point config/channels/viber.toml's ``api_url`` at the printed ``/pa`` URL with the same token and set
``public_webhook_url``; once the bot registers its webhook the users open conversations, write and
press the bot's buttons at --rate per second until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from channels.sandbox.viber.sandbox import ViberSandbox, demo_users


async def run(args: argparse.Namespace) -> None:
    sandbox = ViberSandbox(args.token)
    await sandbox.start(args.host, args.port)
    logging.info("sandbox Viber REST API on %s (token %s); waiting for set_webhook", sandbox.api_url, args.token)
    try:
        while not sandbox.account.webhook_url:
            await asyncio.sleep(0.2)
        logging.info("webhook %s registered; traffic starts", sandbox.account.webhook_url)
        await sandbox.run_traffic(args.rate, args.duration, users=demo_users(args.users))
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m channels.sandbox.viber", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", default="4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f")
    parser.add_argument("--rate", type=float, default=1.0, help="user actions per second")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=None, help="seconds of traffic (default: until interrupted)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
