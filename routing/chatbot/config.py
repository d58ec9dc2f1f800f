"""``config/chatbot.toml`` -> menus, choices and texts, refused with ``file:line: reason`` when wrong.

```toml
[bot]
root = "main"                      # the first menu
session_timeout = "30m"            # silence after which the client starts at the root again
operator_keywords = ["оператор*"]  # "talk to an operator" in the client's words
operator_priority = 50

[defaults]                         # values of {variables} the engine does not supply
client_name = "шановний абоненте"

[[rules]]                          # choices that match at every level (a gas leak)
id = "gas_leak"
keywords = ["запах газу", "витік*"]
priority = 100
reply = "..."
handover = "urgent"

[menus.main]
text = "Вітаємо, {client_name}!"
[[menus.main.options]]
label = "Показання лічильника"     # the button, also matched when typed
payload = "readings"               # what the button sends back; unique
keywords = ["показання", "лічильн*"]
goto = "readings"                  # and/or reply = "...", or handover = "normal" | "urgent",
                                   # or form = "meter_reading" (the guided meter reading)
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from routing.chatbot.matching import Keyword
from routing.config_source import ConfigError, Section, parse_toml

Handover = Literal["normal", "urgent"]
PAYLOAD_LIMIT = 64
"""Telegram's callback_data limit, the strictest of the channels."""
NAV_BACK, NAV_MAIN, NAV_OPERATOR = "nav:back", "nav:main", "nav:operator"
TEXT_KEYS = ("back", "main_menu", "operator", "fallback", "handover", "transcript_title",
             "transcript_client", "transcript_bot", "reading_account", "reading_account_typed",
             "reading_account_unknown", "reading_meter", "reading_no_meters", "reading_value",
             "reading_value_invalid", "reading_accepted", "reading_review", "reading_refused", "reading_failed")
FORMS = ("meter_reading",)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Choice:
    """Something the client can pick: a menu option (with a button) or a global rule (keywords only)."""

    id: str
    keywords: tuple[Keyword, ...]
    priority: int
    label: str | None = None
    reply: str | None = None
    goto: str | None = None
    handover: Handover | None = None
    form: str | None = None


@dataclass(frozen=True, slots=True)
class Menu:
    id: str
    text: str
    options: tuple[Choice, ...]
    operator_button: bool = True


@dataclass(frozen=True, slots=True)
class ChatbotConfig:
    root: str
    session_timeout_s: float | None
    transcript_limit: int
    menus: Mapping[str, Menu]
    rules: tuple[Choice, ...]
    operator: Choice
    defaults: Mapping[str, str]
    texts: Mapping[str, str]


def _keywords(section: Section) -> tuple[Keyword, ...]:
    return tuple(section.guard("keywords", lambda: [Keyword.parse(k) for k in section.strings("keywords", [])]))


def _choice(section: Section, *, option: bool, fallback_id: str) -> Choice:
    allowed = ("keywords", "priority", "reply", "goto", "handover", *(("form",) if option else ()))
    section.only(*allowed, *(("label", "payload") if option else ("id",)))
    handover = section.get("handover", str, None)
    section.check("handover", handover in (None, "normal", "urgent"), "handover must be 'normal' or 'urgent'")
    form = section.get("form", str, None)
    section.check("form", form in (None, *FORMS), f"form must be one of {list(FORMS)}")
    choice_id = section.get("payload" if option else "id", str) if option or "id" in section.data else fallback_id
    if option:
        section.check("payload", 0 < len(choice_id.encode()) <= PAYLOAD_LIMIT and not choice_id.startswith("nav:"),
                      f"payload must be 1..{PAYLOAD_LIMIT} bytes and not start with 'nav:'")
    choice = Choice(id=choice_id, keywords=_keywords(section), priority=section.get("priority", int, 0),
                    label=section.get("label", str) if option else None, reply=section.get("reply", str, None),
                    goto=section.get("goto", str, None), handover=handover, form=form)
    section.check("handover", not (choice.handover and choice.goto), "a choice either hands over or goes to a menu")
    section.check("form", not (form and (choice.handover or choice.goto)),
                  "a choice that starts a form neither hands over nor goes to a menu")
    if not (choice.reply or choice.goto or choice.handover or choice.form):
        section.fail(None, f"{section.where()!r} needs reply, goto, handover or form")
    if not option and not choice.keywords:
        section.fail(None, f"{section.where()!r}: a rule needs keywords")
    return choice


