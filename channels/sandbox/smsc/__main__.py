"""Run the sandbox SMSC: ``python -m channels.sandbox.smsc [--port 2775]``.

Point config/channels/sms.toml's host/port at it with the same system_id/password; it prints a line per
whole message it receives and sends the delivery receipts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from channels.sandbox.smsc.server import SmscServer


async def run(args: argparse.Namespace) -> None:
    smsc = SmscServer({args.system_id: args.password}, receipt_delay_s=args.receipt_delay,
                      failure_share=args.failure_share, max_submits_per_s=args.max_rate)
    await smsc.start(args.host, args.port)
    logging.info("sandbox SMSC on %s:%d (system_id %s)", smsc.host, smsc.port, args.system_id)
    shown = 0
    try:
        while True:
            await asyncio.sleep(0.5)
            total = smsc.mailbox.whole_messages
            if total != shown:
                logging.info("%d whole messages, %d parts, %d throttled", total, len(smsc.mailbox.parts), smsc.throttled)
                shown = total
    finally:
        await smsc.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m channels.sandbox.smsc", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument("--system-id", default="switchboard")
    parser.add_argument("--password", default="sandbox")
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds before a delivery receipt")
    parser.add_argument("--failure-share", type=float, default=0.05, help="share of receipts that say UNDELIV")
    parser.add_argument("--max-rate", type=float, default=None, help="submits/s before ESME_RTHROTTLED")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
