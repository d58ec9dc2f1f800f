"""Caller numbers in the one form the CRM looks them up by: ``+380XXXXXXXXX``.

Asterisk hands the caller number over as the trunk delivered it: ``0671234567`` (national),
``380671234567`` (international without plus), ``80671234567`` (the old long-distance form),
``+380671234567`` or ``00380671234567``.  All of them become ``+380671234567``.  Anything else
(an internal extension, ``anonymous``, a foreign number) is returned as ``None`` and the caller keeps
its raw form.
"""

from __future__ import annotations

_SUBSCRIBER_DIGITS = 9
_ALLOWED = frozenset("+0123456789 -()")


def normalise_phone(raw: str | None) -> str | None:
    """``+380XXXXXXXXX`` for a Ukrainian number in any of its usual spellings, else ``None``."""
    if not raw:
        return None
    text = raw.strip()
    if not text or any(ch not in _ALLOWED for ch in text) or "+" in text[1:]:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("380") and len(digits) == 3 + _SUBSCRIBER_DIGITS:
        subscriber = digits[3:]
    elif digits.startswith("80") and len(digits) == 2 + _SUBSCRIBER_DIGITS:
        subscriber = digits[2:]
    elif digits.startswith("0") and len(digits) == 1 + _SUBSCRIBER_DIGITS:
        subscriber = digits[1:]
    else:
        return None
    if subscriber.startswith("0"):
        return None
    return f"+380{subscriber}"


def is_internal_number(raw: str | None, max_digits: int) -> bool:
    """True for an internal extension (all digits, at most ``max_digits`` long)."""
    return bool(raw) and raw.isdigit() and len(raw) <= max_digits
