"""Switchboard's e-mail channel: IMAP in (IDLE, polling fallback), SMTP out.

Wire it in with::

    from channels.email import build
    channel = build(tomllib.load(f)["email"])   # the [email] table of config/channels/email.toml
    await channel.start(sink)                   # sink(inbound) stores durably, then returns
    receipt = await channel.send(outbound)      # receipt.external_id is the reply's Message-ID

Threading rules: :mod:`channels.email.thread_keys`; inbound fields: :mod:`channels.email.inbound`;
reply headers: :mod:`channels.email.outbound`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.email.channel import EmailChannel
from channels.email.settings import EmailSettings
from channels.email.thread_keys import OwnMessageId, SubjectTag, ThreadLink, ThreadResolver

__all__ = [
    "EmailChannel", "EmailSettings", "OwnMessageId", "SubjectTag", "ThreadLink", "ThreadResolver", "build",
]


def build(settings: Mapping[str, Any] | EmailSettings) -> EmailChannel:
    """An :class:`EmailChannel` from the ``[email]`` table (or ready :class:`EmailSettings`)."""
    if not isinstance(settings, EmailSettings):
        settings = EmailSettings.from_mapping(settings)
    return EmailChannel(settings)
