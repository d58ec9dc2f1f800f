"""Run the mail sandbox for the demo: ``python -m channels.sandbox.mail [--rate 5] [--seconds 60]``.

Starts a private Dovecot and an SMTP relay, prints the ``[email]`` settings that point the channel at
them, and appends Ukrainian customer mail at the given rate.  Without Dovecot installed it says so in
one log line and exits 0, so ``make demo`` runs the other channels regardless.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging

from channels.sandbox.mail import DovecotServer, SmtpCapture, run_traffic

log = logging.getLogger("channels.sandbox.mail")


async def run(rate: float, seconds: float | None) -> None:
    if not DovecotServer.available():
        log.warning("email sandbox: Dovecot is not installed (apt-get install -y dovecot-imapd); "
                    "e-mail traffic skipped")
        return
    server, relay = DovecotServer(), SmtpCapture()
    await server.start()
    await relay.start()
    try:
        settings = {"from_address": server.user, "imap": server.imap_settings(), "smtp": relay.smtp_settings()}
        print(json.dumps({"email": settings}, ensure_ascii=False), flush=True)
        sent = await run_traffic(server, rate, seconds)
        log.info("email sandbox: %d customer mails appended; %d replies captured", len(sent), len(relay.messages))
    finally:
        await relay.stop()
        await server.stop(remove=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Mail sandbox: private Dovecot + SMTP relay + customer mail")
    parser.add_argument("--rate", type=float, default=2.0, help="customer mails per second")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long (default: run until ^C)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(run(args.rate, args.seconds))
    except KeyboardInterrupt:
        log.info("email sandbox: stopped")


if __name__ == "__main__":
    main()
