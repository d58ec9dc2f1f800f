"""Which meter readings are believable: the rules behind taking, reviewing and refusing a reading."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from routing.meter_readings import Reading, judge

TODAY = date(2026, 12, 7)
LAST = Reading(Decimal(1000), date(2026, 12, 1))


@pytest.mark.parametrize(("value", "taken_on", "tariff", "verdict"), [
    (1000, date(2026, 12, 7), "Побутовий", "accepted"),  # nothing burnt is believable
    (1060, date(2026, 12, 7), "Побутовий", "accepted"),  # 10 m³ a day in December, a flat
    (1100, date(2026, 12, 7), "Побутовий", "review"),  # 16.7 m³ a day: a flat does not burn that
    (1200, date(2026, 12, 7), "Побутовий (з опаленням)", "accepted"),  # a heated house in winter
    (999.5, date(2026, 12, 7), "Побутовий", "refused"),  # lower than the last one
    (1010, date(2026, 11, 30), "Побутовий", "refused"),  # before the last one
    (1010, date(2026, 12, 8), "Побутовий", "refused"),  # in the future
    (1100, date(2026, 12, 7), "невідомий", "accepted"),  # an unknown tariff gets the generous ceiling
])
def test_a_reading_is_judged_against_the_last_one_and_the_tariff(value, taken_on, tariff, verdict):
    judgement = judge(Reading(Decimal(str(value)), taken_on), LAST, tariff, today=TODAY)
    assert judgement.verdict == verdict
    assert (judgement.reason is None) == (verdict == "accepted")


def test_summer_ceilings_are_lower_than_winter_ones():
    june = Reading(Decimal(1000), date(2026, 6, 1))
    assert judge(Reading(Decimal(1050), date(2026, 6, 7)), june, "Побутовий", today=TODAY).verdict == "review"
    assert judge(Reading(Decimal(1050), date(2026, 12, 7)), LAST, "Побутовий", today=TODAY).verdict == "accepted"


def test_the_first_reading_of_a_meter_is_taken_and_a_negative_one_never():
    assert judge(Reading(Decimal(5), TODAY), None, "Побутовий", today=TODAY).verdict == "accepted"
    assert judge(Reading(Decimal(-1), TODAY), None, "Побутовий", today=TODAY).verdict == "refused"
