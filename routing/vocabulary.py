"""The words configuration files use for one another's things, and the check that they agree.

``tickets.toml`` declares ticket types, priorities and categories; ``routing.toml`` declares queues and
skills; ``sla.toml`` declares calendars.  Client segments are the CRM's data vocabulary
(:data:`SEGMENTS`, which the seed data and the client model use too); channel names are those of the
inbound items (:data:`CHANNELS`) and the kinds of work routing counts (:data:`WORK_KINDS`).  Every value
one file names in another's vocabulary must exist: :meth:`Vocabulary.check` refuses an unknown one at
its line, naming the known values, and :meth:`Vocabulary.check_expression` does the same for each literal
a rule expression compares an attribute with.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from routing.config_source import ConfigError, Section
from routing.expressions import Expression

#: Client segments of the CRM (``clients.segment``): private households, key accounts, legal entities.
REGULAR, VIP, LEGAL = "regular", "vip", "legal"
SEGMENTS: tuple[str, ...] = (REGULAR, VIP, LEGAL)

#: Channels inbound items arrive on (``channels.base.ChannelName``).
CHANNELS: tuple[str, ...] = ("voice", "telegram", "viber", "email", "webchat", "web_form", "app", "sms",
                             "viber_business")

#: The kinds of work an agent's capacity and a queue count (``routing.skills``).
WORK_KINDS: tuple[str, ...] = ("voice", "chat", "email")

#: Languages of clients and agents.
LANGUAGES: tuple[str, ...] = ("uk", "en", "ru")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Known values by what they name; an empty or missing entry is not yet known (not checked)."""

    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def base(cls) -> Vocabulary:
        return cls({"segment": SEGMENTS, "channel": WORK_KINDS, "inbound channel": CHANNELS,
                    "language": LANGUAGES, "identified": ()})

    def with_words(self, **words: Collection[str]) -> Vocabulary:
        return replace(self, words={**self.words, **{k: tuple(v) for k, v in words.items()}})

    def known(self, what: str) -> tuple[str, ...] | None:
        values = self.words.get(what)
        return values or None

    def check(self, section: Section, key: str | int, what: str, value: Any) -> None:
        """Refuse ``value`` at ``key``'s line unless it is a known ``what``."""
        known = self.known(what)
        if known is not None and value not in known:
            section.fail(key, f"unknown {what} {value!r} (known: {', '.join(known)})")

    def check_all(self, section: Section, key: str, what: str, values: Collection[Any]) -> None:
        for value in values:
            self.check(section, key, what, value)

    def check_expression(self, section: Section, key: str, expression: Expression) -> None:
        """Each literal the expression compares an attribute with must be a known value of it
        (``null`` and booleans stand for themselves)."""
        for reference in expression.references:
            known = self.known(reference.attribute)
            if known is None:
                continue
            for value in reference.values:
                if value is not None and not isinstance(value, bool) and value not in known:
                    line = section.source.line_of((*section.path, key))
                    raise ConfigError(section.file, line,
                                      f"{section.where(key)!r} column {reference.column}: unknown "
                                      f"{reference.attribute} {value!r} (known: {', '.join(known)})")
