"""Personal data masked per role, by what each field means.

A reply is walked along its declared shape (``dashboards.reply_shapes``): a shape names, per record, the
fields that hold personal data and of which kind (a name, a phone, a contact point whose kind is beside
it, a channel address whose channel is beside it, a message author ``viber:<id>``), and the fields that
are the engine's internal keys (never shown).  A field the shape does not name is shown as it is, so a
status change's ``from`` stays ``new`` and only what is declared personal is ever masked.  A masked value
keeps enough to recognise it on the phone: ``+38067***4567``, ``o***@example.com``, ``Ш. Т. Г.``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MASK = "***"
PHONE_LIKE = re.compile(r"\+?\d{7,}")
ADDRESS_KINDS = ("phone", "email", "messenger")
"""The kinds of personal data an address of a client can be (a channel's sender, a message's author)."""


def mask_phone(value: str) -> str:
    return value[:6] + MASK + value[-4:] if len(value) > 10 else MASK + value[-2:]


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}{MASK}@{domain}" if domain else MASK


def mask_name(value: str) -> str:
    return " ".join(f"{word[0]}." for word in value.split() if word)


def mask_address(value: str) -> str:
    first = value.split(",")[0].strip()
    return f"{first}, {MASK}" if "," in value else MASK


def mask_account(value: str) -> str:
    return MASK + value[-4:] if len(value) > 4 else MASK


def mask_messenger(value: str) -> str:
    return value[:2] + MASK if len(value) > 4 else MASK


def mask_whole(_: Any) -> str:
    return MASK


MASKERS: dict[str, Callable[[str], str]] = {
    "name": mask_name, "phone": mask_phone, "email": mask_email, "messenger": mask_messenger,
    "address": mask_address, "account_no": mask_account, "balance": mask_whole, "passport": mask_whole}

#: How a contact point's or an address's kind (as the engine names it) reads as a kind of personal data.
ADDRESS_OF = {"phone": "phone", "voice": "phone", "sms": "phone", "email": "email",
              "telegram": "messenger", "viber": "messenger"}
#: Authors that are the engine's own people and rules, never a client.
STAFF_AUTHORS = ("agent", "user", "system", "rule", "bot", "sla", "supervisor")


def _masked(value: Any, kind: str | None, fields: frozenset[str]) -> Any:
    """``value`` masked as personal data of ``kind``; ``None``: a client's address of no declared kind
    (a web visitor's id, an app's user id), masked when the role masks any kind of address (its look only
    chooses how the masked value reads)."""
    if value is None or value == "":
        return value
    if kind is None:
        if not fields.intersection(ADDRESS_KINDS):
            return value
        text = str(value)
        if "@" in text:
            return mask_email(text)
        return mask_phone(text) if PHONE_LIKE.fullmatch(text) else mask_messenger(text)
    if kind not in fields:
        return value
    return MASKERS[kind](str(value)) if isinstance(value, str) else MASK


# --- what a field means ------------------------------------------------------------------------------


class Meaning:
    """What one field of a record holds; ``show`` gives the value the role sees (``DROP``: none)."""

    def show(self, value: Any, record: Mapping[str, Any], fields: frozenset[str]) -> Any:
        raise NotImplementedError


DROP = object()


@dataclass(frozen=True, slots=True)
class Personal(Meaning):
    """Personal data of one kind (``name``, ``phone``, ... as in ``MASKABLE``)."""

    kind: str

    def show(self, value: Any, record: Mapping[str, Any], fields: frozenset[str]) -> Any:
        return _masked(value, self.kind, fields)


@dataclass(frozen=True, slots=True)
class KindBeside(Meaning):
    """A client's address whose kind is another field of the record: a contact point's ``kind``, a ticket's
    ``channel``."""

    beside: str

    def show(self, value: Any, record: Mapping[str, Any], fields: frozenset[str]) -> Any:
        kind = record.get(self.beside)
        return _masked(value, ADDRESS_OF.get(kind) if isinstance(kind, str) else None, fields)


@dataclass(frozen=True, slots=True)
class Author(Meaning):
    """Who wrote a message or made a change: ``agent:12``, ``system`` (shown) or a client's address
    ``viber:<id>``, ``telegram:<chat>``, ``email:<address>``, ``phone:<number>`` (masked after the prefix)."""

    def show(self, value: Any, record: Mapping[str, Any], fields: frozenset[str]) -> Any:
        if not isinstance(value, str):
            return value
        prefix, colon, rest = value.partition(":")
        if not colon or prefix in STAFF_AUTHORS:
            return value
        return f"{prefix}:{_masked(rest, ADDRESS_OF.get(prefix), fields)}"


@dataclass(frozen=True, slots=True)
class ThreadKey(Meaning):
    """A conversation named by its thread key (audit entries written before conversations had public ids):
    ``viber:<id>``, ``telegram:<chat>`` masked as a messenger id, ``email:<Message-ID>`` as an e-mail."""

    def show(self, value: Any, record: Mapping[str, Any], fields: frozenset[str]) -> Any:
        if not isinstance(value, str) or ":" not in value:
            return value
        channel, _, rest = value.partition(":")
        return f"{channel}:{_masked(rest, ADDRESS_OF.get(channel), fields)}" if channel in ADDRESS_OF else value


@dataclass(frozen=True, slots=True)
class Internal(Meaning):
    """The engine's own key (a thread key built from a messenger id, an e-mail Message-ID): never shown."""

    def show(self, value: Any, record: Mapping[str, Any], fields: frozenset[str]) -> Any:
        return DROP


