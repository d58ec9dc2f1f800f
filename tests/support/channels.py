"""The shipped channel tables as the engine reads them (each ``<field>_env`` secret resolved), with the
sandboxes' own test secrets, for tests that run a channel against its sandbox peer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actors.channel_secrets import resolve
from actors.settings import read_toml

CONFIG = Path(__file__).resolve().parents[2] / "config" / "channels"
# What the sandbox peers accept (channels/sandbox/*): never a secret of a real installation.
SANDBOX_SECRETS = {"telegram": {"token": "7000000001:SANDBOX-token"},
                   "viber": {"token": "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"},
                   "voice": {"secret": "sandbox", "vicidial_api_pass": "apipass"}}


def channel_table(name: str, **overrides: Any) -> dict[str, Any]:
    table = resolve(name, read_toml(CONFIG / f"{name}.toml")[name], {name: SANDBOX_SECRETS.get(name, {})})
    return {**table, **overrides}
