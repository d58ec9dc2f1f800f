"""Every permission has its name in the administration page's languages (the role matrix shows names,
not permission codes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboards.settings import PERMISSIONS

LOCALES = Path(__file__).resolve().parents[2] / "dashboards" / "locales"


@pytest.mark.parametrize("language", ["uk", "en"])
def test_every_permission_is_named(language):
    labels = json.loads((LOCALES / f"admin.{language}.json").read_text(encoding="utf-8"))
    assert [p for p in PERMISSIONS if not labels.get(f"permission.{p}")] == []
