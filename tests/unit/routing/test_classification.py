"""Classification with the shipped rules (SR-04): a gas emergency is an emergency ticket under the 2-minute
SLA policy (SR-08) wherever in the conversation it is reported, in Ukrainian, Russian, mixed spellings and
with Latin letters typed for Cyrillic ones; a later message never lowers a ticket."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.settings import Settings
from routing.classification import Classification, classify, fold, raise_on_message

SETTINGS = Settings.load(Path(__file__).resolve().parents[3] / "config")
RULES = SETTINGS.tickets.rules
POLICIES = SETTINGS.sla.current.policies
WORKFLOW = SETTINGS.routing.current.workflow

GAS_SMELL = ["Пахне газом у під'їзді", "пахне газом у під’їзді", "Запах газа в квартире", "Сильний запах газу!",
             "на кухні газом воняет", "Витік газу біля будинку", "Утечка газа на лестнице",
             "пaхне гaзом",  # Latin "a" typed twice
             "ЗAПAХ ГAЗУ", "газом смердить у підвалі", "I smell gas in the hallway"]
CO_ALARMS = ["Спрацював сигналізатор у котельні", "здається, чадний газ", "Угарный газ, болит голова",
             "сработал сигнализатор газа"]
NO_SUPPLY = ["Немає газу з ранку", "у нас нет газа", "Нема газу в усьому будинку"]


def opened(text: str, segment: str | None = None) -> Classification:
    return classify(RULES, text=text, channel="viber", segment=segment, identified=segment is not None)


def raised(current: Classification, text: str) -> Classification | None:
    return raise_on_message(RULES, current, text=text, channel="viber", segment="regular", identified=True)


@pytest.mark.parametrize("text", GAS_SMELL)
def test_a_gas_smell_opens_an_emergency_ticket_under_the_emergency_policy(text):
    result = opened(text)
    assert (result.category, result.type, result.priority) == ("emergency.gas_leak", "emergency", "urgent")
    policy = POLICIES.for_ticket(result.type, result.priority)
    assert policy.name == "emergency" and policy.first_response == 120
    placement = WORKFLOW.place({"channel": "chat", **result.fields()})
    assert placement.filter_name == "gas emergencies" and placement.priority == "urgent"


@pytest.mark.parametrize("text", CO_ALARMS)
def test_a_carbon_monoxide_alarm_is_an_emergency(text):
    result = opened(text)
    assert (result.category, result.type, result.priority) == ("emergency.co_alarm", "emergency", "urgent")
    assert POLICIES.for_ticket(result.type, result.priority).name == "emergency"


@pytest.mark.parametrize("text", NO_SUPPLY)
def test_no_gas_supply_is_an_incident_for_the_gas_service(text):
    result = opened(text)
    assert (result.category, result.type, result.priority) == ("emergency.no_supply", "incident", "high")
    assert WORKFLOW.place({"channel": "chat", **result.fields()}).filter_name == "gas emergencies"


def test_legal_entities_reach_key_accounts():
    result = opened("Доброго дня, питання щодо договору", segment="legal")
    assert result.priority == "high"
    placement = WORKFLOW.place({"channel": "chat", "segment": "legal", **result.fields()})
    assert placement.filter_name == "vip and legal entities" and placement.queue == "vip"
    legal = [r.name for r in SETTINGS.sla.current.escalations.rules if r.applies_to.test({"segment": "legal"})]
    assert "legal entity resolution long overdue" in legal


@pytest.mark.parametrize("text", [*GAS_SMELL, *CO_ALARMS])
def test_a_later_message_makes_a_thank_you_chat_an_emergency(text):
    thanks = opened("Дякую!")
    assert (thanks.category, thanks.priority) == ("general.question", "normal")
    result = raised(thanks, text)
    assert result is not None and result.type == "emergency" and result.priority == "urgent"
    assert result.category.startswith("emergency.") and len(result.rules) == 1


def test_the_same_report_again_changes_nothing_and_nothing_lowers_a_ticket():
    gas = raised(opened("Дякую!"), "Пахне газом у під'їзді")
    assert raised(gas, "Пахне газом у під'їзді") is None
    assert raised(gas, "спрацював сигналізатор") is None  # already an urgent emergency
    assert raised(gas, "і немає газу") is None  # a lower rule never lowers it
    no_supply = raised(opened("Дякую!"), "немає газу")
    assert no_supply.priority == "high"
    assert raised(no_supply, "тепер пахне газом").fields() == \
        {"category": "emergency.gas_leak", "type": "emergency", "priority": "urgent"}
    urgent_question = Classification("billing.payment", "request", "urgent")
    supply = raised(urgent_question, "немає газу")
    assert supply.priority == "urgent" and supply.category == "emergency.no_supply"  # kept, not lowered


def test_ordinary_later_messages_change_nothing():
    thanks = opened("Дякую!")
    for text in ("Коли прийде рахунок?", "газета не прийшла", "Дякую, все добре", "Газопостачання оплачено"):
        assert raised(thanks, text) is None


def test_folding_reads_latin_look_alikes_only_inside_cyrillic_words():
    assert fold("  ПАХНЕ   гaзом ") == "пахне газом"
    assert fold("Smell of GAS") == "smell of gas"
    assert fold("під’їзд") == fold("під'їзд")
