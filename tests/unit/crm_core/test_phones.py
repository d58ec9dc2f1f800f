"""Normalisation of phones, e-mails, messenger and account ids.

Where the samples come from: the number forms are those of the Ukrainian numbering plan (NKRZI/NKEK:
trunk prefix 0, country code 380, the pre-2010 long-distance prefix 8, international prefix 00) as they
appear on utility bills and web forms; the caller id forms are what Asterisk puts in AMI
``CallerIDNum``/``CallerID`` (``<unknown>``, ``anonymous``, ``"Name" <number>``, SIP URIs) per the
Asterisk AMI documentation; Ukrainian short numbers (104 gas emergency, 1551 the government hotline)
are public service numbers.
"""

import pytest

from crm_core.phones import (
    normalize_account_no,
    normalize_contact,
    normalize_email,
    normalize_messenger_id,
    normalize_phone,
    phone_digits,
)


@pytest.mark.parametrize("raw, expected", [
    # national forms people type
    ("0441234567", "+380441234567"),
    ("044 123 45 67", "+380441234567"),
    ("(044) 123-45-67", "+380441234567"),
    ("044-123-45-67", "+380441234567"),
    ("044.123.45.67", "+380441234567"),
    ("067 123 45 67", "+380671234567"),
    ("0 67 123 45 67", "+380671234567"),
    ("(0532) 56-12-34", "+380532561234"),
    ("0 800 500 000", "+380800500000"),
    ("441234567", "+380441234567"),
    # with the country code, with or without +, 00
    ("380441234567", "+380441234567"),
    ("+380441234567", "+380441234567"),
    ("+38 (044) 123-45-67", "+380441234567"),
    ("+38 044 123 45 67", "+380441234567"),
    ("+380 44 123 4567", "+380441234567"),
    ("+380 (67) 123-45-67", "+380671234567"),
    ("+380 067 123 45 67", "+380671234567"),
    ("00380441234567", "+380441234567"),
    ("00 380 67 123 45 67", "+380671234567"),
    ("+38\u00a0067\u00a0123\u00a045\u00a067", "+380671234567"),
    ("+38 067 123\u201245\u201267", "+380671234567"),
    # the old long-distance prefix 8
    ("80441234567", "+380441234567"),
    ("8 (044) 123-45-67", "+380441234567"),
    ("8-067-123-45-67", "+380671234567"),
    # caller ids as Asterisk/VICIdial give them
    ("0671234567", "+380671234567"),
    ("380671234567", "+380671234567"),
    ('"Олена" <0671234567>', "+380671234567"),
    ("Olena <+380671234567>", "+380671234567"),
    ("sip:0671234567@pbx.example.ua", "+380671234567"),
    ("tel:+380671234567", "+380671234567"),
    ("PJSIP:380671234567@trunk", "+380671234567"),
    (380671234567, "+380671234567"),
    # labels and extensions
    ("тел. 044 123 45 67", "+380441234567"),
    ("моб.: 067-123-45-67", "+380671234567"),
    ("044 123 45 67 доб. 12", "+380441234567"),
    ("+380441234567 ext. 305", "+380441234567"),
    ("0441234567#12", "+380441234567"),
    ("044 123 45 67, 067 765 43 21", "+380441234567"),
    # other countries keep their code
    ("+48 22 123 45 67", "+48221234567"),
    ("0048221234567", "+48221234567"),
    ("+1 (202) 555-0143", "+12025550143"),
])
def test_phone_forms_normalise_to_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", [
    None, "", "   ", "anonymous", "Anonymous", "unknown", "<unknown>", "Restricted", "private",
    "104", "1551", "112", "12345", "123-45-67",  # short service numbers, a local number without a code
    "044 123 45 6", "0441234567890", "38044123456",  # a digit short or too many
    "0041234567",  # 0 0.. is not a national number
    "1441234567", "+3801441234567",  # no Ukrainian number starts with 0 or 1 after the code
    "067 ABC 45 67", "++380441234567", "+0", "+",
])
def test_not_a_phone_gives_none(raw):
    assert normalize_phone(raw) is None


def test_normalised_phone_is_a_fixed_point():
    for raw in ("044 123 45 67", "+48 22 123 45 67", "8 067 123 45 67"):
        once = normalize_phone(raw)
        assert normalize_phone(once) == once


def test_phone_digits_keeps_only_digits():
    assert phone_digits("+38 (067) 123-45") == "3806712345"


@pytest.mark.parametrize("raw, expected", [
    ("Olena.Shevchenko@UKR.NET", "olena.shevchenko@ukr.net"),
    ("  olena@ukr.net \n", "olena@ukr.net"),
    ("Олена Шевченко <Olena.Shevchenko@Gmail.com>", "olena.shevchenko@gmail.com"),
    ("mailto:Info@Naftogaz.com", "info@naftogaz.com"),
    ("user+tag@i.ua", "user+tag@i.ua"),
])
def test_emails_are_stripped_and_lower_cased(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "olena", "olena@", "@ukr.net", "olena@ukr", "a b@ukr.net",
                                 "a@b@ukr.net"])
def test_not_an_email_gives_none(raw):
    assert normalize_email(raw) is None


def test_messenger_ids_are_text():
    assert normalize_messenger_id(123456789) == "123456789"
    assert normalize_messenger_id(" 01Ab+/cd== ") == "01Ab+/cd=="
    assert normalize_messenger_id("   ") is None
    assert normalize_messenger_id(None) is None


def test_account_numbers_lose_separators():
    assert normalize_account_no("01 2345-6789") == "0123456789"
    assert normalize_account_no(123456789) == "123456789"
    assert normalize_account_no("12AB") is None


def test_normalize_contact_dispatches_by_kind_and_refuses_unknown_kinds():
    assert normalize_contact("phone", "0441234567") == "+380441234567"
    assert normalize_contact("email", "A@B.UA") == "a@b.ua"
    assert normalize_contact("telegram", 42) == "42"
    assert normalize_contact("viber", "abc==") == "abc=="
    assert normalize_contact("account_no", "0100 000 101") == "0100000101"
    with pytest.raises(ValueError, match="unknown contact kind"):
        normalize_contact("fax", "0441234567")
