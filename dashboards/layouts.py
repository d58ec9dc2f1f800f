"""The supervisor wall's widgets as each user arranged them, kept per user and role in a small JSON file
in the engine's data directory (written atomically; one gateway writes it)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from dashboards.errors import bad_request
from dashboards.settings import DashboardSettings

MAX_WIDGETS = 20
FILTER_KEYS = ("channel", "category", "queue", "agent_id", "sla", "status")


class LayoutStore:
    def __init__(self, path: Path, settings: DashboardSettings) -> None:
        self.path = path
        self.settings = settings
        self._lock = asyncio.Lock()

    def _load(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def default(self, role: str) -> list[dict[str, Any]]:
        return [{"kind": kind, "filters": {}} for kind in self.settings.default_widgets.get(role, ())]

    async def get(self, user_id: int, role: str) -> list[dict[str, Any]]:
        saved = self._load().get(f"{user_id}:{role}")
        return saved if saved is not None else self.default(role)

    async def put(self, user_id: int, role: str, widgets: list[Any]) -> list[dict[str, Any]]:
        clean = self.validate(widgets)
        async with self._lock:
            data = self._load()
            data[f"{user_id}:{role}"] = clean
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        return clean

    def validate(self, widgets: list[Any]) -> list[dict[str, Any]]:
        if len(widgets) > MAX_WIDGETS:
            raise bad_request("invalid_field", f"widgets: at most {MAX_WIDGETS}", field="widgets")
        clean = []
        for index, widget in enumerate(widgets):
            where = f"widgets[{index}]"
            if not isinstance(widget, dict) or widget.get("kind") not in self.settings.widgets:
                raise bad_request("invalid_field", f"{where}.kind: one of {list(self.settings.widgets)}",
                                  field="widgets")
            filters = widget.get("filters") or {}
            if not isinstance(filters, dict) or set(filters) - set(FILTER_KEYS) or not all(
                    isinstance(v, str | int) and len(str(v)) <= 64 for v in filters.values()):
                raise bad_request("invalid_field", f"{where}.filters: keys {list(FILTER_KEYS)}, short values",
                                  field="widgets")
            if set(widget) - {"kind", "filters"}:
                raise bad_request("unknown_field", f"{where}: {sorted(set(widget) - {'kind', 'filters'})}",
                                  field="widgets")
            clean.append({"kind": widget["kind"], "filters": filters})
        return clean
