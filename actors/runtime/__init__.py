"""Virtual actors hosted on Ray: entities addressed by ``ActorRef(kind, id)``, activated on their first
message, one message at a time, passivated when idle; durable reminders in PostgreSQL."""

from actors.runtime.entity import Batch, Entity, EntityContext, ReminderFired
from actors.runtime.ref import ActorRef, shard_of
from actors.runtime.system import ActorSystem

__all__ = ["ActorRef", "ActorSystem", "Batch", "Entity", "EntityContext", "ReminderFired", "shard_of"]
