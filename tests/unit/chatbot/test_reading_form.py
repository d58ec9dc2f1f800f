"""The bot's guided meter reading (CM-07): the questions it asks, what it reads as a counter's digits,
and that a gas leak or an operator request still wins in the middle of the form (SR-04)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from routing.chatbot import ChatbotMenu
from routing.chatbot import reading_form as form
from routing.chatbot.reading_form import ReadingForm, ReadingSubmission

ROOT = Path(__file__).parents[3]
LOCALE = json.loads((ROOT / "dashboards" / "locales" / "chatbot.uk.json").read_text())
METERS = {"3100000001": ("G-1",), "3100000002": ("G-2", "G-3")}


@pytest.fixture(scope="module")
def bot() -> ChatbotMenu:
    return ChatbotMenu.from_toml((ROOT / "config" / "chatbot.toml").read_text(), "config/chatbot.toml", LOCALE)


def payloads(reply) -> list[str]:
    return [button.payload for row in reply.buttons for button in row]


@pytest.mark.parametrize(("typed", "value"), [("04521", Decimal("4521.0")), ("4521,5", Decimal("4521.5")),
                                              (" 4521.125 м³ ", Decimal("4521.125")), ("12 м3", Decimal("12.0"))])
def test_a_counters_digits_are_read(typed, value):
    assert form.parse_value(typed) == value


@pytest.mark.parametrize("typed", ["", "abc", "-5", "45 21", "4521,5555", "1e5"])
def test_what_is_not_a_reading_is_not_read(typed):
    assert form.parse_value(typed) is None


def test_the_form_asks_the_account_then_the_meter_then_the_value(bot):
    texts = bot.config.texts
    start = form.begin(METERS, texts)
    assert payloads(start.reply) == ["form:account:3100000001", "form:account:3100000002"]
    meter = form.step(start.form, "", "form:account:3100000002", METERS, texts)
    assert payloads(meter.reply) == ["form:meter:G-2", "form:meter:G-3"]
    value = form.step(meter.form, "", "form:meter:G-3", METERS, texts)
    assert value.form == ReadingForm("value", "3100000002", "G-3")
    wrong = form.step(value.form, "багато", None, METERS, texts)
    assert wrong.reply.text == texts["reading_value_invalid"] and wrong.form == value.form
    done = form.step(value.form, "04521", None, METERS, texts)
    assert done.form is None and done.submission == ReadingSubmission("3100000002", "G-3", Decimal("4521.0"))


def test_one_account_with_one_meter_goes_straight_to_the_value_and_a_typed_account_is_checked(bot):
    texts = bot.config.texts
    assert form.begin({"3100000001": ("G-1",)}, texts).form == ReadingForm("value", "3100000001", "G-1")
    typed = form.begin({}, texts)
    assert typed.reply.text == texts["reading_account_typed"]
    unknown = form.step(typed.form, "31 0000 0009", None, METERS, texts)
    assert unknown.reply.text == texts["reading_account_unknown"] and unknown.form == typed.form
    known = form.step(typed.form, "рахунок 31-0000-0001", None, METERS, texts)
    assert known.form == ReadingForm("value", "3100000001", "G-1")
    assert form.begin({"3100000001": ()}, texts).reply.text == texts["reading_no_meters"]


def test_the_menu_starts_the_form_and_hands_its_answers_to_it(bot):
    menu = bot.step(None, "Передати показання", None)
    assert menu.state.menu == "readings"
    started = bot.step(menu.state, "", "readings_submit")
    assert started.begin_form == "meter_reading" and not started.handover
    in_form = bot.step(replace(started.state, form=ReadingForm().to_dict()), "04521", None)
    assert in_form.form_input and in_form.replies == () and in_form.state.transcript[-1].text == "04521"


def test_a_gas_leak_or_the_operator_in_the_middle_of_the_form_wins(bot):
    menu = bot.step(None, "Передати показання", None)
    state = replace(menu.state, form=ReadingForm("value", "1", "G-1").to_dict())
    leak = bot.step(state, "Пахне газом у під'їзді", None)
    assert leak.handover and leak.urgent and leak.state.form is None and "104" in leak.replies[0].text
    operator = bot.step(state, "дайте оператора", None)
    assert operator.handover and not operator.urgent
    back = bot.step(state, "", "nav:main")
    assert not back.form_input and back.state.form is None and back.state.menu == "main"
