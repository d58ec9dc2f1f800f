"""Delivery and seen reports of the aggregator (Infobip's Viber report shapes) -> DeliveryUpdate.

A delivery report: ``{"results": [{"messageId", "to", "sentAt", "doneAt", "status": {"groupName":
"DELIVERED" | "UNDELIVERABLE" | "EXPIRED" | "REJECTED" | "PENDING", "name", "description"}, "error":
{"name", "description", "permanent"}, "channel": "VIBER"}]}``.  A seen report: ``{"results":
[{"messageId", "to", "from", "sentAt", "seenAt"}]}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from channels.base import DeliveryUpdate

FAILED_GROUPS = ("UNDELIVERABLE", "EXPIRED", "REJECTED")
NOT_VIBER_USER = "not a Viber user"


class MalformedReport(ValueError):
    """A report body that is not the aggregator's shape."""


def parse_time(value: Any) -> datetime:
    """``2026-12-07T14:13:21.127+0000`` (the aggregator's format), ISO 8601 with ``Z`` or ``+00:00``."""
    if not isinstance(value, str) or not value:
        return datetime.now(UTC)
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedReport(f"bad time {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _failure_reason(result: dict[str, Any]) -> str:
    error = result.get("error") or {}
    status = result.get("status") or {}
    name = str(error.get("name") or status.get("name") or status.get("groupName") or "failed")
    if "NOT_VIBER_USER" in name.upper():
        return NOT_VIBER_USER
    description = error.get("description") or status.get("description")
    return f"{name}: {description}" if description else name


def updates_from_report(body: Any) -> list[DeliveryUpdate]:
    """Every final state in one report body; pending states give nothing."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise MalformedReport("expected an object with a 'results' list")
    updates: list[DeliveryUpdate] = []
    for result in body["results"]:
        if not isinstance(result, dict) or not isinstance(result.get("messageId"), str) or not result["messageId"]:
            raise MalformedReport("every result needs a 'messageId'")
        message_id = result["messageId"]
        if "seenAt" in result:
            updates.append(DeliveryUpdate(channel="viber_business", external_id=message_id, state="read",
                                          occurred_at=parse_time(result["seenAt"])))
            continue
        status = result.get("status")
        if not isinstance(status, dict):
            raise MalformedReport(f"result {message_id} has neither 'status' nor 'seenAt'")
        group = str(status.get("groupName", "")).upper()
        if group == "DELIVERED":
            updates.append(DeliveryUpdate(channel="viber_business", external_id=message_id, state="delivered",
                                          occurred_at=parse_time(result.get("doneAt"))))
        elif group in FAILED_GROUPS:
            updates.append(DeliveryUpdate(channel="viber_business", external_id=message_id, state="failed",
                                          occurred_at=parse_time(result.get("doneAt")),
                                          reason=_failure_reason(result)))
    return updates
