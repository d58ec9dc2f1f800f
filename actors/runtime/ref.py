"""Addresses of entity actors and their placement on host shards."""

from __future__ import annotations

import zlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActorRef:
    """The address of one entity actor: its kind (``conversation``, ``agent``, ``queue``) and id."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.id}"


def shard_of(kind: str, entity_id: str, shards: int) -> int:
    """The host shard that owns an entity: a stable hash, the same in every process and on every run."""
    return zlib.crc32(f"{kind}\x1f{entity_id}".encode()) % shards


def host_name(kind: str, shard: int) -> str:
    """The Ray actor name of the host of one shard."""
    return f"host:{kind}:{shard}"
