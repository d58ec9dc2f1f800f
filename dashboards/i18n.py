"""Interface strings: ``dashboards/locales/<area>.<lang>.json`` (dashboards, webchat, ...), merged per
language, Ukrainian by default.

The pages fetch the whole table once (``GET /api/v1/i18n/<lang>``); the API uses it for error messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANG_COOKIE = "sb_lang"


class Locales:
    def __init__(self, languages: tuple[str, ...], default: str, directory: Path = LOCALES_DIR) -> None:
        self.default = default
        self.tables: dict[str, dict[str, str]] = {lang: _merged(directory, lang) for lang in languages}
        if not self.tables.get(default):
            raise ValueError(f"default language {default!r} has no locale file")

    def table(self, lang: str) -> Mapping[str, str]:
        return self.tables.get(lang, self.tables[self.default])

    def text(self, lang: str, key: str) -> str:
        return self.table(lang).get(key) or self.tables[self.default].get(key, key)

    def pick(self, request: web.Request) -> str:
        """The language of a request: ``?lang=``, then the cookie, then the default (the browser's own
        preference is not asked: the interface is Ukrainian unless the user picks another language)."""
        for candidate in (request.query.get("lang"), request.cookies.get(LANG_COOKIE)):
            if candidate in self.tables:
                return candidate
        return self.default


def _merged(directory: Path, lang: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for path in sorted(directory.glob(f"*.{lang}.json")):
        table.update(json.loads(path.read_text(encoding="utf-8")))
    return table
