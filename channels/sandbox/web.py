"""Sandbox web visitors: web chat, contact-form and mobile-app contacts posted to the engine's generic API
channel over HTTP, as a website or the personal cabinet would send them."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

log = logging.getLogger(__name__)

REQUESTS = (
    "Добрий день! Не можу передати показники лічильника через кабінет.",
    "Підкажіть, будь ласка, реквізити для оплати за газ.",
    "Мені нарахували завелику суму в рахунку за жовтень, прошу перевірити.",
    "Відчуваю запах газу в під'їзді, що робити?",
    "Коли планується заміна лічильника за моєю адресою?",
    "Хочу змінити власника особового рахунку після купівлі квартири.",
    "Чи можна оплатити борг частинами?",
    "Не прийшов платіжний документ цього місяця.",
    "Як підключити газ до нового будинку?",
    "Дякую за швидку відповідь минулого разу! Ще одне питання щодо тарифу.",
)

SOURCES = (("site_chat", "sandbox-webchat-key"), ("contact_form", "sandbox-form-key"),
           ("mobile_app", "sandbox-app-key"))


@dataclass(frozen=True, slots=True)
class WebVisitor:
    thread: str
    phone: str | None
    name: str


async def post_contact(session: aiohttp.ClientSession, base_url: str, source: str, key: str,
                       visitor: WebVisitor, text: str) -> int:
    sender = {"kind": "phone", "value": visitor.phone, "name": visitor.name} if visitor.phone else \
        {"kind": "web", "value": visitor.thread, "name": visitor.name}
    body = {"thread": visitor.thread, "dedupe_key": uuid.uuid4().hex, "from": sender, "text": text}
    async with session.post(f"{base_url}/api/v1/inbound/{source}", json=body, headers={"X-Api-Key": key}) as resp:
        if resp.status >= 400:
            log.warning("API channel answered %s: %s", resp.status, await resp.text())
        return resp.status


async def run_traffic(base_url: str, rate_per_s: float, duration_s: float | None = None,
                      known_phones: Sequence[str] = (), seed: int = 7) -> int:
    """Post new contacts at ``rate_per_s`` (Poisson arrivals) until ``duration_s`` passes; returns how many."""
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + duration_s if duration_s is not None else None
    sent = 0
    async with aiohttp.ClientSession() as session:
        while stop_at is None or loop.time() < stop_at:
            await asyncio.sleep(rng.expovariate(rate_per_s))
            source, key = rng.choice(SOURCES)
            phone = rng.choice(known_phones) if known_phones and rng.random() < 0.4 else (
                f"+38067{rng.randrange(10**7):07d}" if rng.random() < 0.5 else None)
            visitor = WebVisitor(thread=uuid.uuid4().hex[:12], phone=phone, name=rng.choice(
                ("Олена", "Іван", "Марія", "Петро", "Наталія", "Юрій", "Оксана", "Богдан")))
            try:
                await post_contact(session, base_url, source, key, visitor, rng.choice(REQUESTS))
                sent += 1
            except aiohttp.ClientError as exc:
                log.warning("sandbox web contact not delivered: %s", exc)
    return sent
