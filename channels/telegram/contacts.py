"""Phone numbers as messengers deliver them, normalised to E.164 for client identification.

Telegram sends a shared contact's number with or without ``+`` ("380501234567", "+380 50 123 45 67");
Viber sends what the user's address book holds ("050-123-45-67").  Identification in the CRM core
matches on E.164, so every channel hands over ``+<country><number>``.  Ukrainian national forms
(``0XXXXXXXXX``, the old trunk form ``80XXXXXXXXX``) get the +380 country code.
"""

from __future__ import annotations

MIN_DIGITS = 7
MAX_DIGITS = 15


def normalise_phone(raw: str) -> str | None:
    """E.164 form of ``raw`` (``"+380501234567"``), or ``None`` when it is not a phone number."""
    stripped = raw.strip()
    digits = "".join(ch for ch in stripped if ch.isdigit())
    if stripped.startswith("00"):
        digits = digits[2:]
    elif not stripped.startswith("+"):
        if len(digits) == 10 and digits.startswith("0"):
            digits = "38" + digits
        elif len(digits) == 11 and digits.startswith("80"):
            digits = "3" + digits
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return None
    return "+" + digits
