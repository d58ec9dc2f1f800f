"""Business calendars, SLA clocks with pauses, policy choice, escalation steps."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from routing.calendar import BusinessCalendar, CalendarError
from routing.config import load_routing_config
from routing.escalation import ActionKind
from routing.sla import SlaClock, TicketSla, TicketStatus
from routing.sla_config import load_sla_config

ROOT = Path(__file__).resolve().parents[3]
KYIV = "Europe/Kyiv"
WEEKDAYS_9_18 = {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
HOUR = 3600.0


def kyiv(*parts: int) -> float:
    """An instant given as Kyiv wall-clock time."""
    from zoneinfo import ZoneInfo
    return datetime(*parts, tzinfo=ZoneInfo(KYIV)).timestamp()


def office() -> BusinessCalendar:
    return BusinessCalendar("office", KYIV, WEEKDAYS_9_18, [date(2026, 1, 1)])


def test_deadline_skips_nights_weekends_and_holidays():
    calendar = office()
    # Wednesday 31 Dec 2025 17:00: one hour left that day, 1 Jan is a holiday, 2 Jan a Friday.
    start = kyiv(2025, 12, 31, 17, 0)
    assert calendar.add_business(start, 2 * HOUR) == kyiv(2026, 1, 2, 10, 0)
    assert calendar.add_business(start, 11 * HOUR) == kyiv(2026, 1, 5, 10, 0)  # Monday
    assert calendar.business_seconds(start, kyiv(2026, 1, 5, 10, 0)) == 11 * HOUR


def test_daylight_saving_change_is_honoured():
    calendar = office()
    # Kyiv moves clocks forward on Sunday 29 March 2026; Monday opens at 09:00 local (06:00 UTC).
    friday = kyiv(2026, 3, 27, 17, 0)
    deadline = calendar.add_business(friday, 2 * HOUR)
    assert datetime.fromtimestamp(deadline, UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_time_before_opening_starts_at_opening():
    calendar = office()
    assert calendar.next_open(kyiv(2026, 1, 3, 12, 0)) == kyiv(2026, 1, 5, 9, 0)  # Saturday -> Monday
    assert calendar.is_open(kyiv(2026, 1, 5, 9, 30))
    assert not calendar.is_open(kyiv(2026, 1, 5, 18, 0))


@pytest.mark.parametrize(("hours", "reason"), [
    ({"mon": ["18:00-09:00"]}, "end before they start"),
    ({"mon": ["09:00-13:00", "12:00-18:00"]}, "overlap"),
    ({"mon": []}, "never open"),
    ({"monday": ["09:00-18:00"]}, "unknown weekday"),
    ({"mon": ["nine to five"]}, "HH:MM-HH:MM"),
])
def test_impossible_calendars_are_refused(hours, reason):
    with pytest.raises(CalendarError, match=reason):
        BusinessCalendar("bad", KYIV, hours)


def test_clock_pauses_on_hold_and_remaining_is_frozen():
    clock = SlaClock(office(), 4 * HOUR, kyiv(2026, 1, 5, 9, 0))
    assert clock.remaining(kyiv(2026, 1, 5, 10, 0)) == 3 * HOUR
    assert clock.deadline() == kyiv(2026, 1, 5, 13, 0)
    clock.pause(kyiv(2026, 1, 5, 10, 0))
    assert clock.deadline() is None
    assert clock.remaining(kyiv(2026, 1, 5, 17, 0)) == 3 * HOUR
    clock.resume(kyiv(2026, 1, 5, 12, 0))
    assert clock.deadline() == kyiv(2026, 1, 5, 15, 0)
    assert clock.instant_at(0.5) == kyiv(2026, 1, 5, 13, 0)
    assert not clock.breached(kyiv(2026, 1, 5, 14, 59))
    assert clock.breached(kyiv(2026, 1, 5, 15, 0))
    restored = SlaClock.restore(office(), clock.state_dict())
    assert restored.deadline() == clock.deadline()


def test_ticket_sla_statuses_stop_and_reopen():
    config = load_sla_config((ROOT / "config" / "sla.toml").read_text(encoding="utf-8"), "config/sla.toml")
    standard = config.policies.for_ticket("request", "normal")
    assert standard.name == "standard" and standard.calendar.name == "office"
    sla = TicketSla(standard, kyiv(2026, 1, 5, 9, 0))
    assert sla.next_deadline() == ("first_response", kyiv(2026, 1, 5, 11, 0))
    sla.responded(kyiv(2026, 1, 5, 9, 30))
    assert sla.first_response.met() is True
    sla.status_changed(TicketStatus.ON_HOLD, kyiv(2026, 1, 5, 10, 0))
    assert sla.next_deadline() is None
    sla.status_changed(TicketStatus.IN_PROGRESS, kyiv(2026, 1, 6, 10, 0))
    sla.status_changed(TicketStatus.RESOLVED, kyiv(2026, 1, 6, 11, 0))
    assert sla.resolution.met() is True
    sla.status_changed(TicketStatus.IN_PROGRESS, kyiv(2026, 1, 7, 9, 0))  # reopened
    assert sla.resolution.met() is None and sla.resolution.deadline() is not None


def test_policy_choice_most_specific_wins():
    config = load_sla_config((ROOT / "config" / "sla.toml").read_text(encoding="utf-8"), "config/sla.toml")
    assert config.policies.for_ticket("emergency", "urgent").name == "emergency"
    assert config.policies.for_ticket("request", "urgent").name == "urgent"
    assert config.policies.for_ticket("complaint", "normal").name == "complaint"
    assert config.policies.for_ticket("request", "high").name == "high"
    assert date(2026, 4, 12) in config.calendars["office"].holidays  # Easter 2026


def test_escalation_levels_warning_breach_and_repeats():
    path = ROOT / "config" / "routing.toml"
    routing = load_routing_config(path.read_text(encoding="utf-8"), str(path))
    config = load_sla_config((ROOT / "config" / "sla.toml").read_text(encoding="utf-8"), "config/sla.toml",
                             queues=routing.queues,
                             departments={q.department for q in routing.queues.values()})
    rules = config.escalations
    sla = TicketSla(config.policies.for_ticket("request", "urgent"), kyiv(2026, 1, 5, 9, 0))  # 15m / 4h 24x7
    attributes = {"segment": "regular"}
    fired: set[str] = set()
    assert rules.next_due(sla, attributes, fired) == kyiv(2026, 1, 5, 9, 12)  # 80 % of 15 minutes
    assert rules.due(sla, attributes, fired, kyiv(2026, 1, 5, 9, 11)) == []
    warning = rules.due(sla, attributes, fired, kyiv(2026, 1, 5, 9, 12))
    assert [(s.rule.name, s.level) for s in warning] == [("first response at risk", 1)]
    fired.add(warning[0].key)
    assert rules.next_due(sla, attributes, fired) == kyiv(2026, 1, 5, 9, 15)
    late = kyiv(2026, 1, 5, 9, 40)  # a late reminder catches up level by level
    breach = rules.due(sla, attributes, fired, late)
    assert [(s.rule.name, s.level) for s in breach] == [("first response breached", 1)]
    assert {a.kind for a in breach[0].actions} == {ActionKind.NOTIFY, ActionKind.RAISE_PRIORITY}
    fired.add(breach[0].key)
    assert [s.key for s in rules.due(sla, attributes, fired, late)] == ["first response breached:2"]
    fired.add("first response breached:2")
    assert rules.next_due(sla, attributes, fired) == kyiv(2026, 1, 5, 9, 45)  # level 3 at breach + 2 x 15m
    sla.responded(kyiv(2026, 1, 5, 9, 41))
    assert rules.next_due(sla, attributes, fired) == kyiv(2026, 1, 5, 13, 0)  # resolution breach next
    moved = rules.due(sla, attributes, fired, kyiv(2026, 1, 5, 13, 0))
    assert [(a.kind, a.value) for a in moved[0].actions][-1] == (ActionKind.MOVE_TO_QUEUE, "escalations")


def test_ticket_sla_survives_persistence():
    config = load_sla_config((ROOT / "config" / "sla.toml").read_text(encoding="utf-8"), "config/sla.toml")
    policy = config.policies.for_ticket("request", "normal")
    sla = TicketSla(policy, kyiv(2026, 1, 5, 9, 0))
    sla.status_changed(TicketStatus.ON_HOLD, kyiv(2026, 1, 5, 9, 30))
    sla.status_changed(TicketStatus.IN_PROGRESS, kyiv(2026, 1, 5, 10, 30))
    restored = TicketSla.restore(policy, sla.state_dict())
    assert restored.next_deadline() == sla.next_deadline() == ("first_response", kyiv(2026, 1, 5, 12, 0))
    assert restored.resolution.remaining(kyiv(2026, 1, 6, 9, 0)) == sla.resolution.remaining(kyiv(2026, 1, 6, 9, 0))


@pytest.mark.parametrize("zone", ["Europe/Kyiv", "Asia/Kathmandu", "America/St_Johns"])
def test_local_dates_change_exactly_at_local_midnight(zone):
    from zoneinfo import ZoneInfo
    calendar = BusinessCalendar("any", zone, {"mon": ["09:00-18:00"]})
    midnight = datetime(2026, 3, 29, tzinfo=ZoneInfo(zone)).timestamp()
    assert calendar.local_date(midnight - 1) == date(2026, 3, 28)
    assert calendar.local_date(midnight) == date(2026, 3, 29)
    assert calendar.local_date(midnight + 899) == date(2026, 3, 29)
