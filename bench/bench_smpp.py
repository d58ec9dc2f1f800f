"""SMPP throughput of one bind into the sandbox SMSC, with a window of 10.

The sandbox SMSC runs in its own process (``python -m channels.sandbox.smsc``).  Two runs against it:

1. Baseline: a raw asyncio socket loop writing pre-encoded ``submit_sm`` PDUs, at most 10 unanswered,
   reading the ``submit_sm_resp`` headers: what the SMSC and loopback TCP allow.
2. The SMS channel: ``send()`` of short Latin messages (one part each) through smpplib in its reader and
   writer threads, the window, the tracking of part ids.  Bar: >= 1,000 submits/s.

Receipts are off in both runs (``registered_delivery = 0``), so the figure is submits alone.

``python -m bench.bench_smpp [--messages 5000]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import struct
import subprocess
import sys
import time

from smpplib import smpp

from channels.base import Address, Outbound
from channels.sms import build

BAR_SUBMITS_PER_S = 1_000
WINDOW = 10


class _Codec:
    def __init__(self) -> None:
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def start_smsc(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "channels.sandbox.smsc", "--port", str(port),
                                "--failure-share", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return process
        await asyncio.sleep(0.05)
    process.kill()
    raise RuntimeError("the sandbox SMSC did not start")


async def raw_loop(port: int, count: int) -> float:
    """Submits/s of pre-encoded PDUs over a bare socket, ``WINDOW`` unanswered at most."""
    codec = _Codec()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(smpp.make_pdu("bind_transceiver", client=codec, system_id="switchboard", password="sandbox",
                               system_type="", interface_version=0x34, addr_ton=0, addr_npi=0,
                               address_range="").generate())
    await _read_pdu(reader)
    pdus = [smpp.make_pdu("submit_sm", client=codec, source_addr_ton=5, source_addr_npi=0, source_addr="GasService",
                          dest_addr_ton=1, dest_addr_npi=1, destination_addr=f"38067{n % 10_000_000:07d}",
                          short_message=f"Nagaduvannya {n}".encode(), data_coding=0,
                          registered_delivery=0).generate() for n in range(count)]
    started = time.perf_counter()
    sent = answered = 0
    while answered < count:
        while sent < count and sent - answered < WINDOW:
            writer.write(pdus[sent])
            sent += 1
        await _read_pdu(reader)
        answered += 1
    elapsed = time.perf_counter() - started
    writer.close()
    return count / elapsed


async def _read_pdu(reader: asyncio.StreamReader) -> bytes:
    header = await reader.readexactly(4)
    return header + await reader.readexactly(struct.unpack(">L", header)[0] - 4)


async def channel_run(port: int, count: int) -> float:
    channel = build({"host": "127.0.0.1", "port": port, "system_id": "switchboard", "password": "sandbox",
                     "window": WINDOW, "registered_delivery": False})

    async def ignore(_item: object) -> None:
        return None

    channel.report_deliveries(ignore)
    await channel.start(ignore)
    outbounds = [Outbound(channel="sms", thread_key=f"sms:+38067{n:07d}", recipient=Address("phone", f"+38067{n:07d}"),
                          text=f"Nagaduvannya {n}", dedupe_key=f"bench-{n}") for n in range(count)]
    try:
        started = time.perf_counter()
        await asyncio.gather(*(channel.send(outbound) for outbound in outbounds))
        elapsed = time.perf_counter() - started
    finally:
        await channel.stop()
    return count / elapsed


async def run(count: int) -> None:
    port = free_port()
    smsc = await start_smsc(port)
    try:
        baseline = await raw_loop(port, count)
        figure = await channel_run(port, count)
    finally:
        smsc.terminate()
        smsc.wait(10)
    print(f"one bind, window {WINDOW}, {count:,} one-part submits into the sandbox SMSC (its own process):")
    print(f"  baseline, raw socket loop of pre-encoded PDUs: {baseline:8,.0f} submits/s")
    print(f"  SMS channel (smpplib, threads, asyncio):       {figure:8,.0f} submits/s "
          f"({figure / baseline:.0%} of the baseline)")
    verdict = "meets" if figure >= BAR_SUBMITS_PER_S else "MISSES"
    print(f"  bar >= {BAR_SUBMITS_PER_S:,} submits/s: {verdict}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="submits in each run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.messages))


if __name__ == "__main__":
    main()
