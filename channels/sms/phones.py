"""Phone numbers as SMPP wants them: international digits without ``+`` (``380671234567``)."""

from __future__ import annotations

import re

from channels.base import ChannelError

_NOISE = re.compile(r"[\s()\-.]")


def international_digits(phone: str) -> str:
    """``+380 67 123-45-67``, ``380671234567``, ``0671234567`` -> ``380671234567``; anything that is not
    a phone number raises :class:`ChannelError`."""
    cleaned = _NOISE.sub("", phone or "")
    digits = cleaned.removeprefix("+")
    if not digits.isdigit():
        raise ChannelError(f"sms: {phone!r} is not a phone number")
    if len(digits) == 10 and digits.startswith("0"):
        digits = "38" + digits
    if digits.startswith("380") and len(digits) != 12:
        raise ChannelError(f"sms: {phone!r} is not a Ukrainian number (380 and 9 digits)")
    if not 8 <= len(digits) <= 15:
        raise ChannelError(f"sms: {phone!r} has {len(digits)} digits; an international number has 8..15")
    return digits


def e164(phone: str) -> str:
    """The number with its ``+``, as addresses and thread keys carry it."""
    return "+" + international_digits(phone)
