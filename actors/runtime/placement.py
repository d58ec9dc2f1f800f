"""Which process (one Ray actor) hosts each shard.

By default every shard of every kind has a process of its own.  A *host group* puts several shards in one
process, so messages between their entities stay in that process instead of costing a Ray call at each
end: on one machine the agents and the queues, which message each other on every routing decision, are a
natural group.  A group lists kinds (every shard of the kind) or single shards (``"conversation:0"``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from actors.runtime.ref import host_name

Shard = tuple[str, int]


class PlacementError(ValueError):
    """A host group names an unknown kind or shard, or a shard already placed in another group."""


@dataclass(frozen=True)
class Placement:
    """Process name -> the shards it hosts, in a stable order."""

    processes: Mapping[str, tuple[Shard, ...]]

    @classmethod
    def of(cls, shards: Mapping[str, int], groups: Mapping[str, Sequence[str]] | None = None) -> Placement:
        processes: dict[str, tuple[Shard, ...]] = {}
        placed: dict[Shard, str] = {}
        for group, members in (groups or {}).items():
            hosted = tuple(shard for member in members for shard in _expand(member, shards))
            for shard in hosted:
                if shard in placed:
                    raise PlacementError(f"host group {group!r}: {shard[0]}:{shard[1]} is already in "
                                         f"group {placed[shard]!r}")
                placed[shard] = group
            if hosted:
                processes[group_name(group)] = hosted
        for kind, count in shards.items():
            for shard in range(count):
                if (kind, shard) not in placed:
                    processes[host_name(kind, shard)] = ((kind, shard),)
        return cls(processes)

    def process_of(self) -> dict[Shard, str]:
        return {shard: name for name, hosted in self.processes.items() for shard in hosted}

    def __iter__(self) -> Iterator[tuple[str, tuple[Shard, ...]]]:
        return iter(self.processes.items())


def group_name(group: str) -> str:
    """The Ray actor name of a host group's process."""
    return f"hosts:{group}"


def _expand(member: str, shards: Mapping[str, int]) -> list[Shard]:
    kind, _, number = member.partition(":")
    if kind not in shards:
        raise PlacementError(f"host group member {member!r}: no entity kind {kind!r} "
                             f"(kinds: {', '.join(sorted(shards))})")
    if not number:
        return [(kind, shard) for shard in range(shards[kind])]
    if not number.isdigit() or int(number) >= shards[kind]:
        raise PlacementError(f"host group member {member!r}: {kind} has shards 0..{shards[kind] - 1}")
    return [(kind, int(number))]
