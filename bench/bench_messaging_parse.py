"""Messenger channels: how cheap is our side of "inbound -> visible to the agent <= 1 s"?

Figures, each beside a baseline measured in the same run:

* webhook parsing (verify + parse + normalise) for Telegram and Viber, updates/s, beside bare
  ``json.loads`` of the same bodies;
* chatbot steps/s beside ``str.casefold`` + ``split`` of the same messages;
* sandbox -> channel -> inbox latency (p50/p99) at a steady rate over real sockets: Telegram long
  polling and Viber signed callbacks, beside one bare HTTP round trip to the same sandbox.

``python -m bench.bench_messaging_parse [--seconds 5] [--rate 100]``
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from channels.base import Inbound
from channels.sandbox.telegram import TelegramSandbox, demo_users
from channels.sandbox.viber import ViberSandbox
from channels.sandbox.viber import demo_users as viber_users
from channels.telegram import build as build_telegram
from channels.viber import build as build_viber
from routing.chatbot import ChatbotMenu

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_TOKEN = "7000000001:SANDBOX-token"


def _rate(count: int, action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(count):
        action()
    return count / (time.perf_counter() - started)


def bench_parsing(rounds: int) -> None:
    updates = json.loads((ROOT / "tests/fixtures/telegram/updates.json").read_text())
    telegram_bodies = [json.dumps(v["update"]).encode() for k, v in updates.items() if not k.startswith("_")]
    secret = "bench-secret"
    telegram = build_telegram({"token": TELEGRAM_TOKEN, "mode": "webhook", "webhook_secret": secret})
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    index = iter(range(10**9))

    def parse_telegram() -> None:
        telegram.handle_webhook(headers, telegram_bodies[next(index) % len(telegram_bodies)])

    def loads_telegram() -> None:
        json.loads(telegram_bodies[next(index) % len(telegram_bodies)])

    callbacks = json.loads((ROOT / "tests/fixtures/viber/callbacks.json").read_text())
    viber = build_viber({"token": "bench-token"})
    viber_bodies = [json.dumps(v["callback"]).encode() for k, v in callbacks.items()
                    if not k.startswith("_") and v["callback"]["event"] != "unsubscribed"]
    signatures = [{"X-Viber-Content-Signature": hmac.new(b"bench-token", body, hashlib.sha256).hexdigest()}
                  for body in viber_bodies]

    def parse_viber() -> None:
        i = next(index) % len(viber_bodies)
        viber.handle_webhook(signatures[i], viber_bodies[i])

    def loads_viber() -> None:
        json.loads(viber_bodies[next(index) % len(viber_bodies)])

    print(f"telegram webhook parse : {_rate(rounds, parse_telegram):>10,.0f} updates/s   "
          f"baseline json.loads: {_rate(rounds, loads_telegram):>10,.0f}/s")
    print(f"viber callback parse   : {_rate(rounds, parse_viber):>10,.0f} callbacks/s "
          f"baseline json.loads: {_rate(rounds, loads_viber):>10,.0f}/s")

    locale = json.loads((ROOT / "dashboards/locales/chatbot.uk.json").read_text())
    bot = ChatbotMenu.from_toml((ROOT / "config/chatbot.toml").read_text(), "config/chatbot.toml", locale)
    phrases = ["Добрий день", "Хочу передати показання лічильника", "2", "скільки я винен?", "абракадабра"]

    def step() -> None:
        bot.step(None, phrases[next(index) % len(phrases)], None, {"client_name": "Оксано"})

    def split() -> None:
        phrases[next(index) % len(phrases)].casefold().split()

    print(f"chatbot step           : {_rate(rounds, step):>10,.0f} steps/s     "
          f"baseline casefold+split: {_rate(rounds, split):>10,.0f}/s")


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  (n={len(ordered)})"


async def _round_trip(url: str, count: int = 200) -> list[float]:
    samples = []
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            started = time.perf_counter()
            async with session.post(url, data=b"{}") as response:
                await response.read()
            samples.append(time.perf_counter() - started)
    return samples


async def bench_telegram_latency(rate: float, seconds: float) -> None:
    sandbox = TelegramSandbox(TELEGRAM_TOKEN)
    await sandbox.start()
    latencies: list[float] = []
    sent_at: dict[str, float] = {}

    async def inbox(inbound: Inbound) -> None:
        latencies.append(time.perf_counter() - sent_at.get(inbound.dedupe_key, time.perf_counter()))

    channel = build_telegram({"token": TELEGRAM_TOKEN, "api_url": sandbox.url, "poll_timeout_s": 5})
    await channel.start(inbox)
    baseline = await _round_trip(f"{sandbox.url}/bot{TELEGRAM_TOKEN}/getMe")
    users = demo_users(50)
    started = time.perf_counter()
    sent = int(rate * seconds)
    for n in range(sent):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        update = sandbox.user_sends_text(users[n % len(users)], "Хочу передати показання: 04521")
        sent_at[f"telegram:{update['update_id']}"] = time.perf_counter()
    while len(latencies) < sent:
        await asyncio.sleep(0.05)
    await channel.stop()
    await sandbox.stop()
    print(f"telegram poll -> inbox : {_percentiles(latencies)} at {rate:.0f}/s")
    print(f"  baseline getMe round trip: {_percentiles(baseline)}")


async def bench_viber_latency(rate: float, seconds: float) -> None:
    sandbox = ViberSandbox()
    await sandbox.start()
    latencies: list[float] = []
    channel = build_viber({"token": sandbox.account.token, "api_url": sandbox.api_url})

    async def endpoint(request: web.Request) -> web.Response:
        reply = channel.handle_webhook(request.headers, await request.read())
        for inbound in reply.inbounds:
            latencies.append(time.time() - inbound.occurred_at.timestamp())
        return web.Response(status=reply.status, body=reply.body)

    app = web.Application()
    app.router.add_post("/hook", endpoint)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    sandbox.account.webhook_url = f"http://127.0.0.1:{port}/hook"
    baseline = await _round_trip(f"{sandbox.api_url}/get_account_info")
    sent = await sandbox.run_traffic(rate, seconds, users=viber_users(50))
    await runner.cleanup()
    await sandbox.stop()
    print(f"viber callback -> inbox: {_percentiles(latencies)} at {rate:.0f}/s "
          f"({sent - len(latencies)} not stored)")
    print(f"  baseline REST round trip : {_percentiles(baseline)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=20000)
    args = parser.parse_args(argv)
    bench_parsing(args.rounds)
    asyncio.run(bench_telegram_latency(args.rate / 2, args.seconds))
    asyncio.run(bench_viber_latency(args.rate / 2, args.seconds))


if __name__ == "__main__":
    main()
