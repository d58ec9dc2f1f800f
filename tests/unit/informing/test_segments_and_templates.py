"""SMS segment counting (GSM-7 with its extension table, UCS-2 for Cyrillic) and template checks at save
time and at render time (IC-01)."""

from __future__ import annotations

import pickle

import pytest

from routing.informing.segments import count_segments
from routing.informing.templates import TemplateDraft, TemplateError, check_draft, render


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", "gsm7", 0, 0),
    ("a" * 160, "gsm7", 160, 1),
    ("a" * 161, "gsm7", 161, 2),
    ("a" * 306, "gsm7", 306, 2),
    ("a" * 307, "gsm7", 307, 3),
    ("€" * 80, "gsm7", 160, 1),  # the extension table counts double
    ("{" * 81, "gsm7", 162, 2),
    ("Газ" + "а" * 67, "ucs2", 70, 1),
    ("г" * 71, "ucs2", 71, 2),
    ("г" * 134, "ucs2", 134, 2),
    ("г" * 135, "ucs2", 135, 3),
    ("a" * 159 + "ї", "ucs2", 160, 3),  # one Cyrillic letter makes the whole text UCS-2
    ("🔥" * 35, "ucs2", 70, 1),  # outside the BMP: two UTF-16 units each
])
def test_segments(text, encoding, units, segments):
    count = count_segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


def draft(**bodies) -> TemplateDraft:
    return TemplateDraft.from_mapping({"name": "debt", "topic": "service",
                                       "variables": [{"name": "amount", "type": "money"},
                                                     {"name": "name", "type": "text", "max_length": 20}],
                                       "bodies": bodies})


def test_a_body_naming_an_unknown_variable_is_refused_with_each_reason():
    with pytest.raises(TemplateError) as refused:
        check_draft(draft(sms={"text": "Борг {{ amount }} {{ account }}"}, viber={"text": "{{ debt }} {% if %}"}), 3)
    assert [(p.code, p.where) for p in refused.value.problems] == [
        ("unknown_variable", "bodies.sms.text"), ("syntax", "bodies.viber.text")]
    # the refusal crosses a Ray boundary whole
    assert pickle.loads(pickle.dumps(refused.value)).problems == refused.value.problems


def test_an_sms_too_long_at_its_longest_values_is_refused_and_the_limit_is_configurable():
    body = {"text": "Шановний {{ name }}, ваш борг становить {{ amount }} грн. Сплатіть, будь ласка, до кінця місяця."}
    with pytest.raises(TemplateError, match="too_many_segments"):
        check_draft(draft(sms=body), 1)
    assert check_draft(draft(sms=body), 2).sms_segments.segments == 2


def test_email_needs_a_subject_and_unknown_channels_and_fields_are_refused():
    with pytest.raises(TemplateError) as refused:
        check_draft(draft(email={"text": "x"}, fax={"text": "x"}, sms={"text": "x", "html": "<b>x</b>"}), 3)
    assert {(p.code, p.where) for p in refused.value.problems} == {
        ("field_missing", "bodies.email.subject"), ("unknown_channel", "bodies.fax"), ("unknown_field", "bodies.sms.html")}


def test_render_fills_typed_values_and_a_missing_or_unknown_value_is_an_error_not_a_hole():
    template = draft(sms={"text": "{{ name }}: борг {{ amount }} грн"},
                     email={"subject": "Борг", "text": "{{ amount }}", "html": "<p>{{ name }}</p>"})
    rendered = render(template.variables, template.bodies, "sms", {"amount": "1234.5", "name": "Олена"})
    assert rendered.text == "Олена: борг 1234,50 грн"
    assert rendered.segments.encoding == "ucs2"
    html = render(template.variables, template.bodies, "email", {"amount": 1, "name": "<script>"}).html
    assert html == "<p>&lt;script&gt;</p>"  # values are escaped in HTML bodies
    with pytest.raises(TemplateError, match="value_missing"):
        render(template.variables, template.bodies, "sms", {"amount": "1"})
    with pytest.raises(TemplateError, match="unknown_variable"):
        render(template.variables, template.bodies, "sms", {"amount": "1", "name": "x", "extra": "y"})
    with pytest.raises(TemplateError, match="bad_value"):
        render(template.variables, template.bodies, "sms", {"amount": "багато", "name": "x"})
    with pytest.raises(TemplateError, match="no_body_for_channel"):
        render(template.variables, template.bodies, "viber", {"amount": "1", "name": "x"})


def test_the_sandbox_refuses_unsafe_template_code():
    template = draft(sms={"text": "{{ name.__class__.__mro__ }}"})
    with pytest.raises(TemplateError, match="render_failed.*unsafe"):
        render(template.variables, template.bodies, "sms", {"amount": 1, "name": "x"})
