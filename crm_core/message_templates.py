"""Message templates in PostgreSQL: every save is a new version; a message pins the version it was
queued with.  A draft is checked (:func:`routing.informing.templates.check_draft`) before it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm_core import driver_sql
from crm_core.driver_sql import Jsonb, Source
from routing.informing.templates import TemplateCheck, TemplateDraft, Variable, check_draft


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    name: str
    language: str
    version: int
    topic: str
    variables: tuple[Variable, ...]
    bodies: dict[str, dict[str, str]]
    author: str
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "version": self.version, "topic": self.topic,
                "variables": [{"name": v.name, "type": v.type, "max_length": v.max_length} for v in self.variables],
                "bodies": self.bodies, "author": self.author, "created_at": self.created_at.isoformat()}


def _stored(row: dict[str, Any]) -> StoredTemplate:
    return StoredTemplate(row["name"], row["language"], row["version"], row["topic"],
                          tuple(Variable(**v) for v in row["variables"]), row["bodies"], row["author"], row["created_at"])


async def save_template(conn: Source, draft: TemplateDraft, author: str, max_sms_segments: int) -> tuple[StoredTemplate, TemplateCheck]:
    """Store ``draft`` as the next version of its name and language; :class:`TemplateError` when refused.
    Saving the same content as the newest version stores nothing new (a retried save is harmless)."""
    check = check_draft(draft, max_sms_segments)
    variables = [{"name": v.name, "type": v.type, "max_length": v.max_length} for v in draft.variables]
    row = await driver_sql.fetch_one(conn, """
        WITH newest AS (
            SELECT * FROM message_templates WHERE name = %(name)s AND language = %(language)s
            ORDER BY version DESC LIMIT 1
        ), inserted AS (
            INSERT INTO message_templates (name, language, version, topic, variables, bodies, author)
            SELECT %(name)s, %(language)s, coalesce((SELECT version FROM newest), 0) + 1, %(topic)s,
                   %(variables)s, %(bodies)s, %(author)s
            WHERE NOT EXISTS (SELECT 1 FROM newest WHERE topic = %(topic)s AND variables = %(variables)s
                              AND bodies = %(bodies)s)
            RETURNING *
        )
        SELECT * FROM inserted UNION ALL SELECT * FROM newest WHERE NOT EXISTS (SELECT 1 FROM inserted)
        """, {"name": draft.name, "language": draft.language, "topic": draft.topic, "variables": Jsonb(variables),
              "bodies": Jsonb({k: dict(v) for k, v in draft.bodies.items()}), "author": author})
    assert row is not None
    return _stored(row), check


async def newest_template(conn: Source, name: str, language: str) -> StoredTemplate | None:
    row = await driver_sql.fetch_one(
        conn, "SELECT * FROM message_templates WHERE name = %s AND language = %s ORDER BY version DESC LIMIT 1",
        (name, language))
    return _stored(row) if row is not None else None


async def template_version(conn: Source, name: str, language: str, version: int) -> StoredTemplate | None:
    row = await driver_sql.fetch_one(
        conn, "SELECT * FROM message_templates WHERE name = %s AND language = %s AND version = %s",
        (name, language, version))
    return _stored(row) if row is not None else None


async def list_templates(conn: Source) -> list[StoredTemplate]:
    rows = await driver_sql.fetch_all(conn, "SELECT DISTINCT ON (name, language) * FROM message_templates"
                                            " ORDER BY name, language, version DESC")
    return [_stored(r) for r in rows]
