"""Real-world and reproduced messages parse into the right sender, subject, text and flags.

The samples and their origins are listed in tests/fixtures/email/SOURCES.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.email.mime import parse_mail

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"


def parse(name: str):
    return parse_mail((FIXTURES / name).read_bytes(), ["support@example.com"])


def test_koi8u_outlook_reply_decodes_ukrainian_quoted_printable() -> None:
    mail = parse("lkml-koi8u-outlook-reply.eml")
    assert mail.sender_address == "vadym.kochan@plvision.eu"
    assert "Від: Chris Packham" in mail.text
    assert "Надіслано: 25 травня 2023 р. 3:53" in mail.text
    assert "Тема: Re: [PATCH 0/3]" in mail.text
    assert mail.references == [
        "<20221019082046.30160-1-vadym.kochan@plvision.eu>",
        "<143fb1ff-b2d4-a6fe-e892-b55a7bbf56f8@alliedtelesis.co.nz>",
    ]
    assert mail.automatic == "Precedence: bulk"
    assert mail.malformed is None


def test_windows_1251_quoted_printable_and_folded_subject() -> None:
    mail = parse("lkml-stable-cp1251-qp.eml")
    assert "Oops… so doing it here" in mail.text
    assert mail.subject == "Re: [PATCH v3 1/2] drm/rockchip: vop: clear DMA stop bit upon vblank on RK3066"
    assert mail.in_reply_to == ["<20240527231202.23365-1-val@packett.cool>"]


def test_raw_8bit_windows_1251_headers_are_decoded() -> None:
    mail = parse("made-cp1251-raw-8bit-headers.eml")
    assert mail.sender_name == "Петро Шевчук"
    assert mail.subject == "Показники лічильника"
    assert "04512 кВт·год" in mail.text
    assert mail.message_id.endswith("@no-message-id.invalid>")
    assert mail.malformed == "no Message-ID"


def test_missing_message_id_gets_the_same_synthetic_id_every_time() -> None:
    assert parse("made-cp1251-raw-8bit-headers.eml").message_id == parse("made-cp1251-raw-8bit-headers.eml").message_id


def test_unknown_charset_is_guessed_and_reported() -> None:
    mail = parse("made-unknown-charset.eml")
    assert mail.text == "Прошу зробити перерахунок після заміни лічильника."
    assert mail.sender_name == "Оксана Мельник"
    assert mail.subject == "Перерахунок після заміни лічильника"
    assert "unknown charset 'x-unknown-ua'" in (mail.malformed or "")


def test_html_only_koi8u_gives_text_from_html() -> None:
    mail = parse("made-html-only-koi8u.eml")
    assert mail.sender_address == "mykola.bondar@meta.ua"
    assert mail.subject == "Re: [#1042] Відключення"
    assert mail.text == "Дякую!\n\nСвітла досі немає, вул. Шевченка 12.\n\n- під'їзд 2"
    assert mail.html is not None and "<b>вул. Шевченка 12</b>" in mail.html
    assert "color:red" not in mail.text


@pytest.mark.parametrize(
    ("name", "defect"),
    [
        ("cpython-msg_15-reused-boundary.eml", "StartBoundaryNotFoundDefect"),
        ("cpython-msg_35-no-header-separator.eml", "MissingHeaderBodySeparatorDefect"),
    ],
)
def test_broken_mime_is_parsed_as_far_as_it_goes_and_marked(name: str, defect: str) -> None:
    mail = parse(name)
    assert defect in (mail.malformed or "")
    assert mail.text
    assert mail.sender_address


def test_named_text_parts_are_attachments() -> None:
    mail = parse("cpython-msg_44-two-attachments.eml")
    assert [(a.filename, a.content_type) for a in mail.attachments] == [("msg.txt", "text/plain")] * 2
    assert mail.attachments[0].data == b"a simple kind of mirror\nto reflect upon our own\n"
    assert mail.sender_name == "Barry A. Warsaw"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("sisimai-exim-04-bounce.eml", "Auto-Submitted: auto-replied"),
        ("made-dsn-multipart-report.eml", "Auto-Submitted: auto-replied"),
    ],
)
def test_bounces_are_automatic(name: str, reason: str) -> None:
    assert parse(name).automatic == reason


def test_delivery_report_keeps_its_machine_readable_part() -> None:
    mail = parse("made-dsn-multipart-report.eml")
    status = next(a for a in mail.attachments if a.content_type == "message/delivery-status")
    assert b"Final-Recipient: rfc822; nobody@ukr.net" in status.data
    assert "\r" not in mail.text
