"""The ticket configuration (``config/tickets.toml``): numbering, statuses, types, priorities, categories
and the classification rules.

:func:`load_tickets_config` refuses, with file, line and the known values: a priority routing does not
order, a classification rule setting a type, priority or category the file does not declare, naming a
client segment the CRM does not have or a channel no contact arrives on, a ``raises`` rule without
keywords or priority.  Its :meth:`TicketsConfig.vocabulary` is what ``routing.toml`` and ``sla.toml``
are checked against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing.classification import FIELDS, ClassificationRule, fold
from routing.config_source import Section, parse_toml
from routing.priority import PRIORITIES
from routing.ticket_lifecycle import TicketLifecycle
from routing.vocabulary import Vocabulary


@dataclass(frozen=True, slots=True)
class TicketsConfig:
    file: str
    number_format: str
    repeat_window_hours: float
    lifecycle: TicketLifecycle
    types: tuple[str, ...]
    priorities: tuple[str, ...]
    categories: Mapping[str, str]
    rules: tuple[ClassificationRule, ...]

    @property
    def statuses(self) -> tuple[str, ...]:
        return self.lifecycle.statuses

    @property
    def transitions(self) -> Mapping[str, frozenset[str]]:
        return self.lifecycle.transitions

    def vocabulary(self, base: Vocabulary | None = None) -> Vocabulary:
        return (base or Vocabulary.base()).with_words(type=self.types, priority=self.priorities,
                                                      category=tuple(self.categories))


def _rule(section: Section, vocabulary: Vocabulary) -> ClassificationRule:
    section.only("name", "keywords", "channels", "segments", "identified", "set", "raises")
    name = section.get("name", str, "unnamed")
    sets = section.table("set", {})
    for key, value in sets.data.items():
        sets.check(key, key in FIELDS, f"rule {name!r}: unknown field {key!r} (known: {', '.join(FIELDS)})")
        sets.check(key, isinstance(value, str), f"rule {name!r}: {key} must be a string")
        vocabulary.check(sets, key, key, value)
    segments = section.strings("segments", [])
    vocabulary.check_all(section, "segments", "segment", segments)
    channels = section.strings("channels", [])
    vocabulary.check_all(section, "channels", "inbound channel", channels)
    keywords = tuple(fold(k) for k in section.strings("keywords", []))
    raises = section.get("raises", bool, False)
    section.check("raises", not raises or (bool(keywords) and "priority" in sets.data),
                  f"rule {name!r}: a rule that raises later messages needs keywords and a priority")
    return ClassificationRule(name, dict(sets.data), keywords, tuple(channels), tuple(segments),
                              section.get("identified", bool, None), raises)


def load_tickets_config(text: str, file: str, vocabulary: Vocabulary | None = None) -> TicketsConfig:
    """Parse and validate ``config/tickets.toml`` text; raises ConfigError with file and line."""
    data, source = parse_toml(text, file)
    root = Section(data, (), file, source)
    root.only("types", "priorities", "numbering", "repeat_contacts", "statuses", "categories", "classification")
    types = tuple(root.strings("types"))
    priorities = tuple(root.strings("priorities"))
    for priority in priorities:
        root.check("priorities", priority in PRIORITIES,
                   f"unknown priority {priority!r} (routing orders: {', '.join(PRIORITIES)})")
    categories = root.table("categories", {})
    for code, label in categories.data.items():
        categories.check(code, isinstance(label, str), f"category {code!r}: the label key must be a string")
        parent = code.rpartition(".")[0]
        categories.check(code, not parent or parent in categories.data, f"category {code!r}: no parent {parent!r}")
    numbering = root.table("numbering", {})
    numbering.only("format")
    repeat = root.table("repeat_contacts", {})
    repeat.only("window_hours")
    statuses = root.table("statuses")
    statuses.only("initial", "transitions")
    transitions = statuses.table("transitions")
    lifecycle = statuses.guard("transitions", lambda: TicketLifecycle.from_mapping(
        statuses.get("initial", str, "new"), {k: transitions.strings(k) for k in transitions.data}))
    config = TicketsConfig(file, numbering.get("format", str, "{year:02d}-{seq:06d}"),
                           float(repeat.get("window_hours", (int, float), 72)), lifecycle, types, priorities,
                           dict(categories.data), ())
    known = config.vocabulary(vocabulary)
    classification = root.table("classification", {})
    classification.only("rules")
    rules = tuple(_rule(section, known) for section in classification.tables("rules"))
    return TicketsConfig(config.file, config.number_format, config.repeat_window_hours, lifecycle, types,
                         priorities, config.categories, rules)
