"""Request bodies: declared once as :class:`Body`, checked strictly (unknown fields, wrong types, sizes
refused with the field named) and rendered into the OpenAPI document from the same declaration."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from dashboards.context import GATEWAY
from dashboards.errors import ApiError, bad_request, reason

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_TYPES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object",
                                list: "array"}


@dataclass(frozen=True, slots=True)
class Field:
    type: type
    required: bool = False
    choices: tuple[Any, ...] = ()
    max_len: int | None = None
    nullable: bool = False
    description: str = ""

    def check(self, name: str, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        kinds: tuple[type, ...] = (int, float) if self.type is float else (self.type,)
        if not isinstance(value, kinds) or (self.type in (int, float) and isinstance(value, bool)):
            raise bad_request("invalid_field", f"{name}: expected {_JSON_TYPES[self.type]}", field=name)
        if self.choices and value not in self.choices:
            raise bad_request("invalid_field", f"{name}: expected one of {list(self.choices)}", field=name)
        if self.max_len is not None and len(value) > self.max_len:
            raise bad_request("field_too_long", f"{name}: at most {self.max_len}", field=name)
        if self.type is str and self.required and not value.strip():
            raise bad_request("missing_field", name, field=name)
        return value

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": _JSON_TYPES[self.type]}
        if self.nullable:
            schema["type"] = [schema["type"], "null"]
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.max_len is not None:
            schema["maxLength" if self.type is str else "maxItems"] = self.max_len
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(frozen=True, slots=True)
class Body:
    """A JSON object body with exactly these fields."""

    name: str
    fields: Mapping[str, Field] = field(default_factory=dict)

    def validate(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise bad_request("invalid_body", "expected a JSON object")
        if unknown := sorted(set(data) - set(self.fields)):
            raise bad_request("unknown_field", ", ".join(unknown), field=unknown[0])
        clean = {}
        for name, spec in self.fields.items():
            if name not in data:
                if spec.required:
                    raise bad_request("missing_field", name, field=name)
                continue
            clean[name] = spec.check(name, data[name])
        return clean

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": False,
                "required": [n for n, f in self.fields.items() if f.required],
                "properties": {n: f.json_schema() for n, f in self.fields.items()}}


async def read_bytes(request: web.Request, max_bytes: int) -> bytes:
    """The raw body, at most ``max_bytes`` (413 past it) and whole within ``[limits] body_read_s`` (408
    for a client that drips it)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, "body_too_large", f"at most {max_bytes} bytes")
    raw = bytearray()
    try:
        async with asyncio.timeout(request.app[GATEWAY].settings.limits.body_read_s):
            async for chunk in request.content.iter_chunked(65_536):
                raw += chunk
                if len(raw) > max_bytes:
                    raise ApiError(413, "body_too_large", f"at most {max_bytes} bytes")
    except TimeoutError:
        raise ApiError(408, "body_too_slow") from None
    return bytes(raw)


async def read_json(request: web.Request, max_bytes: int) -> Any:
    """The request's JSON body, refusing oversized or malformed bodies before anything is written."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, "body_too_large", f"at most {max_bytes} bytes")
    raw = await read_bytes(request, max_bytes)
    if not raw:
        raise bad_request("invalid_body", "empty body")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request("malformed_json", reason(exc)) from None
    except RecursionError:
        raise bad_request("too_deep", f"at most {MAX_DEPTH} levels of nesting") from None
    check_tree(data)
    return data


def check_text(where: str, value: str) -> None:
    """Refuse text no column or peer can hold: a NUL character or a lone surrogate (half a UTF-16 pair)."""
    if "\x00" in value:
        raise bad_request("invalid_text", f"{where}: contains a NUL character", field=where)
    if _SURROGATE.search(value):
        raise bad_request("invalid_text", f"{where}: contains a lone surrogate", field=where)


def check_address(request: web.Request) -> None:
    """The path (matched by a route or not), its parameters and the query string are clean text, before
    any handler sees them."""
    check_text("path", request.path)
    for name, value in request.match_info.items():
        check_text(name, value)
    for name, value in request.query.items():
        check_text(name, name)
        check_text(name, value)


def check_tree(data: Any) -> None:
    """Every key and string of a parsed JSON document is clean text and it nests at most ``MAX_DEPTH``
    deep (walked without recursion, so any depth is refused with a 400)."""
    stack: list[tuple[str, Any, int]] = [("body", data, 0)]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise bad_request("too_deep", f"at most {MAX_DEPTH} levels of nesting")
        if isinstance(value, str):
            check_text(where, value)
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(where, key)
                stack.append((key if depth == 0 else where, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((where, item, depth + 1) for item in value)


async def read_body(request: web.Request, body: Body, max_bytes: int) -> dict[str, Any]:
    return body.validate(await read_json(request, max_bytes))
