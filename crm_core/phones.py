"""Normalisation of contact points to the forms the CRM core stores and looks up.

Phones become E.164 (``+380441234567``) from whatever a caller id or a person gives: national form
(``044 123 45 67``), the old long-distance prefix (``8 044 ...``), international with or without ``+``
or ``00``, an AMI/SIP caller id (``"Олена" <0671234567>``, ``sip:0671234567@pbx``), an extension
suffix (``доб. 12``).  Numbers with a bare 9-digit Ukrainian national significant number are taken as
Ukrainian; an explicit international number of another country keeps its country code.  Anything that
is not a phone (``anonymous``, ``unknown``, a short service number) gives ``None``.

E-mails are stripped and lower-cased; messenger ids are kept as the messenger gives them, as text.
"""

from __future__ import annotations

import re

UA_COUNTRY_CODE = "380"
UA_NSN_LENGTH = 9  # national significant number: operator/area code + subscriber

CONTACT_KINDS = ("phone", "email", "telegram", "viber")

_URI_USER = re.compile(r"^(?:sips?|tel|pjsip|iax2?):([^@;>]+)", re.IGNORECASE)
_ANGLE = re.compile(r"<([^>]*)>")
_LABEL = re.compile(r"^(?:тел|моб|tel|mob|phone|т)\.?\s*:?\s*", re.IGNORECASE)
_EXTENSION = re.compile(r"(?:(?:доб|ext|вн)\.?|x|#|,|;).*$", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"[\s\-().\u00a0\u2010-\u2015/]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_SEPARATORS = re.compile(r"[\s\-]+")


def normalize_phone(raw: str | int | None) -> str | None:
    """The E.164 form of a phone number, or ``None`` when ``raw`` is not a usable phone."""
    if raw is None:
        return None
    text = str(raw).strip()
    angled = _ANGLE.search(text)
    if angled:
        text = angled.group(1).strip()
    uri = _URI_USER.match(text)
    if uri:
        text = uri.group(1)
    text = _EXTENSION.sub("", _LABEL.sub("", text))
    text = _PHONE_CHARS.sub("", text)
    if not text:
        return None
    international = text.startswith("+")
    digits = text[1:] if international else text
    if not digits.isdigit():
        return None
    if digits.startswith("00"):
        international, digits = True, digits[2:]
    if international:
        return _international(digits)
    return _national(digits)


def _international(digits: str) -> str | None:
    if digits.startswith(UA_COUNTRY_CODE):
        return _ukrainian(digits[len(UA_COUNTRY_CODE):])
    if 10 <= len(digits) <= 15 and digits[0] != "0":  # E.164 allows 15; real numbers have 10+
        return "+" + digits
    return None


def _national(digits: str) -> str | None:
    length = len(digits)
    if length == 12 and digits.startswith(UA_COUNTRY_CODE):
        return _ukrainian(digits[3:])
    if length == 11 and digits.startswith("80"):  # the old long-distance prefix: 8 044 123 45 67
        return _ukrainian(digits[2:])
    if length == 10 and digits.startswith("0"):
        return _ukrainian(digits[1:])
    if length == UA_NSN_LENGTH:
        return _ukrainian(digits)
    return None


def _ukrainian(nsn: str) -> str | None:
    if len(nsn) == UA_NSN_LENGTH + 1 and nsn[0] == "0":  # +380 044 ...: the trunk 0 kept after the code
        nsn = nsn[1:]
    if len(nsn) != UA_NSN_LENGTH or nsn[0] in "01":
        return None
    return "+" + UA_COUNTRY_CODE + nsn


def phone_digits(raw: str) -> str:
    """Only the digits of ``raw``: what a partial phone search matches inside stored numbers."""
    return "".join(ch for ch in raw if ch.isdigit())


def normalize_email(raw: str | None) -> str | None:
    """The stored form of an e-mail address (``Name <A@B.ua>`` -> ``a@b.ua``), or ``None``."""
    if raw is None:
        return None
    text = raw.strip()
    angled = _ANGLE.search(text)
    if angled:
        text = angled.group(1)
    text = text.strip().lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:"):]
    return text if _EMAIL.match(text) else None


def normalize_messenger_id(raw: str | int | None) -> str | None:
    """A Telegram or Viber user id as text; ``None`` when empty."""
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def normalize_account_no(raw: str | int | None) -> str | None:
    """A personal account number without the spaces and dashes people type into it."""
    if raw is None:
        return None
    text = _SEPARATORS.sub("", str(raw))
    return text if text.isdigit() else None


def normalize_contact(kind: str, raw: str | int | None) -> str | None:
    """The stored form of a contact point of ``kind`` (phone, email, telegram, viber, account_no)."""
    if kind == "phone":
        return normalize_phone(raw)
    if kind == "email":
        return normalize_email(None if raw is None else str(raw))
    if kind in ("telegram", "viber"):
        return normalize_messenger_id(raw)
    if kind == "account_no":
        return normalize_account_no(raw)
    raise ValueError(f"unknown contact kind {kind!r}; expected one of {(*CONTACT_KINDS, 'account_no')}")
