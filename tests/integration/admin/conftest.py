"""A configuration directory of the test's own (a copy of config/), and ``switchboard`` run in this
process against a fresh database."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest

from actors.cli import main
from actors.settings import DEFAULT_CONFIG_DIR
from tests.integration.dashboards.conftest import engine, login_as, web  # noqa: F401  (fixtures)

STRONG = "Gorlivka-kotel-2026-vesna"


@pytest.fixture
def config_dir(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


@pytest.fixture
def switchboard(fresh_db_url, tmp_path, monkeypatch, capsys):
    """``switchboard <args>`` with ``stdin`` fed; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SWITCHBOARD_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
