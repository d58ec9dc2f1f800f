"""Typed settings of one e-mail account: the ``[email]`` table of ``config/channels/email.toml``.

``EmailSettings.from_mapping`` accepts the parsed TOML table (nested ``imap`` and ``smtp`` tables) and
fills defaults; a password may be given directly or through ``password_env`` (the name of an
environment variable), so secrets need not live in the config file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

DEFAULT_SUBJECT_TAG = "[#{ticket_number}]"

ImapTls = Literal["off", "ssl"]
SmtpTls = Literal["off", "starttls", "ssl"]


def _secret(table: Mapping[str, Any]) -> str:
    env_name = table.get("password_env")
    if env_name:
        return os.environ.get(str(env_name), "")
    return str(table.get("password", ""))


def _known(cls: type, table: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = set(table) - names - {"password_env"}
    if unknown:
        raise ValueError(f"unknown e-mail setting(s) {sorted(unknown)} for {cls.__name__}")
    return {k: v for k, v in table.items() if k in names}


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """The mailbox the channel reads: where, how, and how eagerly."""

    host: str = "127.0.0.1"
    port: int = 143
    user: str = ""
    password: str = ""
    mailbox: str = "INBOX"
    tls: ImapTls = "off"
    idle: bool = True
    idle_timeout_s: float = 300.0
    poll_interval_s: float = 5.0
    busy_poll_interval_s: float = 0.1
    busy_linger_s: float = 3.0
    command_timeout_s: float = 30.0
    fetch_batch: int = 50
    ack_keyword: str = "$Switchboard"
    sent_mailbox: str = "Sent"
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> ImapSettings:
        values = _known(cls, table)
        values["password"] = _secret(table)
        settings = cls(**values)
        if settings.tls not in ("off", "ssl"):
            raise ValueError(f"imap.tls must be 'off' or 'ssl', not {settings.tls!r}")
        return settings


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The relay the channel sends replies through."""

    host: str = "127.0.0.1"
    port: int = 25
    user: str = ""
    password: str = ""
    tls: SmtpTls = "off"
    timeout_s: float = 30.0

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> SmtpSettings:
        values = _known(cls, table)
        values["password"] = _secret(table)
        settings = cls(**values)
        if settings.tls not in ("off", "starttls", "ssl"):
            raise ValueError(f"smtp.tls must be 'off', 'starttls' or 'ssl', not {settings.tls!r}")
        return settings


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """One e-mail account of the contact centre."""

    from_address: str = "support@localhost"
    display_name: str = ""
    subject_tag: str = DEFAULT_SUBJECT_TAG
    message_id_domain: str = ""
    attachment_inline_max_bytes: int = 1_048_576
    spool_dir: Path = Path("var/email/spool")
    state_path: Path = Path("var/email/uid-state.json")
    imap: ImapSettings = field(default_factory=ImapSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)

    @property
    def domain(self) -> str:
        """The right-hand side of our own Message-IDs."""
        if self.message_id_domain:
            return self.message_id_domain
        return self.from_address.rpartition("@")[2] or "localhost"

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> EmailSettings:
        values = dict(table)
        imap = ImapSettings.from_mapping(values.pop("imap", {}))
        smtp = SmtpSettings.from_mapping(values.pop("smtp", {}))
        top = _known(cls, values)
        for name in ("spool_dir", "state_path"):
            if name in top:
                top[name] = Path(top[name])
        if "{ticket_number}" not in top.get("subject_tag", DEFAULT_SUBJECT_TAG):
            raise ValueError("subject_tag must contain '{ticket_number}'")
        return cls(imap=imap, smtp=smtp, **top)
