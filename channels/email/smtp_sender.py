"""Hand a composed reply to the SMTP relay (aiosmtplib), with the failure reasons made plain."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from channels.base import ChannelError
from channels.email.settings import SmtpSettings

log = logging.getLogger(__name__)


async def submit(message: EmailMessage, settings: SmtpSettings, envelope_from: str) -> None:
    """Send ``message`` through the relay; raises :class:`ChannelError` when nobody got it."""
    try:
        errors, reply = await aiosmtplib.send(
            message,
            sender=envelope_from,
            hostname=settings.host,
            port=settings.port,
            username=settings.user or None,
            password=settings.password or None,
            use_tls=settings.tls == "ssl",
            start_tls=settings.tls == "starttls",
            timeout=settings.timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise ChannelError(f"SMTP relay refused every recipient: {exc.recipients}") from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise ChannelError(f"SMTP relay refused the message: {exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise ChannelError(f"SMTP relay {settings.host}:{settings.port} unreachable: {exc}") from exc
    if errors:
        # Sent to the others: raising would make the engine send it to them a second time.
        refused = ", ".join(f"{rcpt} ({resp.code} {resp.message})" for rcpt, resp in errors.items())
        log.warning("email: %s sent, but the relay refused %s (%s)", message["Message-ID"], refused, reply)
