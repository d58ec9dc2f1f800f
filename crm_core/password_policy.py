"""What a new password must be: long enough and not among the passwords seen most in breaches.

The list is zxcvbn's (PyPI ``zxcvbn``) ``passwords`` frequency list: the 30,000 passwords met most often in
public breach corpora, shipped inside the package, so the check needs no network.  A password is refused
when it, lower-cased, or what is left of it after stripping trailing digits and punctuation, is on the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

MIN_LENGTH = 12


class WeakPassword(ValueError):
    """A password the policy refuses; ``reason`` is a stable code (``too_short``, ``common``, ``login``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return type(self), (self.reason, self.detail)


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    min_length: int = MIN_LENGTH

    def check(self, password: str, login: str = "") -> None:
        """Raise :class:`WeakPassword` unless ``password`` may be used by ``login``."""
        if len(password) < self.min_length:
            raise WeakPassword("too_short", f"at least {self.min_length} characters")
        folded = password.casefold()
        if login and login.casefold() in folded:
            raise WeakPassword("login", "must not contain the login")
        stripped = folded.rstrip("0123456789!@#$%^&*.?-_ ")
        if folded in _common() or stripped in _common() or len(set(folded)) <= 2:
            raise WeakPassword("common", "one of the most common passwords")
