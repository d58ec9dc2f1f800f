"""Is a meter reading believable?  Pure rules, no I/O: a reading lower than the meter's last one is refused;
one that implies more gas a day than the account's tariff plausibly burns in that season is held for
review by a person rather than taken in silently; anything else is accepted.

Daily ceilings (cubic metres a day) are for one metering point: a flat with a stove and a water heater
burns a few cubic metres a day, a house heated by gas tens in winter, a school or a boiler house
hundreds.  They are set in configuration; these are the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

Verdict = Literal["accepted", "review", "refused"]
HEATING_MONTHS = frozenset({10, 11, 12, 1, 2, 3, 4})

# tariff -> (winter ceiling, summer ceiling), m³ a day
DEFAULT_CEILINGS: Mapping[str, tuple[Decimal, Decimal]] = {
    "Побутовий": (Decimal(12), Decimal(4)),
    "Побутовий річний": (Decimal(12), Decimal(4)),
    "Побутовий (з опаленням)": (Decimal(45), Decimal(6)),
    "Бюджетний": (Decimal(400), Decimal(80)),
    "ОСББ": (Decimal(600), Decimal(120)),
}
FALLBACK_CEILING = (Decimal(45), Decimal(8))


@dataclass(frozen=True, slots=True)
class Reading:
    value: Decimal
    taken_on: date


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    reason: str | None = None


def judge(new: Reading, last: Reading | None, tariff: str | None, *, today: date,
          ceilings: Mapping[str, tuple[Decimal, Decimal]] = DEFAULT_CEILINGS) -> Judgement:
    """What to do with ``new`` given the meter's ``last`` reading and the account's tariff."""
    if new.value < 0:
        return Judgement("refused", "a reading is not negative")
    if new.taken_on > today:
        return Judgement("refused", "a reading is not taken in the future")
    if last is None:
        return Judgement("accepted")
    if new.taken_on < last.taken_on:
        return Judgement("refused", f"an earlier reading than the last one ({last.taken_on.isoformat()})")
    if new.value < last.value:
        return Judgement("refused", f"lower than the last reading {last.value} of {last.taken_on.isoformat()}")
    days = max((new.taken_on - last.taken_on).days, 1)
    winter, summer = ceilings.get(tariff or "", FALLBACK_CEILING)
    ceiling = winter if new.taken_on.month in HEATING_MONTHS else summer
    per_day = (new.value - last.value) / days
    if per_day > ceiling:
        return Judgement("review", f"{per_day:.1f} m³ a day since {last.taken_on.isoformat()}, more than the "
                                   f"{ceiling} m³ plausible for the tariff in this season")
    return Judgement("accepted")
