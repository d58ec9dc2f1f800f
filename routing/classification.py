"""Rule-based classification of a ticket: category, type and priority from keywords, channel and client
attributes.  Rules come from config (``[[classification.rules]]`` in tickets.toml, parsed by
:mod:`routing.tickets_config`).

A new ticket is classified from its first message (:func:`classify`).  Rules marked ``raises`` are
also held against every later message of an open ticket (:func:`raise_on_message`): the gas leak
reported in the third message of a chat opened with "Дякую!" makes the ticket an emergency.  A raise
never lowers the priority.

Keywords and text are compared folded (:func:`fold`): case, the Latin letters that look like Cyrillic
ones (``пaхне гaзом`` typed with a Latin ``a``), apostrophes, ``ё`` and runs of spaces do not matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from routing.priority import PRIORITIES

FIELDS = ("category", "type", "priority")

#: Latin letters (and digits) typed for the Cyrillic letters they look like.
_LOOK_ALIKES = str.maketrans({"a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "i": "і", "k": "к", "m": "м",
                              "o": "о", "p": "р", "t": "т", "x": "х", "y": "у", "3": "з", "0": "о",
                              "ё": "е", "’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'"})
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Text as rules compare it.  A word written in Latin letters only stays as it is (an English
    keyword); a word mixing scripts has its Latin look-alikes read as Cyrillic."""
    words = _SPACES.split(text.casefold().strip())
    return " ".join(_fold_word(word) for word in words)


def _fold_word(word: str) -> str:
    if any("а" <= ch <= "я" or ch in "іїєґё" for ch in word):
        return word.translate(_LOOK_ALIKES)
    return word.translate(str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'"}))


@dataclass(frozen=True, slots=True)
class ClassificationRule:
    name: str
    sets: Mapping[str, str]
    keywords: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    identified: bool | None = None
    raises: bool = False  # also held against every later message of an open ticket

    def matches(self, text: str, channel: str, segment: str | None, identified: bool) -> bool:
        """``text`` is folded (:func:`fold`)."""
        if self.keywords and not any(k in text for k in self.keywords):
            return False
        if self.channels and channel not in self.channels:
            return False
        if self.segments and segment not in self.segments:
            return False
        return self.identified is None or self.identified == identified

    @property
    def rank(self) -> int:
        """How high the rule puts a ticket: the index of its priority (-1: it sets none)."""
        priority = self.sets.get("priority")
        return PRIORITIES.index(priority) if priority in PRIORITIES else -1


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    type: str
    priority: str
    rules: tuple[str, ...] = field(default=())

    def fields(self) -> dict[str, str]:
        return {"category": self.category, "type": self.type, "priority": self.priority}


def classify(rules: Iterable[ClassificationRule], *, text: str, channel: str, segment: str | None,
             identified: bool) -> Classification:
    """Each field takes its value from the first matching rule that sets it."""
    folded = fold(text)
    chosen: dict[str, str] = {}
    matched: list[str] = []
    for rule in rules:
        if not rule.matches(folded, channel, segment, identified):
            continue
        new = {k: v for k, v in rule.sets.items() if k not in chosen}
        if new:
            chosen.update(new)
            matched.append(rule.name)
    return Classification(category=chosen.get("category", "general"), type=chosen.get("type", "request"),
                          priority=chosen.get("priority", "normal"), rules=tuple(matched))


def raise_on_message(rules: Sequence[ClassificationRule], current: Classification, *, text: str, channel: str,
                     segment: str | None, identified: bool) -> Classification | None:
    """What a later message of an open ticket makes of it, or None when it changes nothing.

    The ``raises`` rules are tried highest priority first (emergencies before anything else), in config
    order among equals; the first that matches decides.  It sets its category and type and raises the
    priority to its own (never lowers it) -- unless the ticket already stands in a category that a
    ``raises`` rule of at least that priority gives (a gas leak reported again, or a CO alarm on a gas
    leak ticket, changes nothing)."""
    folded = fold(text)
    raising = sorted((r for r in rules if r.raises), key=lambda r: -r.rank)
    for rule in raising:
        if not rule.matches(folded, channel, segment, identified):
            continue
        if any(other.rank >= rule.rank and other.sets.get("category") == current.category for other in raising):
            return None
        priority = current.priority
        if PRIORITIES.index(rule.sets["priority"]) > _index(current.priority):
            priority = rule.sets["priority"]
        raised = Classification(rule.sets.get("category", current.category), rule.sets.get("type", current.type),
                                priority, (rule.name,))
        return raised if raised.fields() != current.fields() else None
    return None


def _index(priority: str) -> int:
    return PRIORITIES.index(priority) if priority in PRIORITIES else 0
