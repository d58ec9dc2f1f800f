"""Telling supervisors: an SLA escalation or a ticket a client's message raised becomes a notification kept
for each supervisor of the ticket's queue (:mod:`crm_core.notifications`, written in the escalation's own
transaction), then goes out live on the event hub and, when configured, by e-mail through the e-mail
channel's SMTP sender.  A notification nobody saw live stays in the feed until acknowledged."""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

from channels.base import Address, ChannelError, Outbound
from crm_core import notifications as store
from crm_core.notifications import NewNotification

log = logging.getLogger(__name__)

LOCALE = Path(__file__).resolve().parent.parent / "dashboards" / "locales" / "notifications.uk.json"


@cache
def _phrases() -> dict[str, str]:
    return json.loads(LOCALE.read_text(encoding="utf-8"))


def mail_text(row: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of a notification's e-mail, in the contact centre's language."""
    phrases = _phrases()
    data = row.get("data") or {}
    values = {"ticket": row.get("ticket_number") or "", "queue": data.get("queue") or "",
              "clock": phrases.get(f"notification.clock.{data.get('clock')}", data.get("clock") or ""),
              "rule": data.get("rule") or "", "priority": data.get("priority") or ""}
    subject = phrases[f"notification.subject.{row['reason']}"].format(**values)
    return subject, phrases[f"notification.body.{row['reason']}"].format(**values)


async def record(entity: Any, conn: Any, notification: NewNotification) -> list[dict[str, Any]]:
    """In the caller's transaction: one notification per recipient; the rows to deliver after commit."""
    roles = entity.ctx.services.settings.engine.notify_roles
    return await store.record(conn, notification, roles)


async def deliver(entity: Any, rows: list[dict[str, Any]]) -> None:
    """After the commit: each new notification live, and by e-mail to a recipient with an address."""
    services = entity.ctx.services
    for row in rows:
        entity.ctx.publish({"type": "notification", "id": str(row["id"]), "recipient_id": row["recipient_id"],
                            "state": {"ticket": row["ticket_number"], "reason": row["reason"], "key": row["key"],
                                      **(row.get("data") or {})}})
    if not services.settings.engine.notify_email:
        return
    mailed = []
    for row in rows:
        if not row.get("email"):
            continue
        subject, body = mail_text(row)
        try:
            await services.channels.send(Outbound(
                channel="email", thread_key=f"email:notification-{row['id']}", recipient=Address("email", row["email"]),
                text=body, subject=subject, dedupe_key=f"notification:{row['id']}"))
        except ChannelError as exc:
            log.warning("notification %s not e-mailed (%s); it stays in the feed", row["id"], exc)
            continue
        mailed.append(row["id"])
    if mailed:
        await store.mark_emailed(services.autocommit, mailed)
