"""What the channel remembers of the messages it submitted: the SMSC's id of every part, so that a
multipart message has one external id, and what each part's receipt said, so that a message's outcome
is reported once however often the SMSC repeats a receipt."""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from channels.base import DeliveryReceipt
from channels.sms.part_ids import PartIdFile
from channels.sms.receipts import Receipt, id_variants

_tickets = itertools.count()


@dataclass(eq=False, slots=True)
class Part:
    """One ``submit_sm``.  ``ticket`` orders submits: a part sent again goes before newer ones."""

    message: TrackedMessage
    index: int
    fields: dict[str, Any]
    ticket: int = field(default_factory=lambda: next(_tickets))
    message_id: str | None = None
    attempts: int = 0

    def __lt__(self, other: Part) -> bool:
        return self.ticket < other.ticket


@dataclass(eq=False, slots=True)
class TrackedMessage:
    """One logical message: its parts, the answer ``send`` waits for, what its receipts said."""

    dedupe_key: str
    parts: list[Part] = field(default_factory=list)
    accepted: asyncio.Future[DeliveryReceipt] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    outcomes: dict[int, Receipt] = field(default_factory=dict)
    reported: bool = False

    @property
    def external_id(self) -> str | None:
        return self.parts[0].message_id if self.parts else None

    def part_answered(self) -> None:
        if not self.accepted.done() and all(p.message_id for p in self.parts):
            self.accepted.set_result(DeliveryReceipt(external_id=self.external_id))

    def outcome(self, index: int, receipt: Receipt) -> Receipt | None:
        """Record one part's final receipt; the message's outcome once it is known (the first failed
        part, or the last part delivered), else ``None``.  A known outcome is given once."""
        if self.reported:
            return None
        self.outcomes.setdefault(index, receipt)
        if receipt.state == "failed":
            self.reported = True
            return receipt
        if len(self.outcomes) == len(self.parts):
            self.reported = True
            return max(self.outcomes.values(), key=lambda r: r.done_at.timestamp() if r.done_at else 0.0)
        return None


class MessageBook:
    """The tracked messages by dedupe key and by the SMSC's part ids, the oldest forgotten first past
    ``capacity``; plus the receipts of ids it does not know that were already passed on."""

    def __init__(self, capacity: int, part_ids: PartIdFile | None = None) -> None:
        self.capacity = capacity
        self.part_ids = part_ids or PartIdFile(None, capacity)
        self._by_key: OrderedDict[str, TrackedMessage] = OrderedDict()
        self._by_part_id: dict[str, tuple[TrackedMessage, int]] = {}
        self._unknown_seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def get(self, dedupe_key: str) -> TrackedMessage | None:
        return self._by_key.get(dedupe_key)

    def add(self, message: TrackedMessage) -> None:
        self._by_key[message.dedupe_key] = message
        while len(self._by_key) > self.capacity:
            _key, old = self._by_key.popitem(last=False)
            for part in old.parts:
                if part.message_id:
                    self._by_part_id.pop(part.message_id, None)

    def forget(self, message: TrackedMessage) -> None:
        self._by_key.pop(message.dedupe_key, None)

    def part_accepted(self, part: Part, message_id: str) -> None:
        part.message_id = message_id
        self._by_part_id[message_id] = (part.message, part.index)
        message = part.message
        if len(message.parts) < 2 or message.external_id is None:
            return  # the first part's answer writes the parts answered before it
        written = [p for p in message.parts if p.message_id] if part.index == 0 else [part]
        for done in written:
            self.part_ids.append(message.external_id, done.message_id or "", done.index, len(message.parts))

    def restore(self) -> int:
        """Take back the multipart messages of the part id file (after a restart); returns how many."""
        restored = 0
        for external_id, (total, part_ids) in self.part_ids.load().items():
            if self.find(external_id) is not None:
                continue
            message = TrackedMessage(dedupe_key=f"restored:{external_id}")
            message.parts = [Part(message=message, index=n, fields={}, message_id=part_ids.get(n)) for n in range(total)]
            for index, part_id in part_ids.items():
                self._by_part_id[part_id] = (message, index)
            restored += 1
        return restored

    def find(self, message_id: str) -> tuple[TrackedMessage, int] | None:
        for variant in id_variants(message_id):
            found = self._by_part_id.get(variant)
            if found is not None:
                return found
        return None

    def first_unknown(self, receipt: Receipt) -> bool:
        """Whether this receipt of an unknown id is new (repeats of it are passed on once)."""
        key = (receipt.message_id, receipt.stat)
        if key in self._unknown_seen:
            return False
        self._unknown_seen[key] = None
        while len(self._unknown_seen) > self.capacity:
            self._unknown_seen.popitem(last=False)
        return True
