"""AMI ingest and call-event latency of the voice channel, against the sandbox PBX over loopback TCP.

1. Ingest: the sandbox PBX sends a recorded flood (scripted VICIdial calls, each padded with the
   dialplan chatter real Asterisk sends: VarSet/Newexten from the Asterisk 11 capture in
   tests/fixtures/ami) to one voice channel; events/s through decode + call tracking + Inbound
   building, beside a raw socket read of the same bytes and beside pyst2's own reading path.
2. Latency: calls at 50 new calls/s; for every call, the PBX's timestamp on its first AMI event to
   the moment the ``started`` item reaches the sink, beside the AMI Ping round trip in the same run.

``python -m bench.bench_ami [--calls 4000] [--rate 50] [--seconds 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from pathlib import Path

from asterisk.manager import Manager

from channels.base import Inbound
from channels.sandbox.pbx import SCENARIOS, AmiServer, CallParams, CallScript
from channels.voice import VoiceChannel, VoiceSettings

CAPTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ami" / "asterisk11_originate_xivo.txt"
BAR_EVENTS_PER_S = 5_000
BAR_P99_MS = 200.0


def chatter(limit: int = 12) -> bytes:
    """Dialplan noise from a real capture: VarSet and Newexten messages, as on the wire."""
    lines = [line for line in CAPTURE.read_text().splitlines() if not line.startswith("#")]
    blocks = "\r\n".join(lines).split("\r\n\r\n")
    noise = [b for b in blocks if b.startswith(("Event: VarSet", "Event: Newexten"))][:limit]
    return "".join(b + "\r\n\r\n" for b in noise).encode()


async def record_flood(calls: int) -> tuple[bytes, int]:
    """Play ``calls`` scripted calls on a sandbox PBX and keep the bytes a client received."""
    pbx = AmiServer(time_scale=0)
    await pbx.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", pbx.port, limit=1 << 24)
    await reader.readline()
    writer.write(b"Action: Login\r\nUsername: switchboard\r\nSecret: sandbox\r\n\r\n")
    await reader.readuntil(b"FullyBooted")
    await reader.readuntil(b"\r\n\r\n")
    noise = chatter()
    names = ["answered", "answered", "answered", "agent_no_answer", "abandoned_in_queue", "blind_transfer"]
    chunks: list[bytes] = []
    for n in range(calls):
        await SCENARIOS[names[n % len(names)]](pbx, CallScript(pbx, CallParams(caller=f"067{n % 10_000_000:07d}")))
        await pbx.flush()
        chunks.append(noise)
        while True:
            try:
                chunks.append(await asyncio.wait_for(reader.read(1 << 20), 0.001))
            except TimeoutError:
                break
    writer.close()
    await pbx.stop()
    flood = b"".join(chunks)
    return flood, flood.count(b"Event: ")


async def raw_read(port: int, size: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 24)
    await reader.readline()
    writer.write(b"Action: Login\r\nUsername: switchboard\r\nSecret: sandbox\r\nEvents: on\r\n\r\n")
    await reader.readuntil(b"FullyBooted")
    await reader.readuntil(b"\r\n\r\n")
    return await _timed_read(reader, writer, size)


_flood_sent: asyncio.Event | None = None


async def _timed_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int) -> float:
    assert _flood_sent is not None
    await _flood_sent.wait()
    started = time.perf_counter()
    got = 0
    while got < size:
        data = await reader.read(1 << 20)
        if not data:
            break
        got += len(data)
    elapsed = time.perf_counter() - started
    writer.close()
    return elapsed


async def ingest(flood: bytes, events: int) -> tuple[float, float, int]:
    """(raw read seconds, channel seconds, call events delivered)."""
    global _flood_sent
    pbx = AmiServer(time_scale=0)
    await pbx.start()
    _flood_sent = asyncio.Event()
    raw_task = asyncio.ensure_future(raw_read(pbx.port, len(flood)))
    await pbx.wait_for_login(1)
    pbx.broadcast(flood)
    _flood_sent.set()
    raw_seconds = await raw_task

    delivered = 0

    async def sink(item: Inbound) -> None:
        nonlocal delivered
        delivered += 1

    channel = VoiceChannel(VoiceSettings(port=pbx.port, secret="sandbox", ping_interval_seconds=60))
    await channel.start(sink)
    baseline_events = channel.events_received
    started = time.perf_counter()
    pbx.broadcast(flood)
    while channel.events_received - baseline_events < events:
        await asyncio.sleep(0.001)
    await channel.drain()
    channel_seconds = time.perf_counter() - started
    await channel.stop()
    await pbx.stop()
    return raw_seconds, channel_seconds, delivered


def pyst2_read(port: int, events: int, timeout: float) -> tuple[int, float]:
    """pyst2 0.5.1's Manager reading the same flood: (events seen, seconds)."""
    manager = Manager()
    seen = 0
    done = threading.Event()

    def count(event: object, _manager: object) -> None:
        nonlocal seen
        seen += 1
        if seen >= events:
            done.set()

    manager.register_event("*", count)
    manager.connect("127.0.0.1", port)
    manager.login("switchboard", "sandbox")
    started = time.perf_counter()
    ready.set()
    done.wait(timeout)
    elapsed = time.perf_counter() - started
    manager._running.clear()
    manager._connected.clear()
    return seen, elapsed


