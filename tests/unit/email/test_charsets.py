"""Charset decoding: declared, guessed, unknown and hostile charset names."""

from __future__ import annotations

from email.header import Header

from channels.email.charsets import codec_for, decode_address, decode_bytes, decode_header_value, guess_text

TEXT = "Прошу перевірити нарахування за газ, рахунок 1234567"


def test_cp1251_and_koi8u_are_told_apart_without_a_declaration() -> None:
    assert guess_text(TEXT.encode("cp1251")) == TEXT
    assert guess_text(TEXT.encode("koi8_u")) == TEXT
    assert guess_text(TEXT.encode("utf-8")) == TEXT


def test_declared_charset_wins_and_wrong_declaration_is_reported() -> None:
    assert decode_bytes(TEXT.encode("koi8_u"), "KOI8-U") == (TEXT, None)
    text, problem = decode_bytes(TEXT.encode("cp1251"), "utf-8")
    assert text == TEXT
    assert problem == "text is not valid utf-8"


def test_codecs_that_are_not_charsets_are_refused() -> None:
    assert codec_for("unicode_escape") is None
    assert codec_for("base64") is None
    assert codec_for("rot13") is None
    text, problem = decode_bytes(b"\\u0041", "unicode_escape")
    assert text == "\\u0041"
    assert problem == "unknown charset 'unicode_escape'"


def test_aliases_seen_in_the_wild() -> None:
    assert codec_for("win-1251") == "cp1251"
    assert codec_for('"koi8-u"') == "koi8-u"
    assert codec_for("unknown-8bit") is None


def test_encoded_words_in_two_charsets_and_raw_bytes() -> None:
    value = "=?koi8-u?B?" + __import__("base64").b64encode("Відп".encode("koi8_u")).decode() + "?= =?utf-8?Q?=D0=B7?="
    assert decode_header_value(value) == ("Відпз", None)
    raw = Header("Оплата".encode("cp1251").decode("ascii", "surrogateescape"), charset="unknown-8bit")
    assert decode_header_value(raw)[0] == "Оплата"


def test_broken_base64_encoded_word_keeps_the_header() -> None:
    text, _problem = decode_header_value("=?utf-8?B?!!!not-base64?= tail")
    assert "tail" in text


def test_address_with_comma_in_encoded_name_stays_whole() -> None:
    name = "=?utf-8?B?" + __import__("base64").b64encode("Шевчук, Петро".encode()).decode() + "?="
    assert decode_address(f"{name} <Petro@I.UA>") == ("petro@i.ua", "Шевчук, Петро", None)


def test_address_without_at_is_reported() -> None:
    address, _name, problem = decode_address("undisclosed-recipients:;")
    assert "@" not in address
    assert problem is not None
