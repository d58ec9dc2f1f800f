"""The chatbot front on the shipped config/chatbot.toml and on small bad files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from routing.chatbot import BotState, ChatbotMenu, ConfigError

ROOT = Path(__file__).parents[3]
LOCALE = json.loads((ROOT / "dashboards" / "locales" / "chatbot.uk.json").read_text())
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def bot() -> ChatbotMenu:
    return ChatbotMenu.from_toml((ROOT / "config" / "chatbot.toml").read_text(), "config/chatbot.toml", LOCALE)


def payloads(reply) -> list[str]:
    return [button.payload for row in reply.buttons for button in row]


def test_first_message_gets_the_main_menu_with_the_clients_name(bot):
    turn = bot.step(None, "Добрий день", None, {"client_name": "Оксано"}, T0)
    [menu] = turn.replies
    assert menu.text.startswith("Вітаємо, Оксано!")
    assert payloads(menu)[:5] == ["readings", "bills", "emergency", "connection", "contacts"]
    assert "nav:operator" in payloads(menu)
    assert not turn.handover and turn.state.menu == "main"


def test_missing_variables_fall_back_to_defaults(bot):
    [menu] = bot.step(None, "привіт", None, {}, T0).replies
    assert menu.text.startswith("Вітаємо, шановний абоненте!")


def test_buttons_walk_down_and_back_up_the_menu_tree(bot):
    state = bot.step(None, "привіт", None, {}, T0).state
    turn = bot.step(state, "📟 Показання лічильника", "readings", {"account_no": "0401234567"}, T0)
    assert turn.state.path == ("main", "readings")
    assert turn.replies[-1].text == "Показання лічильника. Особовий рахунок: 0401234567."
    assert "nav:back" in payloads(turn.replies[-1])
    leaf = bot.step(turn.state, "Терміни подачі", "readings_dates", {}, T0)
    assert leaf.replies[0].text.startswith("Показання приймаються з 1 по 5")
    assert leaf.state.path == ("main", "readings"), "a plain reply keeps the client in the menu"
    back = bot.step(leaf.state, "⬅️ Назад", "nav:back", {}, T0)
    assert back.state.path == ("main",) and payloads(back.replies[0])[0] == "readings"


def test_keywords_match_word_forms_and_numbers_pick_options(bot):
    turn = bot.step(None, "Хочу передати показники лічильника", None, {}, T0)
    assert turn.state.path == ("main", "readings")
    by_number = bot.step(bot.step(None, "привіт", None, {}, T0).state, "2", None, {}, T0)
    assert by_number.state.path == ("main", "bills")


def test_gas_leak_outranks_everything_and_hands_over_urgently_with_104(bot):
    state = bot.step(None, "Скільки я винен за газ?", None, {}, T0).state
    assert state.path == ("main", "bills")
    turn = bot.step(state, "У під'їзді сильно пахне газом, що робити? і рахунок не прийшов", None, {}, T0)
    assert turn.handover and turn.urgent and turn.reason == "gas_leak"
    assert "104" in turn.replies[0].text
    assert turn.state.handed_over


def test_talk_to_an_operator_hands_over_with_the_transcript(bot):
    t1 = bot.step(None, "Привіт", None, {"client_name": "Петре"}, T0)
    t2 = bot.step(t1.state, "💳 Рахунки та оплата", "bills", {}, T0 + timedelta(seconds=5))
    t3 = bot.step(t2.state, "Покличте оператора, будь ласка", None, {}, T0 + timedelta(seconds=9))
    assert t3.handover and not t3.urgent and t3.reason == "nav:operator"
    assert t3.replies[0].text == LOCALE["chatbot.handover"]
    speakers = [line.speaker for line in t3.transcript]
    assert speakers == ["client", "bot", "client", "bot", "client", "bot"]
    note = bot.transcript_note(t3.state)
    assert note.splitlines()[0] == LOCALE["chatbot.transcript_title"]
    assert "Клієнт: 💳 Рахунки та оплата" in note and "Бот: Вітаємо, Петре!" in note


def test_after_handover_the_bot_is_silent(bot):
    handed = bot.step(None, "оператор", None, {}, T0)
    assert handed.handover
    later = bot.step(handed.state, "алло?", None, {}, T0)
    assert later.replies == () and not later.handover


def test_unrecognised_text_gets_the_fallback_and_the_current_menu_again(bot):
    state = bot.step(None, "привіт", "bills", {}, T0).state
    turn = bot.step(state, "абракадабра", None, {}, T0)
    assert turn.replies[0].text == LOCALE["chatbot.fallback"]
    assert payloads(turn.replies[1])[0] == "bills_pay"


def test_session_timeout_starts_again_at_the_root(bot):
    state = bot.step(None, "рахунок", None, {}, T0).state
    assert state.path == ("main", "bills")
    turn = bot.step(state, "ага", None, {}, T0 + timedelta(hours=2))
    assert turn.state.path == ("main",)


def test_state_survives_a_round_trip_through_json(bot):
    turn = bot.step(bot.step(None, "привіт", None, {}, T0).state, "1", None, {}, T0)
    restored = BotState.from_dict(json.loads(json.dumps(turn.state.to_dict())))
    assert restored == turn.state


def test_welcome_is_the_root_menu(bot):
    welcome = bot.welcome({"client_name": "Ганно"})
    assert welcome.text.startswith("Вітаємо, Ганно!") and payloads(welcome)[0] == "readings"


def test_english_locale_changes_the_bots_own_phrases(bot):
    english = json.loads((ROOT / "dashboards" / "locales" / "chatbot.en.json").read_text())
    assert set(english) == set(LOCALE)
    en_bot = ChatbotMenu.from_toml((ROOT / "config" / "chatbot.toml").read_text(), "chatbot.toml", english)
    assert en_bot.step(None, "operator", None, {}, T0).replies[0].text == english["chatbot.handover"]


GOOD = """
[bot]
root = "main"
[menus.main]
text = "Hi"
[[menus.main.options]]
label = "A"
payload = "a"
reply = "ok"
"""


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("[bot\nroot = 1", 1, "not valid TOML"),
    (GOOD.replace('root = "main"', 'root = "nope"'), 3, "root menu 'nope'"),
    (GOOD.replace('reply = "ok"', 'goto = "missing"'), 9, "no such menu"),
    (GOOD.replace('reply = "ok"', 'handover = "later"'), 9, "handover must be"),
    (GOOD.replace('reply = "ok"', 'priority = 3'), 6, "needs reply, goto, handover or form"),
    (GOOD.replace('text = "Hi"', 'text = "Hi {client_name}"'), 5, "no 'client_name'"),
    (GOOD + '[[menus.main.options]]\nlabel = "B"\npayload = "a"\nreply = "x"\n', 12, "already used"),
    (GOOD.replace('payload = "a"', 'payload = "nav:a"'), 8, "must be 1..64 bytes"),
    (GOOD.replace('label = "A"', 'label = "A"\ncolour = "red"'), 8, "unknown key"),
    (GOOD + '[[rules]]\nid = "r"\nreply = "x"\nhandover = "urgent"\n', 10, "a rule needs keywords"),
])
def test_bad_config_is_refused_with_file_line_and_reason(text, line, reason):
    with pytest.raises(ConfigError) as refused:
        ChatbotMenu.from_toml(text, "bad.toml", LOCALE)
    assert refused.value.file == "bad.toml"
    assert refused.value.line == line, str(refused.value)
    assert reason in refused.value.reason


def test_bot_phrases_must_come_from_somewhere():
    with pytest.raises(ConfigError, match="missing"):
        ChatbotMenu.from_toml(GOOD, "bare.toml")
    texts = "\n[texts]\n" + "\n".join(f'{key.removeprefix("chatbot.")} = "t"' for key in LOCALE)
    assert ChatbotMenu.from_toml(GOOD + texts, "own.toml").step(None, "zzz", None).replies[0].text == "Hi"


def test_third_level_offers_main_menu_and_goes_straight_home(bot):
    state = bot.step(None, "привіт", None, {}, T0).state
    state = bot.step(state, "", "bills", {}, T0).state
    turn = bot.step(state, "", "bills_pay", {"account_no": "0401234567"}, T0)
    assert turn.state.path == ("main", "bills", "payment")
    assert turn.replies[-1].text == "Оберіть спосіб оплати (особовий рахунок 0401234567):"
    assert {"nav:back", "nav:main", "nav:operator"} <= set(payloads(turn.replies[-1]))
    detail = bot.step(turn.state, "де взяти реквізити?", None, {"account_no": "0401234567"}, T0)
    assert "0401234567" in detail.replies[0].text and detail.matched == "payment_details"
    home = bot.step(detail.state, "", "nav:main", {}, T0)
    assert home.state.path == ("main",)
