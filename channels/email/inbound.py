"""Turn one fetched mailbox message into the engine's :class:`~channels.base.Inbound`.

The fields (the contract with the engine):

* ``dedupe_key = "email:{mailbox}:{uidvalidity}:{uid}"`` where ``mailbox`` is ``"{imap user}/{folder}"``,
  and ``metadata["message_id"]`` for the engine's cross-mailbox de-duplication;
* ``thread_key`` and ``metadata["ticket_number"]`` from :mod:`channels.email.thread_keys`;
* ``sender = Address("email", lower-cased address, decoded display name)``, ``subject`` decoded,
  ``text`` from text/plain (else from the HTML);
* ``metadata``: ``message_id``, ``in_reply_to``, ``references``, ``html``, ``raw_size``,
  ``auto_submitted`` (bool) with ``automatic_reason``, ``malformed`` (reason or None) and, when
  malformed, ``raw`` (the raw message, base64) or ``raw_url`` (a spool file, above the inline cap);
* ``metadata["date"]``: the sender's ``Date`` header (ISO); ``occurred_at`` is when we fetched it,
  since senders' clocks are not to be trusted for SLA timing;
* ``kind = "control"`` for automatic mail (auto-replies, bounces, lists): recorded, never answered;
* attachments up to the inline cap carry bytes, larger ones a ``file://`` spool URL.

Building never raises: a message the parser cannot read at all still becomes an ``Inbound`` with its raw
bytes kept.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from channels.base import Address, Inbound
from channels.email.mime import ParsedMail, parse_mail
from channels.email.spool import AttachmentSpool
from channels.email.thread_keys import ThreadResolver, synthetic_message_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MailboxMessage:
    """One message as fetched: where it sits in the mailbox and its raw bytes."""

    uidvalidity: int
    uid: int
    raw: bytes


@dataclass(frozen=True, slots=True)
class InboundBuilder:
    """Pure apart from the spool: raw message in, ``Inbound`` out."""

    mailbox: str
    resolver: ThreadResolver
    spool: AttachmentSpool
    own_addresses: Collection[str] = ()

    def dedupe_key(self, message: MailboxMessage) -> str:
        return f"email:{self.mailbox}:{message.uidvalidity}:{message.uid}"

    def build(self, message: MailboxMessage) -> Inbound:
        try:
            mail = parse_mail(message.raw, self.own_addresses)
            return self._from_parsed(message, mail)
        except Exception as exc:  # noqa: BLE001 - an unreadable message still becomes a ticket
            log.warning(
                "email: message %s could not be parsed (%s: %s); kept raw",
                self.dedupe_key(message), type(exc).__name__, exc,
            )
            return self._unreadable(message, f"{type(exc).__name__}: {exc}")

    def _raw_fields(self, raw: bytes) -> dict[str, Any]:
        if len(raw) <= self.spool.inline_max_bytes:
            return {"raw": base64.b64encode(raw).decode("ascii")}
        return {"raw_url": self.spool.store(raw, ".eml")}

    def _from_parsed(self, message: MailboxMessage, mail: ParsedMail) -> Inbound:
        link = self.resolver.resolve(mail.message_id, mail.in_reply_to, mail.references, mail.subject)
        self.resolver.remember(mail.message_id, link.root)
        metadata: dict[str, Any] = {
            "message_id": mail.message_id,
            "in_reply_to": mail.in_reply_to[0] if mail.in_reply_to else None,
            "references": list(mail.references),
            "html": mail.html,
            "raw_size": len(message.raw),
            "auto_submitted": mail.automatic is not None,
            "automatic_reason": mail.automatic,
            "malformed": mail.malformed,
            "ticket_number": link.ticket_number,
            "thread_root": link.root,
            "mailbox_uid": message.uid,
            "date": mail.date.isoformat() if mail.date is not None else None,
        }
        if mail.malformed:
            log.info("email: message %s is malformed (%s); raw kept", self.dedupe_key(message), mail.malformed)
            metadata.update(self._raw_fields(message.raw))
        attachments = tuple(
            self.spool.attachment(part.filename, part.content_type, part.data) for part in mail.attachments
        )
        return Inbound(
            channel="email",
            thread_key=link.thread_key,
            dedupe_key=self.dedupe_key(message),
            sender=Address("email", mail.sender_address, mail.sender_name or None),
            text=mail.text,
            kind="control" if mail.automatic else "message",
            subject=mail.subject,
            attachments=attachments,
            metadata=metadata,
        )

    def _unreadable(self, message: MailboxMessage, reason: str) -> Inbound:
        message_id = synthetic_message_id(message.raw)
        metadata: dict[str, Any] = {
            "message_id": message_id,
            "in_reply_to": None,
            "references": [],
            "html": None,
            "raw_size": len(message.raw),
            "auto_submitted": False,
            "automatic_reason": None,
            "malformed": reason,
            "ticket_number": None,
            "thread_root": message_id,
            "mailbox_uid": message.uid,
            "date": None,
            **self._raw_fields(message.raw),
        }
        return Inbound(
            channel="email",
            thread_key=f"email:{message_id}",
            dedupe_key=self.dedupe_key(message),
            sender=Address("email", ""),
            metadata=metadata,
        )