ready = threading.Event()


async def pyst2_ingest(flood: bytes, events: int, timeout: float) -> tuple[int, float]:
    pbx = AmiServer(time_scale=0)
    await pbx.start()
    ready.clear()
    result = asyncio.ensure_future(asyncio.to_thread(pyst2_read, pbx.port, events, timeout))
    await pbx.wait_for_login(1)
    await asyncio.to_thread(ready.wait, 10)
    pbx.broadcast(flood)
    seen, elapsed = await result
    pbx.drop_sessions()
    await pbx.stop()
    return seen, elapsed


async def latency(rate: float, seconds: float) -> tuple[list[float], list[float], int]:
    """First AMI event -> ``started`` at the sink, per call, at ``rate`` new calls/s (ms)."""
    pbx = AmiServer(time_scale=0.05)
    await pbx.start()
    delays: list[float] = []

    async def sink(item: Inbound) -> None:
        if item.metadata["call_event"] == "started":
            delays.append((time.time() - item.occurred_at.timestamp()) * 1000)

    channel = VoiceChannel(VoiceSettings(port=pbx.port, secret="sandbox", ping_interval_seconds=60))
    await channel.start(sink)
    calls = await pbx.run_traffic(rate, seconds, agents=["1001", "1002", "1003", "1004"], callers=["0671234567", "0501234567"])
    rtts = []
    for _ in range(200):
        sent = time.perf_counter()
        await channel.ping()
        rtts.append((time.perf_counter() - sent) * 1000)
    await asyncio.sleep(1.0)
    await channel.drain()
    await channel.stop()
    await pbx.stop()
    return delays, rtts, calls


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else (values[0] if values else float("nan"))


async def run(args: argparse.Namespace) -> None:
    flood, events = await record_flood(args.calls)
    print(f"flood: {args.calls} calls, {events:,} AMI events, {len(flood) / 1e6:.1f} MB", flush=True)
    raw_seconds, channel_seconds, delivered = await ingest(flood, events)
    channel_rate = events / channel_seconds
    print(f"AMI ingest, one voice channel (decode + track + Inbound): {channel_rate:,.0f} events/s "
          f"({delivered:,} call events to the sink)  [bar >= {BAR_EVENTS_PER_S:,}: {'PASS' if channel_rate >= BAR_EVENTS_PER_S else 'FAIL'}]")
    print(f"  baseline, raw socket read of the same bytes:          {events / raw_seconds:,.0f} events/s")
    sample = flood[: flood.find(b"\r\n\r\n", len(flood) // 20) + 4]
    sample_events = sample.count(b"Event: ")
    seen, elapsed = await pyst2_ingest(sample, sample_events, args.pyst2_timeout)
    print(f"  pyst2 0.5.1 reading path ({sample_events:,}-event slice): {seen / elapsed:,.0f} events/s"
          f"{'' if seen >= sample_events else f' (only {seen:,} of {sample_events:,} within {args.pyst2_timeout:.0f}s)'}")
    delays, rtts, calls = await latency(args.rate, args.seconds)
    print(f"first AMI event -> sink, {args.rate:.0f} new calls/s for {args.seconds:.0f}s ({calls} calls, {len(delays)} started): "
          f"p50 {p(delays, 50):.1f} ms, p99 {p(delays, 99):.1f} ms  [channel's share of the {BAR_P99_MS:.0f} ms p99 bar]")
    print(f"  baseline, AMI Ping round trip on the same connection:   p50 {p(rtts, 50):.2f} ms, p99 {p(rtts, 99):.2f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_ami", description=__doc__)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--pyst2-timeout", type=float, default=30.0)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
