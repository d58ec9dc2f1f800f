"""Rule-based classification of a new ticket: category, type and priority from keywords, channel and
client attributes.  Rules come from config (``[[classification.rules]]`` in tickets.toml)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FIELDS = ("category", "type", "priority")


@dataclass(frozen=True, slots=True)
class ClassificationRule:
    name: str
    sets: Mapping[str, str]
    keywords: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    identified: bool | None = None

    def matches(self, text: str, channel: str, segment: str | None, identified: bool) -> bool:
        if self.keywords and not any(k in text for k in self.keywords):
            return False
        if self.channels and channel not in self.channels:
            return False
        if self.segments and segment not in self.segments:
            return False
        return self.identified is None or self.identified == identified

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> ClassificationRule:
        name = str(raw.get("name", "unnamed"))
        sets = dict(raw.get("set", {}))
        unknown = set(sets) - set(FIELDS)
        if unknown:
            raise ValueError(f"classification rule {name!r}: unknown fields {sorted(unknown)}")
        return cls(name=name, sets=sets,
                   keywords=tuple(k.casefold() for k in raw.get("keywords", ())),
                   channels=tuple(raw.get("channels", ())), segments=tuple(raw.get("segments", ())),
                   identified=raw.get("identified"))


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    type: str
    priority: str
    rules: tuple[str, ...] = field(default=())


def classify(rules: Iterable[ClassificationRule], *, text: str, channel: str, segment: str | None,
             identified: bool) -> Classification:
    """Each field takes its value from the first matching rule that sets it."""
    folded = text.casefold()
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
