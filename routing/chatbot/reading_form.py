"""The bot's guided meter reading (CM-07 through the Telegram and Viber bots): which account, which meter,
what the counter shows — then the reading is handed to the engine to be judged and stored.

Pure: each step gets the form so far, what the client sent, and the meters known by account number (the
client's accounts, and an account the client typed); it answers the next question, or a
:class:`ReadingSubmission` when the form is complete.  A single account or a single meter is taken without
asking.  Texts come from the bot's phrases (``chatbot.reading_*`` in the chatbot locale).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from routing.chatbot.state import BotReply, MenuButton

Step = Literal["account", "meter", "value"]
FORM_NAME = "meter_reading"
ACCOUNT_PAYLOAD, METER_PAYLOAD = "form:account:", "form:meter:"
_VALUE = re.compile(r"^\s*(\d{1,9})(?:[.,](\d{1,3}))?\s*(?:м3|м³|m3)?\s*$", re.IGNORECASE)
_ACCOUNT = re.compile(r"^\D*(\d[\d\s-]{4,24}\d)\D*$")


@dataclass(frozen=True, slots=True)
class ReadingForm:
    step: Step = "account"
    account_no: str | None = None
    meter_serial: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": FORM_NAME, "step": self.step, "account_no": self.account_no,
                "meter_serial": self.meter_serial}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReadingForm:
        return cls(step=data.get("step", "account"), account_no=data.get("account_no"),
                   meter_serial=data.get("meter_serial"))


@dataclass(frozen=True, slots=True)
class ReadingSubmission:
    account_no: str
    meter_serial: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class FormTurn:
    """The form's answer: the form to keep (None when it ended), a reply, and the reading when complete."""

    form: ReadingForm | None
    reply: BotReply | None
    submission: ReadingSubmission | None = None


def typed_account(text: str) -> str | None:
    """An account number the client typed (digits, spaces and dashes allowed), as digits."""
    found = _ACCOUNT.match(text or "")
    return re.sub(r"\D", "", found.group(1)) if found else None


def begin(meters: Mapping[str, tuple[str, ...]], texts: Mapping[str, str]) -> FormTurn:
    """Start the form: choose among the client's accounts, or ask for the number when none is known."""
    if len(meters) == 1:
        return _on_account(next(iter(meters)), meters, texts)
    if not meters:
        return FormTurn(ReadingForm(), BotReply(texts["reading_account_typed"]))
    buttons = tuple((MenuButton(no, ACCOUNT_PAYLOAD + no),) for no in meters)
    return FormTurn(ReadingForm(), BotReply(texts["reading_account"], buttons))


def step(form: ReadingForm, text: str, payload: str | None, meters: Mapping[str, tuple[str, ...]],
         texts: Mapping[str, str]) -> FormTurn:
    """One client message in the form."""
    if form.step == "account":
        account = payload[len(ACCOUNT_PAYLOAD):] if payload and payload.startswith(ACCOUNT_PAYLOAD) \
            else typed_account(text)
        if account is None or account not in meters:
            return FormTurn(form, BotReply(texts["reading_account_unknown"]))
        return _on_account(account, meters, texts)
    if form.step == "meter":
        serials = meters.get(form.account_no or "", ())
        serial = payload[len(METER_PAYLOAD):] if payload and payload.startswith(METER_PAYLOAD) else text.strip()
        if serial not in serials:
            return FormTurn(form, _meter_question(serials, texts))
        return FormTurn(replace(form, step="value", meter_serial=serial), BotReply(texts["reading_value"]))
    value = parse_value(text)
    if value is None or form.account_no is None or form.meter_serial is None:
        return FormTurn(form, BotReply(texts["reading_value_invalid"]))
    return FormTurn(None, None, ReadingSubmission(form.account_no, form.meter_serial, value))


def parse_value(text: str) -> Decimal | None:
    """What the counter shows: whole cubic metres, optionally with up to three decimals (``04521``,
    ``4521,5``, ``4521.5 м³``)."""
    found = _VALUE.match(text or "")
    if not found:
        return None
    try:
        return Decimal(f"{int(found.group(1))}.{found.group(2) or '0'}")
    except InvalidOperation:
        return None


def _on_account(account: str, meters: Mapping[str, tuple[str, ...]], texts: Mapping[str, str]) -> FormTurn:
    serials = meters.get(account, ())
    if not serials:
        return FormTurn(None, BotReply(texts["reading_no_meters"]))
    if len(serials) == 1:
        return FormTurn(ReadingForm("value", account, serials[0]), BotReply(texts["reading_value"]))
    return FormTurn(ReadingForm("meter", account), _meter_question(serials, texts))


def _meter_question(serials: tuple[str, ...], texts: Mapping[str, str]) -> BotReply:
    return BotReply(texts["reading_meter"], tuple((MenuButton(s, METER_PAYLOAD + s),) for s in serials))
