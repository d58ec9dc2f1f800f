"""Run the sandbox Viber Business aggregator: ``python -m channels.sandbox.viber_business [--port 8083]``.

Point config/channels/viber_business.toml's ``api_url`` at the printed URL with the same api_key and
callback_secret; reports go to each message's webhook URL (the channel's ``public_webhook_url``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from channels.sandbox.viber_business.server import ViberBusinessAggregator


async def run(args: argparse.Namespace) -> None:
    aggregator = ViberBusinessAggregator(args.api_key, args.secret, delivered_after_s=args.delivered_after,
                                         seen_after_s=args.seen_after)
    for phone in args.not_viber or []:
        aggregator.not_a_viber_user(phone)
    await aggregator.start(args.host, args.port)
    logging.info("sandbox Viber Business aggregator on %s (api key %s)", aggregator.url, args.api_key)
    try:
        while True:
            await asyncio.sleep(3600)
    finally:
        await aggregator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m channels.sandbox.viber_business", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8083)
    parser.add_argument("--api-key", default="sandbox-viber-business-key")
    parser.add_argument("--secret", default="sandbox-callback-secret")
    parser.add_argument("--delivered-after", type=float, default=1.0)
    parser.add_argument("--seen-after", type=float, default=3.0)
    parser.add_argument("--not-viber", nargs="*", help="phone numbers that are not Viber users")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
