"""Identifiers of generated clients and accounts, each a fixed one-to-one function of a row id.

Because a phone, an account number, an EIC code or a messenger id is computed from the id of the row
it belongs to (through a fixed affine permutation of its number space), two rows never share one, a
second seeding run that continues the ids never clashes with the first, and the same id always gets the
same identifiers whatever the random seed.  Demo callers use the ranges kept out of these spaces.

Sources: mobile operator codes of Ukraine (Kyivstar 67/68/96/97/98/77, Vodafone 50/66/95/99/75,
lifecell 63/73/93, 3Mob 91) from the national numbering plan; the EIC layout and check character from
the ENTSO-E "Energy Identification Coding Scheme" reference manual (16 characters: 2 for the issuing
office, "56" for Ukraine, 1 for the object type, 12 for the identifier, 1 check character).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from crm_core.seed.places import CITIES, City

MOBILE_CODES: tuple[str, ...] = ("67", "68", "96", "97", "98", "77", "50", "66", "95", "99", "75",
                                 "63", "73", "93")
MOBILE_SUBSCRIBERS_FROM = 1_000_000  # subscriber numbers below this are kept for demo callers
TELEGRAM_IDS_FROM = 300_000_000  # Telegram user ids below this are kept for demo callers
EIC_PREFIX = "56XS"


@dataclass(frozen=True, slots=True)
class _Permutation:
    """``n -> offset + (n * multiplier + shift) mod size``: one-to-one on ``0 <= n < size``."""

    size: int
    multiplier: int
    shift: int
    offset: int = 0

    def __call__(self, n: int) -> int:
        return self.offset + (n * self.multiplier + self.shift) % self.size

    def inverse(self, value: int) -> int | None:
        """The ``n`` that maps to ``value``, or ``None`` when ``value`` is outside the image."""
        if not self.offset <= value < self.offset + self.size:
            return None
        return (value - self.offset - self.shift) * pow(self.multiplier, -1, self.size) % self.size


# Multipliers are prime to the sizes, so each map is a bijection.
_ACCOUNT_NO = _Permutation(size=9_000_000_000, multiplier=2_654_435_761, shift=123_456_789, offset=1_000_000_000)
_MOBILE_SUBSCRIBERS = 10_000_000 - MOBILE_SUBSCRIBERS_FROM
# Over (operator code, subscriber) pairs: size 14 * 9,000,000, multiplier prime to 2, 3, 5 and 7.
_MOBILE = _Permutation(size=len(MOBILE_CODES) * _MOBILE_SUBSCRIBERS, multiplier=2_654_435_761,
                       shift=4_242_424)
_TELEGRAM = _Permutation(size=1_000_000_000, multiplier=48_271, shift=16_807, offset=TELEGRAM_IDS_FROM)


def account_number(account_id: int) -> str:
    """A 10-digit personal account number, never starting with 0."""
    return str(_ACCOUNT_NO(account_id))


def account_id_of(account_no: str) -> int | None:
    """The row id whose :func:`account_number` is ``account_no``, or ``None`` for no generated number."""
    return _ACCOUNT_NO.inverse(int(account_no)) if account_no.isdigit() else None


_EIC_VALUES = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, "-": 36}
_EIC_CHARS = {value: char for char, value in _EIC_VALUES.items()}


def eic_check_char(first15: str) -> str:
    """The ENTSO-E check character of a 15-character EIC stem ('-' means the stem may not be used)."""
    total = sum(_EIC_VALUES[char] * (16 - position) for position, char in enumerate(first15))
    return _EIC_CHARS[36 - (total - 1) % 37]


def complete_eic(stem14: str, start: int = 0) -> str:
    """A 16-character EIC from a 14-character stem: a filler digit (the first from ``start`` on that
    gives a usable check character) and the check character."""
    for step in range(10):
        digit = str((start + step) % 10)
        check = eic_check_char(stem14 + digit)
        if check != "-":
            return stem14 + digit + check
    raise AssertionError("some filler digit always gives a usable check character")


def eic_code(account_id: int) -> str:
    """A gas metering point EIC: ``56XS`` + 10 digits of the account id + filler digit + check."""
    return complete_eic(f"{EIC_PREFIX}{account_id:010d}", account_id)


def mobile_phone(client_id: int) -> str:
    """A mobile number of a real Ukrainian operator, E.164."""
    pair = _MOBILE(client_id)
    code = MOBILE_CODES[pair % len(MOBILE_CODES)]
    return f"+380{code}{MOBILE_SUBSCRIBERS_FROM + pair // len(MOBILE_CODES):07d}"


def _city_slots() -> tuple[tuple[City, int], ...]:
    """1,000 slots spread over the cities by weight (smooth weighted round robin, so consecutive ids
    fall in different cities): each slot is (city, rank of the slot among that city's slots)."""
    total = sum(city.weight for city in CITIES)
    current = [0] * len(CITIES)
    taken = [0] * len(CITIES)
    slots: list[tuple[City, int]] = []
    for _ in range(total):
        for index, city in enumerate(CITIES):
            current[index] += city.weight
        chosen = max(range(len(CITIES)), key=current.__getitem__)
        current[chosen] -= total
        slots.append((CITIES[chosen], taken[chosen]))
        taken[chosen] += 1
    return tuple(slots)


CITY_SLOTS = _city_slots()


def city_of(client_id: int) -> City:
    """The city a client lives in: the one their landline belongs to."""
    return CITY_SLOTS[client_id % len(CITY_SLOTS)][0]


def landline_phone(client_id: int) -> str:
    """A landline in the client's city: area code + a subscriber number unique to the client."""
    city, rank = CITY_SLOTS[client_id % len(CITY_SLOTS)]
    index = (client_id // len(CITY_SLOTS)) * city.weight + rank
    digits = 9 - len(city.area_code)
    space = 8 * 10 ** (digits - 1)  # subscriber numbers start with 2..9
    subscriber = 2 * 10 ** (digits - 1) + (index * 7_777_777 + 1_234_567) % space
    return f"+380{city.area_code}{subscriber}"


def telegram_id(client_id: int) -> str:
    return str(_TELEGRAM(client_id))


def viber_id(client_id: int) -> str:
    """A Viber user id: 24 characters of base64, as the Viber bot API gives them."""
    digest = hashlib.blake2b(client_id.to_bytes(8, "big"), digest_size=16, person=b"switchboard-vbr").digest()
    return base64.b64encode(digest).decode("ascii")
