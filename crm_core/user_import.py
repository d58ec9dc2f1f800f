"""Bulk import of users from CSV (the administration page or API): each row checked, the good ones
created in one statement, each refused one reported with its line and the reason; the rest imported.

Columns (a header row; only ``login``, ``full_name`` and ``role`` are required)::

    login,full_name,role,skills,queues,capacity,extension,vicidial_user,language
    ikoval,Коваль Ірина,cc_operator,billing:4;lang_uk:5,general;billing,voice:1;chat:3,1201,1201,uk

Imported users get no password (they cannot log in until one is set, or they come by single sign-on), so
importing 500 people costs no 500 password hashes.  A login that exists already is left as it is and
counted ``existing``: importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core import audit
from crm_core.models import User

COLUMNS = ("login", "full_name", "role", "skills", "queues", "capacity", "extension", "vicidial_user", "language")
REQUIRED = ("login", "full_name", "role")
NO_PASSWORD = "!imported"  # not an Argon2 hash: verification always fails
MAX_ROWS = 20_000
LANGUAGE_SKILL = "lang_"


@dataclass(frozen=True, slots=True)
class Refused:
    line: int
    login: str
    reason: str  # a stable code: unknown_role, unknown_skill, unknown_queue, invalid_field, missing_field
    detail: str


@dataclass(slots=True)
class ImportReport:
    imported: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {"imported": len(self.imported), "existing": len(self.existing),
                "refused": [{"line": r.line, "login": r.login, "reason": r.reason, "detail": r.detail}
                            for r in self.refused]}


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What a row may name."""

    roles: Collection[str]
    skills: Collection[str]
    queues: Collection[str]
    channels: Collection[str]
    languages: Collection[str]

    def unknown_skills(self, names: Collection[str]) -> list[str]:
        """Names neither in the catalogue nor a language skill (``lang_uk``, ``lang_en``: routing matches
        a conversation's language with them)."""
        return sorted(n for n in names if n not in self.skills and not _language_skill(n))


def _language_skill(name: str) -> bool:
    code = name.removeprefix(LANGUAGE_SKILL)
    return name.startswith(LANGUAGE_SKILL) and code.isascii() and code.isalpha() and 2 <= len(code) <= 3


class _RowError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.detail))


def _pairs(text: str, what: str) -> dict[str, int]:
    pairs = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, sep, level = item.partition(":")
        if not sep or not level.strip().isdigit():
            raise _RowError("invalid_field", f"{what}: expected name:number, got {item!r}")
        pairs[name.strip()] = int(level)
    return pairs


def _row(raw: dict[str, str], catalogue: Catalogue) -> dict[str, Any]:
    values = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    for name in REQUIRED:
        if not values[name]:
            raise _RowError("missing_field", name)
    if len(values["login"]) > 64:
        raise _RowError("invalid_field", "login: at most 64 characters")
    if values["role"] not in catalogue.roles:
        raise _RowError("unknown_role", values["role"])
    skills = _pairs(values["skills"], "skills")
    if unknown := catalogue.unknown_skills(skills):
        raise _RowError("unknown_skill", ", ".join(unknown))
    if bad := sorted(name for name, level in skills.items() if not 1 <= level <= 5):
        raise _RowError("invalid_field", f"skills: levels 1-5 ({', '.join(bad)})")
    queues = [q.strip() for q in values["queues"].split(";") if q.strip()]
    if unknown := sorted(set(queues) - set(catalogue.queues)):
        raise _RowError("unknown_queue", ", ".join(unknown))
    capacity = _pairs(values["capacity"], "capacity")
    if unknown := sorted(set(capacity) - set(catalogue.channels)):
        raise _RowError("invalid_field", f"capacity: unknown channels {', '.join(unknown)}")
    if values["language"] and values["language"] not in catalogue.languages:
        raise _RowError("invalid_field", f"language: one of {', '.join(catalogue.languages)}")
    return {"login": values["login"], "full_name": values["full_name"], "role": values["role"], "skills": skills,
            "queues": {"names": queues}, "capacity": capacity, "extension": values["extension"] or None,
            "vicidial_user": values["vicidial_user"] or None, "language": values["language"] or None}


def parse(text: str, catalogue: Catalogue) -> tuple[list[dict[str, Any]], list[Refused]]:
    """The rows to create and the refused ones; a file without the required header columns is refused."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        raise ValueError(f"the header lacks {', '.join(missing)}")
    if unknown := sorted(set(reader.fieldnames or ()) - set(COLUMNS)):
        raise ValueError(f"unknown columns {', '.join(unknown)}")
    good: list[dict[str, Any]] = []
    refused: list[Refused] = []
    seen: set[str] = set()
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            raise ValueError(f"at most {MAX_ROWS} rows")
        login = (raw.get("login") or "").strip()
        try:
            row = _row(raw, catalogue)
            if login in seen:
                raise _RowError("invalid_field", "login: repeated in the file")
        except _RowError as exc:
            refused.append(Refused(number, login, exc.reason, exc.detail))
            continue
        seen.add(login)
        good.append(row)
    return good, refused


async def import_users(conn: AsyncConnection, actor: str, rows: list[dict[str, Any]]) -> ImportReport:
    """Create the parsed rows (one statement), audit each created user; existing logins stay as they are."""
    report = ImportReport()
    if not rows:
        return report
    statement = (pg_insert(User.__table__).values([{**row, "password_hash": NO_PASSWORD, "active": True}
                                                   for row in rows])
                 .on_conflict_do_nothing(index_elements=["login"]).returning(User.id, User.login))
    created = {login: user_id for user_id, login in (await conn.execute(statement)).all()}
    by_login = {row["login"]: row for row in rows}
    for login, user_id in created.items():
        await audit.record(conn, actor=actor, action="user.imported", entity="user", entity_id=user_id,
                           after=by_login[login])
    report.imported = sorted(created)
    report.existing = sorted(set(by_login) - set(created))
    return report

