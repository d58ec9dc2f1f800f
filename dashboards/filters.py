"""Query-string filters (tickets, reports, exports) checked against the configured vocabularies: a
nonsense value is refused with the parameter named, never silently ignored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from crm_core.tickets_query import SLA_STATES, TicketFilter
from dashboards.errors import ApiError, bad_request

CHANNELS = ("voice", "telegram", "viber", "email", "webchat", "web_form", "app")
MAX_PAGE = 500
MAX_PERIOD_DAYS = 400


def _values(query: MultiMapping[str], name: str) -> list[str]:
    return [v.strip() for raw in query.getall(name, ()) for v in raw.split(",") if v.strip()]


def _choices(query: MultiMapping[str], name: str, allowed: Iterable[str]) -> tuple[str, ...]:
    allowed = tuple(allowed)
    values = _values(query, name)
    if bad := [v for v in values if v not in allowed]:
        raise bad_request("invalid_filter", f"{name}={bad[0]}: expected one of {list(allowed)}", field=name)
    return tuple(values)


def _ints(query: MultiMapping[str], name: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in _values(query, name))
    except ValueError:
        raise bad_request("invalid_filter", f"{name}: expected whole numbers", field=name) from None


def _names(query: MultiMapping[str], name: str) -> tuple[str, ...]:
    values = _values(query, name)
    if any(len(v) > 64 for v in values):
        raise bad_request("invalid_filter", f"{name}: at most 64 characters", field=name)
    return tuple(values)


def parse_instant(query: MultiMapping[str], name: str) -> datetime | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request("invalid_filter", f"{name}: expected a date (2026-11-01) or ISO time", field=name) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_int(query: MultiMapping[str], name: str, default: int | None, low: int, high: int) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request("invalid_filter", f"{name}: expected a whole number", field=name) from None
    if not low <= value <= high:
        raise bad_request("invalid_filter", f"{name}: between {low} and {high}", field=name)
    return value


def parse_bool(query: MultiMapping[str], name: str) -> bool:
    raw = query.get(name, "").lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise bad_request("invalid_filter", f"{name}: expected true or false", field=name)


def _search_text(query: MultiMapping[str]) -> str | None:
    text = query.get("q", "").strip()
    if len(text) > 100:
        raise bad_request("invalid_filter", "q: at most 100 characters", field="q")
    return text or None


def ticket_filter(query: MultiMapping[str], tickets: Any, **forced: Any) -> TicketFilter:
    """The ticket filter a query string asks for; ``forced`` fields (the caller's own agent id for an
    operator) override whatever the query says."""
    created_from, created_to = parse_instant(query, "from"), parse_instant(query, "to")
    if created_to is not None and query.get("to", "") and len(query["to"]) == 10:
        created_to += timedelta(days=1)  # a date as "to" includes that whole day
    if created_from and created_to and created_to <= created_from:
        raise bad_request("invalid_filter", "to: must be after from", field="to")
    categories = _names(query, "category")
    if bad := [c for c in categories if c not in tickets.categories]:
        raise bad_request("invalid_filter", f"category={bad[0]}: unknown category", field="category")
    sla = query.get("sla") or None
    if sla is not None and sla not in SLA_STATES:
        raise bad_request("invalid_filter", f"sla={sla}: expected one of {list(SLA_STATES)}", field="sla")
    values: dict[str, Any] = dict(
        statuses=_choices(query, "status", tickets.statuses), channels=_choices(query, "channel", CHANNELS),
        categories=categories, types=_choices(query, "type", tickets.types),
        priorities=_choices(query, "priority", tickets.priorities), queues=_names(query, "queue"),
        agent_ids=_ints(query, "agent_id"), client_id=parse_int(query, "client_id", None, 1, 2**62),
        created_from=created_from, created_to=created_to, open_only=parse_bool(query, "open"), sla=sla,
        text=_search_text(query))
    values.update(forced)
    return TicketFilter(**values)


def period(query: MultiMapping[str], default_days: int = 30) -> tuple[datetime, datetime]:
    """A report period: ``from``/``to`` (dates or instants), by default the last ``default_days``."""
    start, end = parse_instant(query, "from"), parse_instant(query, "to")
    if end is not None and len(query.get("to", "")) == 10:
        end += timedelta(days=1)
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=default_days)
    if end <= start:
        raise bad_request("invalid_filter", "to: must be after from", field="to")
    if end - start > timedelta(days=MAX_PERIOD_DAYS):
        raise bad_request("invalid_filter", f"period: at most {MAX_PERIOD_DAYS} days", field="from")
    return start, end


def path_id(request: web.Request, name: str) -> int:
    """The integer id in the path (``{client_id}``); one that is not a number is not found."""
    try:
        return int(request.match_info[name])
    except ValueError:
        raise ApiError(404, "not_found", name.removesuffix("_id")) from None
