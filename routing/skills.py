"""Skills with levels on agents and requirements on conversations.

An agent has skills with levels 1-5, the languages they speak, the client segments they may serve (for
instance ``vip`` or ``legal``) and their departments.  A conversation in a queue carries
:class:`Requirements`: skills with a minimum level, and optionally a language, a segment, a department,
or one named agent (a transfer to that agent).  :meth:`AgentProfile.satisfies` decides eligibility; the
queue book calls it once per (requirements, agent) pair and keeps the answer, never per decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

MIN_LEVEL = 1
MAX_LEVEL = 5

VOICE = "voice"
CHAT = "chat"
EMAIL = "email"

#: Capacity per channel an agent has unless configured otherwise: one call, three chats, five e-mails.
DEFAULT_CAPACITY: Mapping[str, int] = {VOICE: 1, CHAT: 3, EMAIL: 5}


class SkillError(ValueError):
    """A skill level outside 1-5 or a malformed requirement."""


def check_level(skill: str, level: int) -> int:
    if not isinstance(level, int) or isinstance(level, bool) or not MIN_LEVEL <= level <= MAX_LEVEL:
        raise SkillError(f"skill {skill!r}: level must be an integer {MIN_LEVEL}-{MAX_LEVEL}, got {level!r}")
    return level


class Requirements(NamedTuple):
    """What an agent must have to be offered a conversation.  Hashable (a tuple, so hashing is cheap):
    the queue book groups waiting conversations by their requirements and caches the eligible agents
    of each group."""

    channel: str
    skills: tuple[tuple[str, int], ...] = ()
    language: str | None = None
    segment: str | None = None
    department: str | None = None
    agent: str | None = None

    @classmethod
    def of(cls, channel: str, skills: Mapping[str, int] | None = None, *, language: str | None = None,
           segment: str | None = None, department: str | None = None,
           agent: str | None = None) -> Requirements:
        """Build requirements with skills in a canonical order (so equal requirements hash equal)."""
        pairs = tuple(sorted((name, check_level(name, level)) for name, level in (skills or {}).items()))
        return cls(channel, pairs, language, segment, department, agent)

    def with_skills(self, skills: Mapping[str, int]) -> Requirements:
        """The same requirements with other skills (overflow drops them, a transfer may set them)."""
        return Requirements.of(self.channel, skills, language=self.language, segment=self.segment,
                               department=self.department, agent=self.agent)


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """The static part of an agent as routing sees it: who they are and what they can do."""

    agent_id: str
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()
    capacity: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))

    @classmethod
    def of(cls, agent_id: str, skills: Mapping[str, int] | None = None, *, languages: Iterable[str] = (),
           segments: Iterable[str] = (), departments: Iterable[str] = (),
           capacity: Mapping[str, int] | None = None) -> AgentProfile:
        checked = {name: check_level(name, level) for name, level in (skills or {}).items()}
        merged = dict(DEFAULT_CAPACITY)
        merged.update(capacity or {})
        for channel, slots in merged.items():
            if not isinstance(slots, int) or isinstance(slots, bool) or slots < 0:
                raise SkillError(f"agent {agent_id!r}: capacity for {channel!r} must be a non-negative integer")
        return cls(agent_id, checked, frozenset(languages), frozenset(segments), frozenset(departments), merged)

    def level(self, skill: str) -> int:
        return self.skills.get(skill, 0)

    def satisfies(self, requirements: Requirements) -> bool:
        """True when this agent may be offered a conversation with these requirements (capacity aside)."""
        channel, required, language, segment, department, agent = requirements
        if agent is not None and agent != self.agent_id:
            return False
        if self.capacity.get(channel, 0) <= 0:
            return False
        if language is not None and language not in self.languages:
            return False
        if segment is not None and segment not in self.segments:
            return False
        if department is not None and department not in self.departments:
            return False
        skills = self.skills
        for name, level in required:  # noqa: SIM110 - a plain loop: this runs per agent per new group
            if skills.get(name, 0) < level:
                return False
        return True

    def match_score(self, requirements: Requirements) -> int:
        """How well the agent's levels cover the required skills (sum of levels on those skills)."""
        skills = self.skills
        return sum(skills.get(name, 0) for name, _ in requirements.skills)
