import pytest

from routing.config import ATTRIBUTES
from routing.expressions import ExpressionError, parse

CALL = {"channel": "voice", "priority": "high", "segment": "regular", "language": "uk", "identified": True}


def test_example_from_routing_docs_matches_and_rejects():
    expression = parse('channel == "voice" and priority in ["high", "urgent"] and segment != "vip"', ATTRIBUTES)
    assert expression.test(CALL)
    assert not expression.test({**CALL, "segment": "vip"})
    assert not expression.test({**CALL, "priority": "normal"})
    assert not expression.test({**CALL, "channel": "chat"})


def test_precedence_not_and_or_and_parentheses():
    assert parse('channel == "chat" or channel == "voice" and not identified').test({"channel": "chat"})
    assert not parse('(channel == "chat" or channel == "voice") and identified == false').test(CALL)
    assert parse("not (priority == 'low')").test(CALL)


def test_not_in_contains_numbers_and_null():
    assert parse('language not in ["en", "pl"]').test(CALL)
    assert parse('category == null').test(CALL)
    assert parse('category contains "gas"').test({"category": "gas_leak"}) is True
    assert parse("attempts >= 3").test({"attempts": 3})
    assert not parse("attempts >= 3").test({"attempts": 2.5})


def test_comparison_of_different_kinds_is_false_not_an_error():
    assert not parse("priority > 3").test(CALL)
    assert not parse("missing < 1").test(CALL)
    assert not parse('tags in ["vip"]').test({"tags": ["vip"]})
    assert not parse('identified contains "x"').test(CALL)


def test_composition_with_operators():
    voice = parse('channel == "voice"')
    vip = parse('segment == "vip"')
    assert (voice & ~vip).test(CALL)
    assert not (voice & vip).test(CALL)
    assert (vip | voice).test(CALL)


@pytest.mark.parametrize(("text", "column", "reason"), [
    ('channel == "voice" and', 23, "expected a value"),
    ('channel = "voice"', 9, "unexpected character"),
    ('priority in ["high", urgent]', 22, "lists hold literals"),
    ('(channel == "voice"', 20, "expected ')'"),
    ('channel == "voice', 12, "unterminated string"),
    ('chanel == "voice"', 1, "unknown attribute 'chanel'"),
    ("", 1, "empty expression"),
])
def test_bad_text_is_refused_with_its_column(text, column, reason):
    with pytest.raises(ExpressionError) as caught:
        parse(text, ATTRIBUTES)
    assert caught.value.column == column
    assert reason in caught.value.reason
