"""Compose the MIME message of an agent's reply.

``outbound.metadata`` may carry ``ticket_number`` (put in the subject tag and in our Message-ID),
``in_reply_to`` (the Message-ID answered), ``references`` (list or space-separated string), ``html``
(an HTML alternative of ``text``), ``cc`` (list of addresses) and ``automatic`` (true for bot replies:
marked ``Auto-Submitted: auto-replied`` per RFC 3834) and ``list_unsubscribe`` (an https URL: the
one-click unsubscribe headers of RFC 8058).  The Message-ID is derived from the outbound's
``dedupe_key``, so a retried send produces the same message, which receivers and the Sent folder see
as one.
"""

from __future__ import annotations

from email.headerregistry import Address as MailAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlparse

from channels.base import Attachment, ChannelError, Outbound
from channels.email.settings import EmailSettings
from channels.email.thread_keys import ThreadResolver, parse_message_ids

# 7-bit transfer encodings: any relay accepts the message, with or without 8BITMIME.
POLICY = SMTP.clone(cte_type="7bit")


def _mail_address(value: str, display_name: str | None) -> MailAddress:
    local, at, domain = value.partition("@")
    if not at or not local or not domain:
        raise ChannelError(f"not an e-mail address: {value!r}")
    return MailAddress(display_name=display_name or "", username=local, domain=domain)


def _attachment_bytes(attachment: Attachment) -> bytes:
    if attachment.data is not None:
        return attachment.data
    if attachment.url and attachment.url.startswith("file://"):
        path = Path(unquote(urlparse(attachment.url).path))
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ChannelError(f"attachment {attachment.filename!r} unreadable: {exc}") from exc
    raise ChannelError(f"attachment {attachment.filename!r} has neither bytes nor a file:// url")


def _references(value: object) -> list[str]:
    if isinstance(value, str):
        return parse_message_ids(value)
    if isinstance(value, list | tuple):
        return parse_message_ids(" ".join(str(v) for v in value))
    return []


def compose_reply(outbound: Outbound, settings: EmailSettings, resolver: ThreadResolver) -> EmailMessage:
    """The full message to send for ``outbound``; raises :class:`ChannelError` for a bad recipient."""
    meta = outbound.metadata
    ticket = meta.get("ticket_number")
    ticket_number = str(ticket) if ticket is not None else None
    in_reply_to = next(iter(parse_message_ids(str(meta.get("in_reply_to") or ""))), None)
    threading = resolver.outbound_headers(
        outbound.thread_key, ticket_number, in_reply_to, _references(meta.get("references")), outbound.dedupe_key
    )
    msg = EmailMessage(policy=POLICY)
    msg["From"] = _mail_address(settings.from_address, settings.display_name)
    msg["To"] = _mail_address(outbound.recipient.value, outbound.recipient.display_name)
    cc = [_mail_address(str(a), None) for a in meta.get("cc") or ()]
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = resolver.tag.apply(outbound.subject, ticket_number, reply=in_reply_to is not None)
    msg["Date"] = formatdate(localtime=True)
    for name, value in threading.items():
        msg[name] = value
    # Ask Exchange and similar responders not to answer our replies with out-of-office mail.
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    if meta.get("automatic"):
        msg["Auto-Submitted"] = "auto-replied"
    if meta.get("list_unsubscribe"):
        msg["List-Unsubscribe"] = f"<{meta['list_unsubscribe']}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(outbound.text or "")
    html = meta.get("html")
    if html:
        msg.add_alternative(str(html), subtype="html")
    for attachment in outbound.attachments:
        maintype, _, subtype = (attachment.content_type or "application/octet-stream").partition("/")
        msg.add_attachment(
            _attachment_bytes(attachment), maintype=maintype, subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return msg
