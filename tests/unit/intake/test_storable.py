"""Text made storable before the inbox stores it (issue 14, part 2): NUL, half a surrogate pair and
non-finite numbers, which PostgreSQL refuses, are replaced; the item as it came is kept byte-exact; a
clean item is stored as it is; a getMe answer missing fields python-telegram-bot insists on is completed."""

from __future__ import annotations

import base64
import json

import pytest

from actors.inbox import storable_payload
from channels.serialization import exact_bytes, from_exact_bytes, storable, storable_text
from channels.telegram.bot import bot_user_fields


def test_lone_surrogates_and_nul_become_the_replacement_character_and_pairs_survive():
    assert storable_text("кінець \ud83d") == "кінець \ufffd"
    assert storable_text("\udc00 початок") == "\ufffd початок"
    assert storable_text("a\x00b") == "a\ufffdb"
    assert storable_text("ціла пара 😀") == "ціла пара 😀"


def test_every_string_of_a_tree_keys_included_is_made_storable_and_nan_becomes_null():
    tree = {"text": "x\x00", "meta": {"k\ud800": ["ok", float("nan"), 1.5, float("inf"), None, 3]}}
    assert storable(tree) == {"text": "x\ufffd", "meta": {"k\ufffd": ["ok", None, 1.5, None, None, 3]}}


def test_exact_bytes_keep_a_lone_surrogate_and_read_back_the_same():
    value = {"text": "пів пари \ud83d", "nul": "\x00"}
    raw = exact_bytes(value)
    assert b"\xed\xa0\xbd" in raw  # the surrogate's own three bytes, not a replacement
    assert from_exact_bytes(raw) == value


def test_a_clean_payload_is_stored_as_it_is_without_an_original():
    payload = {"text": "Добрий день 😀", "metadata": {"n": 1.5}, "thread_key": "telegram:1"}
    stored, body = storable_payload(payload)
    assert stored is payload and "original" not in stored and json.loads(body) == payload


@pytest.mark.parametrize("payload", [
    {"text": "пів пари \ud83d", "thread_key": "telegram:1"},
    {"text": "нуль\x00", "thread_key": "telegram:1"},
    {"text": "ok", "metadata": {"location": {"latitude": float("nan")}}, "thread_key": "telegram:1"},
])
def test_an_unstorable_payload_is_made_storable_with_the_original_kept_byte_exact(payload):
    stored, body = storable_payload(payload)
    body.encode("utf-8")  # PostgreSQL takes it: valid UTF-8, no NUL escape, no NaN
    assert "\\u0000" not in body and "NaN" not in body
    original = base64.b64decode(stored["original"])
    assert original == exact_bytes(payload)
    assert json.loads(body)["thread_key"] == "telegram:1"


@pytest.mark.parametrize(("answer", "expected"), [
    ({"id": 7000000001, "username": "gas_bot"}, {"id": 7000000001, "is_bot": True, "first_name": "gas_bot"}),
    ({"username": "gas_bot"}, {"id": 7000000001, "is_bot": True, "first_name": "gas_bot"}),
    ({"id": 5, "is_bot": True, "first_name": None}, {"id": 5, "is_bot": True, "first_name": "5"}),
    ({"id": 5, "is_bot": True, "first_name": "Газ"}, {"id": 5, "is_bot": True, "first_name": "Газ"}),
])
def test_a_get_me_answer_is_completed_with_what_is_known(answer, expected):
    fields = bot_user_fields(answer, "7000000001:token")
    assert {key: fields[key] for key in expected} == expected