@dataclass(frozen=True, slots=True)
class ShownAs(Meaning):
    """An internal key shown as the public id kept beside it (``conversation`` -> ``conversation_id``; a
    dotted name reaches into the record: ``state.conversation_id``)."""

    public: str

    def show(self, value: Any, record: Mapping[str, Any], fields: frozenset[str]) -> Any:
        found: Any = record
        for name in self.public.split("."):
            found = found.get(name) if isinstance(found, Mapping) else None
        return found if found is not None or not isinstance(value, list) else []


# --- shapes of records ---------------------------------------------------------------------------


Shape = Any
"""A ``Meaning``; a ``dict`` (a record: field -> shape); a one-item ``list`` (a list of that shape); a
``Keyed`` or a ``ByField``."""


@dataclass(frozen=True, slots=True)
class Keyed:
    """An object whose every value has one shape (keys are names, not data)."""

    shape: Shape


@dataclass(frozen=True, slots=True)
class ByField:
    """A record whose shape depends on one of its fields (an event's ``type``, a ticket event's ``kind``)."""

    by: str
    shapes: Mapping[str, Shape]


def mask(data: Any, shape: Shape, fields: frozenset[str]) -> Any:
    """A copy of ``data`` as a role that masks ``fields`` sees it (``data`` itself is untouched)."""
    return _walk(data, shape, {}, fields)


def _walk(data: Any, shape: Shape, record: Mapping[str, Any], fields: frozenset[str]) -> Any:
    if isinstance(shape, Meaning):
        if isinstance(data, list | tuple) and not isinstance(shape, ShownAs):
            return [shape.show(item, record, fields) for item in data]
        return shape.show(data, record, fields)
    if isinstance(data, list | tuple):
        inner = shape[0] if isinstance(shape, list) else shape
        return [_walk(item, inner, record, fields) for item in data]
    if not isinstance(data, dict):
        return data
    if isinstance(shape, ByField):
        chosen = shape.shapes.get(str(data.get(shape.by)))
        return _walk(data, chosen, record, fields) if chosen is not None else data
    if isinstance(shape, Keyed):
        return {key: _walk(value, shape.shape, data, fields) for key, value in data.items()}
    if not isinstance(shape, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        inner = shape.get(key)
        shown = value if inner is None else _walk(value, inner, data, fields)
        if shown is not DROP:
            out[key] = shown
    return out
