"""The supervisor wall's widgets as each user arranged them, kept per user and role in the
``user_preferences`` table, so every gateway of a cluster serves and saves the same layout."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_core import preferences
from dashboards.errors import bad_request
from dashboards.settings import DashboardSettings

MAX_WIDGETS = 20
FILTER_KEYS = ("channel", "category", "queue", "agent_id", "sla", "status")
PREFERENCE_KEY = "wall.layout.{role}"


class LayoutStore:
    def __init__(self, db: AsyncEngine, settings: DashboardSettings) -> None:
        self.db = db
        self.settings = settings

    def default(self, role: str) -> list[dict[str, Any]]:
        return [{"kind": kind, "filters": {}} for kind in self.settings.default_widgets.get(role, ())]

    async def get(self, user_id: int, role: str) -> list[dict[str, Any]]:
        async with self.db.connect() as conn:
            saved = await preferences.preference(conn, user_id, PREFERENCE_KEY.format(role=role))
        return saved if saved is not None else self.default(role)

    async def put(self, user_id: int, role: str, widgets: list[Any]) -> list[dict[str, Any]]:
        """Validate and save (replacing the user's layout for this role); saving the same twice is one."""
        clean = self.validate(widgets)
        async with self.db.begin() as conn:
            await preferences.save_preference(conn, user_id, PREFERENCE_KEY.format(role=role), clean)
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
