"""Phone numbers as channels receive them, in E.164 (``+380671234567``): the one normaliser of every
channel.  The CRM core normalises again when it looks a number up (:mod:`crm_core.phones` is the
authority); channels need this form to name the sender and to tell a client's number from an internal one.

Telegram sends a shared contact's number with or without ``+`` ("380501234567"); Viber sends what the
user's address book holds ("050-123-45-67"); Asterisk hands the caller number over as the trunk delivered
it: national ``0671234567``, ``380671234567``, the old long-distance ``80671234567``, ``+380…`` or
``00380…``.  All of them become ``+380671234567``.  A number of another country keeps its code, unless
the caller asks for Ukrainian numbers only (a trunk's caller id: anything else is not a client's phone).
"""

from __future__ import annotations

UA = "380"
UA_SUBSCRIBER_DIGITS = 9
MIN_DIGITS, MAX_DIGITS = 7, 15
_ALLOWED = frozenset("+0123456789 -().")


def normalise_phone(raw: str | None, *, ukrainian_only: bool = False) -> str | None:
    """E.164 form of ``raw``, or ``None`` when it is not a phone number (with ``ukrainian_only``: not a
    Ukrainian one)."""
    text = (raw or "").strip()
    if not text or any(ch not in _ALLOWED for ch in text) or "+" in text[1:]:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    international = text.startswith("+")
    if digits.startswith("00"):
        international, digits = True, digits[2:]
    if not international:
        if len(digits) == 10 and digits.startswith("0"):
            digits = UA + digits[1:]
        elif len(digits) == 11 and digits.startswith("80"):
            digits = "3" + digits
    if digits.startswith(UA):
        subscriber = digits[len(UA):]
        return "+" + digits if len(subscriber) == UA_SUBSCRIBER_DIGITS and subscriber[0] != "0" else None
    if ukrainian_only or not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return None
    return "+" + digits
