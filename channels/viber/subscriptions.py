"""Users who unsubscribed from the bot: Viber refuses messages to them, so the channel does not try.

Kept in a small JSON file, written atomically on every change and re-read when another process (the
gateway that received the ``unsubscribed`` callback, say) changed it, so every channel instance of the
account agrees and a restart remembers.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


class UnsubscribedUsers:
    """A durable set of Viber user ids."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self._path = Path(path) if path else None
        self._users: set[str] = set()
        self._seen_mtime: int | None = None
        self._refresh()

    def __contains__(self, user_id: object) -> bool:
        self._refresh()
        return user_id in self._users

    def __len__(self) -> int:
        self._refresh()
        return len(self._users)

    def add(self, user_id: str) -> None:
        self._refresh()
        if user_id not in self._users:
            self._users.add(user_id)
            self._save()

    def discard(self, user_id: str) -> None:
        self._refresh()
        if user_id in self._users:
            self._users.discard(user_id)
            self._save()

    def _refresh(self) -> None:
        if self._path is None:
            return
        try:
            mtime = self._path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._seen_mtime:
            return
        try:
            self._users = {str(user) for user in json.loads(self._path.read_text())}
        except (ValueError, TypeError, OSError) as exc:
            log.error("viber: cannot read unsubscribed users from %s (%s); keeping %d known", self._path, exc,
                      len(self._users))
        self._seen_mtime = mtime

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self._path.parent, prefix=self._path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(sorted(self._users), handle)
        os.replace(temporary, self._path)
        self._seen_mtime = self._path.stat().st_mtime_ns
