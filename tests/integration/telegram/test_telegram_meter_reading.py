"""A client gives a meter reading in the Telegram bot (CM-07, issue 20 §4), through the sandbox Bot API
server: the bot asks which account (the client has two) and which meter, reads the counter's digits,
refuses one lower than the last reading and asks again, then takes it as the API does (stored with its
source, written back to billing later) and says so; a gas smell reported in the middle of the form is
still an emergency (SR-04)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from channels.sandbox.telegram.state import SandboxUser
from tests.support.engine import eventually
from tests.support.telegram_engine import engine_with_telegram

pytestmark = pytest.mark.integration


@pytest.fixture
async def local(fresh_db_url):
    async with engine_with_telegram(fresh_db_url) as (engine, sandbox):
        engine.sandbox = sandbox
        yield engine


async def _client_with_two_accounts(services, telegram_id: int) -> tuple[str, str]:
    tag = uuid.uuid4().int % 10**8
    numbers = (f"31{tag:08d}", f"32{tag:08d}")
    async with services.db.begin() as conn:
        client = (await conn.execute(text(
            "INSERT INTO clients (kind, full_name, segment, language) VALUES ('person', 'Ткаченко Ганна', 'regular',"
            " 'uk') RETURNING id"))).scalar_one()
        await conn.execute(text("INSERT INTO contact_points (client_id, kind, value, is_primary)"
                                " VALUES (:c, 'telegram', :v, true)"), {"c": client, "v": str(telegram_id)})
        for n, number in enumerate(numbers):
            account = (await conn.execute(text(
                "INSERT INTO accounts (account_no, eic_code, service_address, tariff, balance) VALUES (:a, :e,"
                " 'м. Полтава, вул. Соборності, 5', 'Побутовий', 0) RETURNING id"),
                {"a": number, "e": f"56XP{tag:08d}{n}"})).scalar_one()
            await conn.execute(text("INSERT INTO account_roles VALUES (:a, :c, 'owner')"), {"a": account, "c": client})
            meters = [{"serial": f"G{n}-{s}", "readings": [{"value": 4500, "taken_at": "2026-11-01"}]}
                      for s in range(1 + n)]  # the second account has two meters
            await conn.execute(text(
                "INSERT INTO account_billing (account_id, balance, as_of, detail, fetched_at)"
                " VALUES (:a, 0, now(), CAST(:d AS jsonb), now())"), {"a": account, "d": json.dumps({"meters": meters})})
    return numbers


def _buttons(message) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


async def _next_reply(sandbox, user, seen: int):
    async def newer():
        sent = sandbox.sent_to(user)
        return sent[seen:] if len(sent) > seen else None
    return await eventually(newer)


async def test_a_reading_given_in_the_bot_is_judged_taken_and_acknowledged(local):
    services, sandbox = local.services, local.sandbox
    user = SandboxUser(id=380_000_207, first_name="Ганна")
    _, second = await _client_with_two_accounts(services, user.id)

    sandbox.user_sends_text(user, "Добрий день")
    seen = len(await _next_reply(sandbox, user, 0))
    sandbox.user_presses_button(user, "readings")
    seen += len(await _next_reply(sandbox, user, seen))
    sandbox.user_presses_button(user, "readings_submit")
    [ask_account] = await _next_reply(sandbox, user, seen)
    seen += 1
    assert "особовий рахунок" in ask_account["text"] and f"form:account:{second}" in _buttons(ask_account)

    sandbox.user_presses_button(user, f"form:account:{second}")
    [ask_meter] = await _next_reply(sandbox, user, seen)
    seen += 1
    assert _buttons(ask_meter) == ["form:meter:G1-0", "form:meter:G1-1"]
    sandbox.user_presses_button(user, "form:meter:G1-1")
    [ask_value] = await _next_reply(sandbox, user, seen)
    seen += 1
    assert "показання" in ask_value["text"].lower()

    sandbox.user_sends_text(user, "4400")  # lower than billing's last reading, 4500
    [refused] = await _next_reply(sandbox, user, seen)
    seen += 1
    assert "менше за попереднє" in refused["text"]
    sandbox.user_sends_text(user, "04521,5")
    [taken] = await _next_reply(sandbox, user, seen)
    assert "прийнято" in taken["text"] and "4521.5" in taken["text"]

    async with services.db.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT a.account_no, r.meter_serial, r.value, r.source, r.status FROM meter_readings r"
            " JOIN accounts a ON a.id = r.account_id WHERE a.account_no = :no"), {"no": second})).all()
        events = (await conn.execute(text(
            "SELECT e.data FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id JOIN conversations c"
            " ON c.id = t.conversation_id WHERE c.thread_key = :k AND e.kind = 'meter_reading'"),
            {"k": f"telegram:{user.id}"})).scalars().all()
    assert [(r.meter_serial, float(r.value), r.source, r.status) for r in rows] == [("G1-1", 4521.5, "telegram", "accepted")]
    assert [e["status"] for e in events] == ["accepted"]


async def test_a_gas_smell_in_the_middle_of_the_form_is_an_emergency(local):
    services, sandbox = local.services, local.sandbox
    user = SandboxUser(id=380_000_208, first_name="Ганна")
    await _client_with_two_accounts(services, user.id)
    sandbox.user_sends_text(user, "Передати показання")
    seen = len(await _next_reply(sandbox, user, 0))
    sandbox.user_presses_button(user, "readings_submit")
    seen += len(await _next_reply(sandbox, user, seen))

    sandbox.user_sends_text(user, "Пахне газом у під'їзді")

    async def urgent():
        async with services.db.connect() as conn:
            return (await conn.execute(text(
                "SELECT t.priority FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
                " WHERE c.thread_key = :k AND t.priority = 'urgent'"), {"k": f"telegram:{user.id}"})).first()

    assert await eventually(urgent)
    replies = await _next_reply(sandbox, user, seen)
    assert any("104" in r["text"] for r in replies)
