"""The [email] table and the saved mailbox position."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from channels.email import EmailChannel, build
from channels.email.settings import EmailSettings
from channels.email.uid_state import MailboxPosition, UidWatermark

CONFIG = Path(__file__).resolve().parents[3] / "config" / "channels" / "email.toml"


def test_the_shipped_config_builds_a_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_IMAP_PASSWORD", "from-env")
    channel = build(tomllib.loads(CONFIG.read_text())["email"])
    assert isinstance(channel, EmailChannel)
    assert channel.name == "email"
    assert channel.settings.imap.password == "from-env"
    assert channel.settings.domain == "example.com"
    assert channel.mailbox == "support@example.com/INBOX"


def test_unknown_keys_and_bad_values_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown e-mail setting"):
        EmailSettings.from_mapping({"imap": {"hots": "x"}})
    with pytest.raises(ValueError, match="ticket_number"):
        EmailSettings.from_mapping({"subject_tag": "[#]"})
    with pytest.raises(ValueError, match="smtp.tls"):
        EmailSettings.from_mapping({"smtp": {"tls": "maybe"}})


def test_position_survives_and_is_per_account(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    UidWatermark(path, "a").save(MailboxPosition(11, 42))
    UidWatermark(path, "b").save(MailboxPosition(12, 7))
    assert UidWatermark(path, "a").load() == MailboxPosition(11, 42)
    assert UidWatermark(path, "b").load() == MailboxPosition(12, 7)


def test_unreadable_state_means_a_full_search(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    assert UidWatermark(path, "a").load() == MailboxPosition(0, 1)
