"""Caller numbers and VICIdial call ids.

The call-id samples are the ones VICIdial documents in docs/CALLER_ID_NAME_CODES.txt (VICIdial
source, AGPLv2, https://github.com/ccabrerar/vicidial mirror of vicidial.org's SVN)."""

from __future__ import annotations

import pytest

from channels.voice.phone import is_internal_number, normalise_phone
from channels.voice.vicidial_ids import parse_call_id, parse_call_id_pair


@pytest.mark.parametrize(
    "raw",
    ["0671234567", "380671234567", "+380671234567", "80671234567", "00380671234567", "+380 (67) 123-45-67", " 067 123 45 67 "],
)
def test_every_usual_spelling_of_a_ukrainian_number_becomes_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+380671234567"


@pytest.mark.parametrize("raw", ["", None, "1001", "anonymous", "<unknown>", "+14155550100", "067123456", "0071234567", "38+0671234567"])
def test_what_is_not_a_ukrainian_number_stays_unnormalised(raw: str | None) -> None:
    assert normalise_phone(raw) is None


def test_internal_extensions_are_short_digit_strings() -> None:
    assert is_internal_number("1001", 5)
    assert not is_internal_number("0671234567", 5)
    assert not is_internal_number("ivan", 5)


@pytest.mark.parametrize(
    ("name", "kind", "lead"),
    [
        ("M7152249180000855319", "M", "855319"),
        ("V7152252280000844707", "V", "844707"),
        ("Y7152252510000822239", "Y", "822239"),
        ("J7152252510000822239", "J", "822239"),
        ("DC943083W0000855319W", "DC", "855319"),
        ("M7152249180000855319 1001", "M", "855319"),
        ('"Y7152252510000822239"', "Y", "822239"),
    ],
)
def test_vicidial_call_ids_carry_type_and_lead(name: str, kind: str, lead: str) -> None:
    parsed = parse_call_id(name)
    assert parsed is not None
    assert (parsed.type, parsed.lead_id) == (kind, lead)
    assert parsed.as_metadata() == {"call_id": name.strip('"').split(" ")[0], "lead_id": lead, "type": kind}


def test_legacy_nine_digit_lead_ids_split_by_setting() -> None:
    parsed = parse_call_id("V1203120000123456789", lead_id_digits=9)
    assert parsed is not None and parsed.lead_id == "123456789"


@pytest.mark.parametrize(
    ("name", "kind"),
    [("S1307152248588600051", "S"), ("VH7152252518600051", "VH"), ("LPvdcW13739432176666", "LP"), ("AGMON715224918000001", "AGMON")],
)
def test_vicidial_control_calls_have_a_type_and_no_lead(name: str, kind: str) -> None:
    parsed = parse_call_id(name)
    assert parsed is not None and parsed.type == kind and parsed.lead_id is None


@pytest.mark.parametrize("name", ["", "Ivan Petrenko", "0671234567", "<unknown>", "V123", "Sergiy 0671234567", "Sales 0442900000"])
def test_plain_caller_names_are_not_call_ids(name: str) -> None:
    assert parse_call_id(name) is None


def test_connected_line_name_is_used_when_caller_name_has_no_call_id() -> None:
    parsed = parse_call_id_pair("Ivan", "Y7152252510000822239")
    assert parsed is not None and parsed.type == "Y"
