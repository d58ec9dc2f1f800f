"""E-mail channel: parse throughput beside the standard library, and IMAP append -> sink latency.

1. Parsing: the channel's raw-bytes-to-Inbound (MIME walk, charset guessing, threading, attachments)
   over generated Ukrainian customer mail, beside a plain ``email.message_from_bytes`` + ``get_body``
   over the same bytes (the floor any parser on the standard library stands on).
2. Latency (needs Dovecot): mail APPENDed to a private Dovecot at a steady rate, measured from just
   before the APPEND to the moment the sink holds the Inbound.  The channel's default (IDLE when quiet,
   quick polling while busy) beside IDLE alone, whose pushes Dovecot delays by 500 ms.

``python -m bench.bench_email [--rate 100] [--seconds 30] [--messages 3000]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from bench.common import percentile
from channels.base import Inbound
from channels.email import build
from channels.email.inbound import InboundBuilder, MailboxMessage
from channels.email.spool import AttachmentSpool
from channels.email.thread_keys import ThreadResolver
from channels.sandbox.mail import DovecotServer, MailFactory, run_traffic


def bench_parse(count: int) -> None:
    factory = MailFactory(seed=7)
    corpus = [factory.next().raw for _ in range(count)]
    with tempfile.TemporaryDirectory() as spool:
        builder = InboundBuilder("bench/INBOX", ThreadResolver("example.com"), AttachmentSpool(Path(spool), 1 << 20))
        started = time.perf_counter()
        for uid, raw in enumerate(corpus, start=1):
            builder.build(MailboxMessage(1, uid, raw))
        ours = count / (time.perf_counter() - started)
    started = time.perf_counter()
    for raw in corpus:
        msg = message_from_bytes(raw, policy=default)
        body = msg.get_body(("plain", "html"))
        if body is not None:
            body.get_content()
    stdlib = count / (time.perf_counter() - started)
    print(f"parse  channel raw->Inbound      {ours:9.0f} msg/s   ({count} mixed messages)")
    print(f"parse  baseline stdlib get_body  {stdlib:9.0f} msg/s   (same bytes, policy=default)")


async def _latency(server: DovecotServer, rate: float, seconds: float, label: str, **imap: object) -> None:
    arrived: dict[str, float] = {}

    async def sink(inbound: Inbound) -> None:
        arrived.setdefault(inbound.metadata["message_id"], time.time())

    with tempfile.TemporaryDirectory() as state:
        channel = build({"from_address": server.user, "spool_dir": f"{state}/spool",
                         "state_path": f"{state}/uid.json", "imap": {**server.imap_settings(), **imap}})
        await channel.start(sink)
        try:
            sent = await run_traffic(server, rate, seconds, factory=MailFactory(to_address=server.user,
                                                                                seed=int(time.time())))
            deadline = time.time() + 10
            while len(arrived) < len(sent) and time.time() < deadline:
                await asyncio.sleep(0.05)
        finally:
            await channel.stop()
    delays = [arrived[m.message_id] - m.appended_at for m in sent if m.message_id in arrived]
    lost = len(sent) - len(delays)
    print(f"imap   {label:<28} p50 {percentile(delays, 0.5) * 1000:6.0f} ms  p99 "
          f"{percentile(delays, 0.99) * 1000:6.0f} ms  max {max(delays) * 1000:6.0f} ms  "
          f"({len(sent)} mails at {rate:.0f}/s, {lost} not delivered)")


async def bench_imap(rate: float, seconds: float) -> None:
    if not DovecotServer.available():
        print("imap   skipped: Dovecot is not installed (apt-get install -y dovecot-imapd)")
        return
    server = DovecotServer()
    await server.start()
    try:
        await _latency(server, rate, seconds, "channel (IDLE + busy poll)")
        await _latency(server, rate, min(seconds, 10), "baseline IDLE only", busy_linger_s=0)
    finally:
        await server.stop(remove=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="mails per second appended")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of the channel's latency run")
    parser.add_argument("--messages", type=int, default=3000, help="messages in the parse run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    bench_parse(args.messages)
    asyncio.run(bench_imap(args.rate, args.seconds))


if __name__ == "__main__":
    main()
