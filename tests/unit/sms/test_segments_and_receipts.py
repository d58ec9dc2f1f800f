"""Splitting texts into SMS parts and reading delivery receipts (pure parts of channels/sms)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from smpplib.gsm import make_parts

from channels.base import ChannelError
from channels.sms.phones import e164, international_digits
from channels.sms.receipts import MalformedReceipt, id_variants, is_receipt, parse_receipt
from channels.sms.segments import DATA_CODING_DEFAULT, DATA_CODING_UCS2, decode_text, segment, split_udh
from channels.sms.settings import check_sender

RECEIPTS = Path(__file__).parents[2] / "fixtures" / "sms" / "receipts.txt"
CYRILLIC = "Шановний абоненте! Планове відключення газу 12.12 з 9:00 до 17:00 за адресою вул. Шевченка, 5."


def joined(parts, coding):
    return "".join(decode_text(split_udh(p, 0x40)[1], coding) for p in parts)


def test_cyrillic_is_ucs2_70_single_67_per_part_with_one_reference():
    assert segment("Т" * 70, 1).count == 1 and segment("Т" * 70, 1).data_coding == DATA_CODING_UCS2
    long = segment("Т" * 71, 42)
    assert long.count == 2 and long.esm_class == 0x40
    assert [split_udh(p, 0x40)[0] for p in long.parts] == [(42, 2, 1), (42, 2, 2)]
    assert [len(split_udh(p, 0x40)[1]) for p in long.parts] == [134, 8]
    text = CYRILLIC * 3
    parts = segment(text, 7)
    assert parts.count == -(-len(text) // 67) and joined(parts.parts, DATA_CODING_UCS2) == text


def test_latin_is_gsm7_160_single_153_per_part():
    assert segment("a" * 160, 0).count == 1 and segment("a" * 160, 0).data_coding == DATA_CODING_DEFAULT
    parts = segment("a" * 161, 0)
    assert parts.count == 2 and [len(split_udh(p, 0x40)[1]) for p in parts.parts] == [153, 8]


def test_a_gsm_escape_pair_is_never_cut_at_a_part_boundary():
    text = "a" * 152 + "€" + "b" * 10  # the escape pair would take septets 153 and 154
    assert len(make_parts(text)[0][0]) == 6 + 153  # smpplib cuts it: part 1 ends with a bare ESC
    parts = segment(text, 3)
    first = split_udh(parts.parts[0], 0x40)[1]
    assert first[-1] != 0x1B and joined(parts.parts, DATA_CODING_DEFAULT) == text


def test_an_emoji_is_never_cut_at_a_part_boundary():
    text = "Т" * 66 + "🔥" + "Т" * 10
    parts = segment(text, 0)
    assert joined(parts.parts, DATA_CODING_UCS2) == text
    assert len(split_udh(parts.parts[0], 0x40)[1]) == 132  # the emoji's two code units start part 2


def test_a_backtick_makes_the_text_ucs2_not_a_section_sign():
    from smpplib.gsm import gsm_encode

    assert gsm_encode("`") == b"\x5f"  # smpplib's table: 0x5F is '§' on a handset
    assert segment("pay `now`", 0).data_coding == DATA_CODING_UCS2


def test_empty_and_too_long_texts_are_refused():
    with pytest.raises(ChannelError, match="empty"):
        segment("", 0)
    with pytest.raises(ChannelError, match="256 parts"):
        segment("Т" * 67 * 256, 0)


def test_receipts_captured_from_real_smscs():
    lines = [line for line in RECEIPTS.read_text().splitlines() if line and not line.startswith("#")]
    assert len(lines) == 6
    for line in lines:
        expected, text = line.split(" | ", 1)
        stat, message_id = expected.split()
        receipt = parse_receipt(text.encode("latin-1"))
        assert (receipt.stat, receipt.message_id) == (stat, message_id), line
    kannel = parse_receipt(lines[0].split(" | ", 1)[1])
    assert kannel.state == "delivered" and kannel.done_at == datetime(2023, 2, 23, 19, 42, 11, tzinfo=UTC)
    goip_failed = parse_receipt(lines[2].split(" | ", 1)[1])
    assert goip_failed.state == "failed" and goip_failed.reason == "UNDELIV err:500"
    assert parse_receipt(lines[1].split(" | ", 1)[1]).state is None  # ENROUTE is not final


def test_tlvs_win_over_the_text_and_the_done_date_is_the_smsc_clock():
    receipt = parse_receipt(b"id:zzz stat:DELIVRD done date:2612071230", receipted_message_id=b"3a1f0001\x00",
                            message_state=5, zone=ZoneInfo("Europe/Kyiv"))
    assert receipt.message_id == "3a1f0001" and receipt.state == "failed"
    assert receipt.done_at == datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    with pytest.raises(MalformedReceipt):
        parse_receipt(b"hello, this is not a receipt")
    assert is_receipt(0x04) and not is_receipt(0x00) and not is_receipt(0x40)
    assert "3a" in id_variants("58") and "58" in id_variants("3a")


def test_phones_and_senders():
    assert international_digits("+380 67 123-45-67") == "380671234567"
    assert e164("0671234567") == "+380671234567"
    for bad in ("hello", "+38067123", ""):
        with pytest.raises(ChannelError):
            international_digits(bad)
    assert check_sender("GasService") == "GasService"
    for bad in ("ГазСервіс", "TwelveLetters"):
        with pytest.raises(ChannelError):
            check_sender(bad)
