"""Caller numbers of the trunk in the one form the CRM looks them up by (``+380XXXXXXXXX``, by
:mod:`channels.phones`), and internal extensions.  Anything that is not a Ukrainian number (an internal
extension, ``anonymous``, a foreign number) is ``None`` and the caller keeps its raw form.
"""

from __future__ import annotations

from channels.phones import normalise_phone as channel_phone


def normalise_phone(raw: str | None) -> str | None:
    """``+380XXXXXXXXX`` for a Ukrainian number in any of its usual spellings, else ``None``."""
    return channel_phone(raw, ukrainian_only=True)


def is_internal_number(raw: str | None, max_digits: int) -> bool:
    """True for an internal extension (all digits, at most ``max_digits`` long)."""
    return bool(raw) and raw.isdigit() and len(raw) <= max_digits
