"""``config/informing.toml`` read into :class:`routing.informing.config.InformingSettings`."""

from __future__ import annotations

from pathlib import Path

from actors.settings import ConfigError, read_toml
from routing.informing.config import InformingSettings


def load_informing(config_dir: Path) -> InformingSettings:
    path = config_dir / "informing.toml"
    if not path.exists():
        return InformingSettings()
    try:
        return InformingSettings.from_mapping(read_toml(path).get("informing", {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
