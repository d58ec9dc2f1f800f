"""The SLA configuration (``config/sla.toml``): calendars, holidays, policies, escalation rules.

:func:`load_sla_config` refuses, with file, line and reason: an impossible calendar (unknown time zone,
bad or overlapping hours, never open, a holiday that is not a date), a policy naming an unknown calendar,
an escalation moving tickets to an unknown queue or department (given the routing config), a rule
expression that does not parse, a policy or rule naming a ticket type, priority, segment or category
that the vocabulary (``tickets.toml``, the CRM's segments) does not know -- each with the known values.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfoNotFoundError

from routing.calendar import WEEKDAYS, BusinessCalendar, CalendarError
from routing.config import ATTRIBUTES
from routing.config_source import Section, parse_toml
from routing.escalation import ActionKind, EscalationAction, EscalationRule, EscalationRules
from routing.expressions import ALWAYS, ExpressionError, parse
from routing.priority import PRIORITIES
from routing.sla import ANY, CLOCKS, SlaPolicies, SlaPolicy
from routing.vocabulary import Vocabulary

_AT = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*%|breach\s*(?:\+\s*(\d+(?:\.\d+)?)\s*([smhd]?))?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class SlaConfig:
    file: str
    calendars: Mapping[str, BusinessCalendar]
    policies: SlaPolicies
    escalations: EscalationRules


def _calendar(name: str, section: Section, holiday_sets: Mapping[str, frozenset[date]]) -> BusinessCalendar:
    section.only("time_zone", "hours", "holidays")
    hours = section.table("hours")
    spans = {day: hours.strings(day) for day in hours.data}
    for day in spans:
        hours.check(day, day in WEEKDAYS, f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
    holidays: set[date] = set()
    for entry in section.get("holidays", list, []):
        if isinstance(entry, str) and entry in holiday_sets:
            holidays |= holiday_sets[entry]
        elif isinstance(entry, date):
            holidays.add(entry)
        else:
            section.fail("holidays", f"holiday {entry!r} is neither a date nor a holiday list name")
    zone = section.get("time_zone", str)
    try:
        return BusinessCalendar(name, zone, spans, holidays)
    except ZoneInfoNotFoundError:
        section.fail("time_zone", f"unknown time zone {zone!r}")
    except CalendarError as exc:
        section.fail("hours", f"calendar {name!r}: {exc}")


def _holiday_sets(section: Section) -> dict[str, frozenset[date]]:
    sets = {}
    for name, values in section.data.items():
        section.check(name, isinstance(values, list) and all(
            isinstance(v, date) and not hasattr(v, "hour") for v in values),
            f"holidays {name!r} must be a list of dates like 2026-01-01")
        sets[name] = frozenset(values)
    return sets


def _action(section: Section, queues: Collection[str] | None, departments: Collection[str] | None,
            ) -> EscalationAction:
    section.only("action", "to", "steps", "queue", "department")
    kind_text = section.get("action", str)
    section.check("action", kind_text in set(ActionKind),
                  f"unknown action {kind_text!r} (known: {', '.join(ActionKind)})")
    kind = ActionKind(kind_text)
    if kind is ActionKind.NOTIFY:
        return EscalationAction(kind, section.get("to", str, "supervisors"))
    if kind is ActionKind.RAISE_PRIORITY:
        steps = section.get("steps", int, 1)
        section.check("steps", 1 <= steps < len(PRIORITIES), "steps must be 1-3")
        return EscalationAction(kind, steps)
    if kind is ActionKind.MOVE_TO_QUEUE:
        queue = section.get("queue", str)
        section.check("queue", queues is None or queue in queues,
                      f"unknown queue {queue!r} (known: {', '.join(queues or ())})")
        return EscalationAction(kind, queue)
    department = section.get("department", str)
    section.check("department", departments is None or department in departments,
                  f"unknown department {department!r} (known: {', '.join(sorted(departments or ()))})")
    return EscalationAction(kind, department)


def _rule(section: Section, queues: Collection[str] | None, departments: Collection[str] | None,
          vocabulary: Vocabulary) -> EscalationRule:
    section.only("name", "clock", "at", "repeat_every", "max_levels", "when", "actions")
    clock = section.get("clock", str)
    section.check("clock", clock in CLOCKS, f"unknown clock {clock!r} (known: {', '.join(CLOCKS)})")
    at_text = section.get("at", str)
    found = _AT.match(at_text)
    section.check("at", found is not None, f"'at' must be like \"80%\", \"breach\" or \"breach+30m\", got {at_text!r}")
    assert found is not None
    fraction = float(found.group(1)) / 100 if found.group(1) else None
    section.check("at", fraction is None or 0 < fraction <= 10, "'at' percentage must be above 0")
    offset = float(found.group(2)) * _UNITS[found.group(3) or ""] if found.group(2) else 0.0
    expression = ALWAYS
    if "when" in section.data:
        text = section.get("when", str)
        try:
            expression = parse(text, ATTRIBUTES)
        except ExpressionError as exc:
            section.fail("when", f"expression {text!r} does not parse: {exc}")
        vocabulary.check_expression(section, "when", expression)
    actions = tuple(_action(a, queues, departments) for a in section.tables("actions"))
    section.check("actions", bool(actions), "an escalation rule needs at least one action")
    repeat = section.duration("repeat_every", None)
    levels = section.get("max_levels", int, 3 if repeat else 1)
    section.check("max_levels", levels >= 1, "max_levels must be at least 1")
    return EscalationRule(section.get("name", str), clock, fraction, offset, actions, repeat, levels, expression)


def load_sla_config(text: str, file: str, *, queues: Collection[str] | None = None,
                    departments: Collection[str] | None = None, vocabulary: Vocabulary | None = None,
                    ) -> SlaConfig:
    """Parse and validate ``config/sla.toml`` text.  Pass the routing config's queue names and
    departments so escalations to unknown ones are refused, and the tickets' vocabulary so policies and
    rules naming unknown types, priorities or categories are."""
    vocabulary = (vocabulary or Vocabulary.base()).with_words(department=sorted(departments or ()))
    data, source = parse_toml(text, file)
    root = Section(data, (), file, source)
    root.only("holidays", "calendars", "policies", "escalations")
    holiday_sets = _holiday_sets(root.table("holidays", {}))
    calendars = {name: _calendar(name, section, holiday_sets) for name, section in root.table("calendars").items()}
    policies = []
    for section in root.tables("policies"):
        section.only("name", "type", "priority", "calendar", "first_response", "resolution")
        calendar = section.get("calendar", str)
        section.check("calendar", calendar in calendars,
                      f"unknown calendar {calendar!r} (known: {', '.join(calendars)})")
        priority = section.get("priority", str, ANY)
        section.check("priority", priority == ANY or priority in PRIORITIES,
                      f"unknown priority {priority!r} (known: {', '.join(PRIORITIES)})")
        ticket_type = section.get("type", str, ANY)
        if priority != ANY:
            vocabulary.check(section, "priority", "priority", priority)
        if ticket_type != ANY:
            vocabulary.check(section, "type", "type", ticket_type)
        policies.append(SlaPolicy(section.get("name", str), ticket_type, priority,
                                  calendars[calendar], section.duration("first_response") or 0.0,
                                  section.duration("resolution") or 0.0))
    root.check("policies", bool(policies), "at least one SLA policy is required")
    rules = [_rule(section, queues, departments, vocabulary) for section in root.tables("escalations")]
    names = [r.name for r in rules]
    for index, name in enumerate(names):
        root.check("escalations", names.count(name) == 1 or names.index(name) == index,
                   f"escalation rule name {name!r} is used twice")
    return SlaConfig(file, calendars, SlaPolicies(policies), EscalationRules(rules))
