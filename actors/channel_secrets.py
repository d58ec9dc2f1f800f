"""Secrets of the channels (bot tokens, the AMI secret, VICIdial's API password) come from the
environment or a secrets file, never from committed configuration.

A channel table names the variable of each secret with ``<field>_env`` (``token_env =
"SWITCHBOARD_VIBER_TOKEN"``); the value is that variable when it is set, else ``<field>`` of the channel's
table in the secrets file (``SWITCHBOARD_SECRETS_FILE``, by default ``<data_dir>/secrets.toml``, readable
by the engine's user only), else what the table itself says (empty in the committed files; the demo and
the tests put their sandbox's values there).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SECRETS_FILE_ENV = "SWITCHBOARD_SECRETS_FILE"
SECRET_FIELDS = ("token", "webhook_secret", "secret", "vicidial_api_pass")


class SecretsFileError(ValueError):
    """The secrets file cannot be read; the message names it and the reason."""


def secrets_path(data_dir: Path) -> Path:
    return Path(os.environ.get(SECRETS_FILE_ENV) or data_dir / "secrets.toml")


def read_secrets(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SecretsFileError(f"{path}: {exc}") from exc


def resolve(channel: str, table: Mapping[str, Any], secrets: Mapping[str, Any]) -> dict[str, Any]:
    """The channel's table with each ``<field>_env`` secret filled in from the environment or the file
    (the ``_env`` keys themselves are the configuration's business, not the channel's: they are dropped)."""
    resolved = dict(table)
    from_file = secrets.get(channel, {})
    for name in SECRET_FIELDS:
        variable = resolved.pop(f"{name}_env", None)
        if not variable:
            continue
        value = os.environ.get(str(variable)) or from_file.get(name)
        if value:
            resolved[name] = str(value)
    return resolved
