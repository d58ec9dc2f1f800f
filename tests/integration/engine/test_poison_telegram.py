"""Nothing poisons the Telegram channel (issue 14, part 2): an update the database would refuse, one the
handler chokes on, or one the store keeps refusing, in the middle of normal traffic, never stalls the
offset; the first two are stored safe or parked, every later update is stored, the offset moves on."""

from __future__ import annotations

import base64
import json

import pytest

from channels.sandbox.telegram.state import SandboxUser
from tests.support.engine import eventually
from tests.support.poison import REFUSED, inbox_items, original_of, parked_rows, refuse_marked_items
from tests.support.telegram_engine import engine_with_telegram

IRA = SandboxUser(id=380_000_901, first_name="Ірина")
TARAS = SandboxUser(id=380_000_902, first_name="Тарас")


@pytest.fixture
async def telegram_engine(fresh_db_url):
    async with engine_with_telegram(fresh_db_url, sink_retry_initial_s=0.05, sink_retry_max_s=0.2) as (local, sandbox):
        yield local.services, sandbox


def key(update: dict) -> str:
    return f"telegram:{update['update_id']}"


async def stored(services, *updates):
    items = await inbox_items(services.db)
    return items if all(key(u) in items for u in updates) else None


async def confirmed(sandbox, update) -> bool:
    return sandbox.state.confirmed_below > update["update_id"]


async def test_half_a_surrogate_pair_and_nul_are_replaced_and_the_original_kept_byte_exact(telegram_engine):
    services, sandbox = telegram_engine
    first = sandbox.user_sends_text(IRA, "Добрий день")
    surrogate = sandbox.user_sends_text(IRA, "Лічильник 😀 і пів пари \ud83d")
    nul = sandbox.user_sends_text(TARAS, "нуль\x00посередині")
    last = sandbox.user_sends_text(IRA, "Дякую")
    items = await eventually(lambda: stored(services, first, surrogate, nul, last), timeout_s=20)
    assert items[key(surrogate)]["text"] == "Лічильник 😀 і пів пари \ufffd"
    assert original_of(items[key(surrogate)])["text"] == "Лічильник 😀 і пів пари \ud83d"
    assert items[key(nul)]["text"] == "нуль\ufffdпосередині"
    assert original_of(items[key(nul)])["text"] == "нуль\x00посередині"
    assert "original" not in items[key(first)] and items[key(last)]["text"] == "Дякую"
    await eventually(lambda: confirmed(sandbox, last), timeout_s=10)


async def test_an_update_the_handler_chokes_on_is_parked_raw_and_the_offset_moves_on(telegram_engine):
    services, sandbox = telegram_engine
    first = sandbox.user_sends_text(IRA, "Перше")
    # A document whose size came as a string: the library takes it, the handler cannot compare it.
    choking = sandbox.deliver_raw({"message": {**sandbox.state.user_message(TARAS), "document": {
        "file_id": "doc-1", "file_unique_id": "u-doc-1", "file_name": "акт.pdf", "file_size": "2048"}}})
    last = sandbox.user_sends_text(TARAS, "Після контакту")
    await eventually(lambda: stored(services, first, last), timeout_s=20)
    await eventually(lambda: confirmed(sandbox, last), timeout_s=10)
    parked = await eventually(lambda: parked_rows(services.db))
    assert [(p["channel"], p["item_key"], p["form"]) for p in parked] == [("telegram", key(choking), "peer")]
    assert json.loads(bytes(parked[0]["raw"]))["message"]["document"]["file_size"] == "2048"
    assert "TypeError" in parked[0]["error"] and parked[0]["attempts"] == 3
    assert key(choking) not in await inbox_items(services.db)


async def test_an_update_the_store_keeps_refusing_is_parked_and_later_chats_are_served(telegram_engine):
    services, sandbox = telegram_engine
    await refuse_marked_items(services.db)
    first = sandbox.user_sends_text(IRA, "Перше")
    refused = sandbox.user_sends_text(TARAS, f"Текст {REFUSED}")
    later = [sandbox.user_sends_text(user, f"Далі {n}") for n in range(3) for user in (IRA, TARAS)]
    await eventually(lambda: stored(services, first, *later), timeout_s=20)
    await eventually(lambda: confirmed(sandbox, later[-1]), timeout_s=10)
    parked = await parked_rows(services.db)
    assert [(p["channel"], p["item_key"], p["form"]) for p in parked] == [("telegram", key(refused), "inbound")]
    raw = json.loads(bytes(parked[0]["raw"]))
    assert raw["text"] == f"Текст {REFUSED}" and raw["dedupe_key"] == key(refused)
    assert "value refused by a check" in parked[0]["error"]
    assert base64.b64encode(bytes(parked[0]["raw"]))  # kept as bytes, whatever they hold
