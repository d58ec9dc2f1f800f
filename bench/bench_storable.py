"""What making text storable costs the inbox per item: the JSON the inbox writes for each item, made the
way it is now (checked for NUL, lone surrogates and non-finite numbers, and made storable when one is
found) beside the plain ``json.dumps`` of the same payloads, in the same run.  Payloads: the real Telegram
updates of ``tests/fixtures/telegram`` turned into inbox payloads, and the same with half a surrogate
pair at the end of each text (the slow path).

    python -m bench.bench_storable [--items 20000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from telegram import Bot

from actors.inbox import storable_payload
from channels.serialization import inbound_to_json
from channels.telegram.updates import parse_update

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "telegram" / "updates.json"


def payloads() -> list[dict]:
    bot = Bot("1:bench")
    raw = json.loads(FIXTURES.read_text(encoding="utf-8"))
    updates = [sample.get("update") for sample in raw.values() if isinstance(sample, dict)]
    found = []
    for update in updates:
        if isinstance(update, dict) and isinstance(update.get("update_id"), int):
            inbound = parse_update(update, bot)
            if inbound is not None:
                found.append({**inbound_to_json(inbound), "thread_key": inbound.thread_key})
    return found


def per_item_us(make, items: list[dict], count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        make(items[n % len(items)])
    return (time.perf_counter() - started) / count * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_storable")
    parser.add_argument("--items", type=int, default=20_000)
    args = parser.parse_args(argv)
    clean = payloads()
    broken = [{**p, "text": p["text"] + "\ud83d"} for p in clean]
    baseline = per_item_us(json.dumps, clean, args.items)
    now = per_item_us(storable_payload, clean, args.items)
    slow = per_item_us(storable_payload, broken, args.items)
    print(f"payloads: {len(clean)} real Telegram items, {args.items} encodings each way")
    print(f"baseline json.dumps:               {baseline:7.2f} us/item")
    print(f"storable_payload, clean items:     {now:7.2f} us/item ({now / baseline:.2f}x)")
    print(f"storable_payload, half a pair each: {slow:6.2f} us/item ({slow / baseline:.2f}x)")


if __name__ == "__main__":
    main()
