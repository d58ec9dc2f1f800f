"""The SMSC's ids of the parts of multipart messages, kept in a small append-only file so that after a
restart a receipt for part 2 still maps to the message's external id (the first part's id).  A
one-part message needs no entry: its receipt names its external id."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)


class PartIdFile:
    """Lines of ``{"external_id", "part_id", "index", "parts"}``; rewritten with the newest
    ``capacity`` messages when it is read."""

    def __init__(self, path: str | None, capacity: int) -> None:
        self.path = Path(path) if path else None
        self.capacity = capacity

    def load(self) -> OrderedDict[str, tuple[int, dict[int, str]]]:
        """external id -> (part count, {index: part id}), oldest first."""
        messages: OrderedDict[str, tuple[int, dict[int, str]]] = OrderedDict()
        if self.path is None or not self.path.exists():
            return messages
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                entry = json.loads(line)
                total, parts = messages.setdefault(str(entry["external_id"]), (int(entry["parts"]), {}))
                parts[int(entry["index"])] = str(entry["part_id"])
            except (ValueError, KeyError, TypeError):
                log.warning("sms: %s line %d is not a part id entry; skipped: %r", self.path, number, line[:200])
        while len(messages) > self.capacity:
            messages.popitem(last=False)
        self._rewrite(messages)
        return messages

    def _rewrite(self, messages: OrderedDict[str, tuple[int, dict[int, str]]]) -> None:
        assert self.path is not None
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for external_id, (total, parts) in messages.items():
                for index, part_id in sorted(parts.items()):
                    out.write(json.dumps({"external_id": external_id, "part_id": part_id, "index": index,
                                          "parts": total}) + "\n")
        temporary.replace(self.path)

    def append(self, external_id: str, part_id: str, index: int, parts: int) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"external_id": external_id, "part_id": part_id, "index": index, "parts": parts}) + "\n")
