"""Odd bodies and queries are refused with a 400 and a reason in the user's language, never a 500: JSON
nested deeper than any request needs, NUL characters and lone surrogates in strings, arrays or wrong types
where an object is expected; and no answer names the engine's insides."""

from __future__ import annotations

import re

import pytest

INTERNALS = re.compile(r"Traceback|File \"|pid=|ip=|\.py\b|ray::")


async def refused(response, code: str) -> dict:
    body = await response.text()
    assert response.status == 400, body
    assert not INTERNALS.search(body), body
    answer = await response.json()
    assert answer["error"] == code, answer
    assert answer["message"] and not answer["message"].startswith("error."), answer
    return answer


@pytest.mark.parametrize("raw", [
    "[" * 20_000 + "]" * 20_000,  # deeper than the JSON parser's recursion limit
    '{"login": ' + "[" * 40 + "]" * 40 + ', "password": "x"}',  # deep but parseable
], ids=["recursion", "deep"])
async def test_deeply_nested_json_is_a_400(web, raw):
    response = await web.post("/api/v1/auth/login", data=raw, headers={"Content-Type": "application/json"})
    await refused(response, "too_deep")


@pytest.mark.parametrize("raw", ['{"login": "op\\u0000", "password": "x"}',
                                 '{"login": "op\\ud800", "password": "x"}',
                                 '{"login\\u0000": "op", "password": "x"}'], ids=["nul", "surrogate", "nul-key"])
async def test_nul_or_lone_surrogate_in_a_body_string_is_a_400(web, raw):
    response = await web.post("/api/v1/auth/login", data=raw, headers={"Content-Type": "application/json"})
    answer = await refused(response, "invalid_text")
    assert answer["field"] in ("login", "body")


@pytest.mark.parametrize("raw", ["[]", '[{"login": "a", "password": "b"}]', "42", '"text"', "null"])
async def test_a_json_value_that_is_not_an_object_is_a_400(web, raw):
    response = await web.post("/api/v1/auth/login", data=raw, headers={"Content-Type": "application/json"})
    await refused(response, "invalid_body")


async def test_nul_in_a_query_or_a_path_is_a_400(web, login_as):
    operator = await login_as("cc_operator")
    response = await web.get("/api/v1/clients", params={"name": "Петренко\x00"}, headers=operator.headers)
    await refused(response, "invalid_text")
    response = await web.get("/api/v1/conversations/1%00", headers=operator.headers)
    await refused(response, "invalid_text")


async def test_an_inbound_sender_of_the_wrong_type_is_a_400(web):
    body = {"thread": "t-1", "dedupe_key": "d-1", "from": ["phone", "+380501234567"], "text": "Добрий день"}
    response = await web.post("/api/v1/inbound/site_chat", json=body, headers={"X-Api-Key": "sandbox-webchat-key"})
    await refused(response, "invalid_field")