def _texts(bot: Section, locale: Mapping[str, str], overrides: Section) -> dict[str, str]:
    overrides.only(*TEXT_KEYS)
    texts = {key: locale[f"chatbot.{key}"] for key in TEXT_KEYS if f"chatbot.{key}" in locale}
    texts.update({key: overrides.get(key, str) for key in overrides.data})
    missing = [key for key in TEXT_KEYS if key not in texts]
    if missing:
        bot.fail(None, f"texts {missing} missing: pass the chatbot locale table or give them under [texts]")
    return texts


def _check_placeholders(section: Section, key: str, text: str | None, defaults: Mapping[str, str]) -> None:
    for name in _PLACEHOLDER.findall(text or ""):
        section.check(key, name in defaults, f"{section.where(key)!r} uses {{{name}}} but [defaults] has no {name!r}")


def load_config(text: str, filename: str, locale: Mapping[str, str]) -> ChatbotConfig:
    data, source = parse_toml(text, filename)
    top = Section(data, (), filename, source)
    top.only("bot", "defaults", "texts", "rules", "menus")
    bot = top.table("bot")
    bot.only("root", "session_timeout", "transcript_limit", "operator_keywords", "operator_priority")
    defaults_section = top.table("defaults", {})
    defaults = {key: defaults_section.get(key, str) for key in defaults_section.data}
    texts = _texts(bot, locale, top.table("texts", {}))
    operator = Choice(id=NAV_OPERATOR, keywords=_keywords(Section(
        {"keywords": bot.strings("operator_keywords", [])}, ("bot", "operator_keywords"), filename, source)),
        priority=bot.get("operator_priority", int, 50), handover="normal")
    rules = []
    for index, rule_section in enumerate(top.tables("rules")):
        rule = _choice(rule_section, option=False, fallback_id=f"rule{index}")
        _check_placeholders(rule_section, "reply", rule.reply, defaults)
        rules.append(rule)
    menus: dict[str, Menu] = {}
    payloads: dict[str, str] = {}
    for menu_id, menu in top.table("menus").items():
        menu.only("text", "options", "operator_button")
        options = []
        for option_section in menu.tables("options"):
            option = _choice(option_section, option=True, fallback_id="")
            option_section.check("payload", option.id not in payloads,
                                 f"payload {option.id!r} is already used in menu {payloads.get(option.id)!r}")
            payloads[option.id] = menu_id
            _check_placeholders(option_section, "reply", option.reply, defaults)
            options.append(option)
        menu.check("options", bool(options), f"menu {menu_id!r} has no options")
        _check_placeholders(menu, "text", menu.get("text", str), defaults)
        menus[menu_id] = Menu(menu_id, menu.get("text", str), tuple(options),
                              menu.get("operator_button", bool, True))
    root = bot.get("root", str)
    bot.check("root", root in menus, f"root menu {root!r} is not defined under [menus]")
    _check_gotos(top, menus, tuple(rules))
    limit = bot.get("transcript_limit", int, 50)
    bot.check("transcript_limit", limit > 0, "transcript_limit must be positive")
    return ChatbotConfig(root=root, session_timeout_s=bot.duration("session_timeout", None), transcript_limit=limit,
                         menus=menus, rules=tuple(rules), operator=operator, defaults=defaults, texts=texts)


def _check_gotos(top: Section, menus: Mapping[str, Menu], rules: tuple[Choice, ...]) -> None:
    menu_sections = top.table("menus")
    for menu_id, menu_section in menu_sections.items():
        for index, option_section in enumerate(menu_section.tables("options")):
            goto = menus[menu_id].options[index].goto
            option_section.check("goto", goto is None or goto in menus, f"goto {goto!r}: no such menu")
    for index, rule_section in enumerate(top.tables("rules")):
        goto = rules[index].goto
        rule_section.check("goto", goto is None or goto in menus, f"goto {goto!r}: no such menu")


__all__ = ["NAV_BACK", "NAV_MAIN", "NAV_OPERATOR", "ChatbotConfig", "Choice", "ConfigError", "Menu", "load_config"]
