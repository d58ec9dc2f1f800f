"""The last acknowledged position in a mailbox, kept across restarts.

The acknowledgement flag on the server is the truth (a flagged message is never fetched again); this
file only bounds the search to ``UID next_uid:*`` so a large mailbox is not scanned on every start.
Losing the file costs one full search, never a message.  A changed UIDVALIDITY (the folder was
recreated) resets the position.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(slots=True)
class MailboxPosition:
    uidvalidity: int = 0
    next_uid: int = 1


class UidWatermark:
    """``{account: {"uidvalidity": n, "next_uid": m}}`` in one small JSON file, replaced atomically."""

    def __init__(self, path: Path, account: str) -> None:
        self.path = path
        self.account = account

    def _read_all(self) -> dict[str, dict[str, int]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("email: UID state %s unreadable (%s); starting from a full search", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def load(self) -> MailboxPosition:
        entry = self._read_all().get(self.account) or {}
        try:
            return MailboxPosition(int(entry.get("uidvalidity", 0)), max(1, int(entry.get("next_uid", 1))))
        except (TypeError, ValueError):
            return MailboxPosition()

    def save(self, position: MailboxPosition) -> None:
        data = self._read_all()
        data[self.account] = {"uidvalidity": position.uidvalidity, "next_uid": position.next_uid}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".uid-state-")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
