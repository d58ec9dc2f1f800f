"""Delivery receipts: the ``deliver_sm`` an SMSC sends back for a message it accepted.

SMPP 3.4 (section 5.2.12, appendix B) puts the receipt in ``short_message`` as text,
``id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E
Text: ...``, and optionally in the ``receipted_message_id`` and ``message_state`` TLVs, which win
when present.  SMSCs differ in details (upper-case keys, seconds in dates, hex or decimal ids), so
the text is read leniently.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

ESM_CLASS_TYPE_MASK = 0x3C
ESM_CLASS_SMSC_RECEIPT = 0x04
ESM_CLASS_INTERMEDIATE = 0x20

# message_state TLV values (SMPP 3.4 section 5.2.28) and the receipt text's stat words.
MESSAGE_STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD",
                  7: "UNKNOWN", 8: "REJECTD"}
FINAL_STATES = {"DELIVRD": "delivered", "EXPIRED": "failed", "DELETED": "failed", "UNDELIV": "failed",
                "REJECTD": "failed", "UNKNOWN": "failed"}
_ALIASES = {"DELIVERED": "DELIVRD", "UNDELIVERABLE": "UNDELIV", "REJECTED": "REJECTD", "ACCEPTED": "ACCEPTD"}
_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err):\s*(\S*)", re.IGNORECASE)


class MalformedReceipt(ValueError):
    """A receipt with neither a message id nor a state to read."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What one receipt says about one submitted part."""

    message_id: str
    stat: str
    error: str | None = None
    done_at: datetime | None = None

    @property
    def state(self) -> str | None:
        """``delivered`` / ``failed``, or ``None`` for an intermediate state (ENROUTE, ACCEPTD)."""
        return FINAL_STATES.get(self.stat)

    @property
    def reason(self) -> str | None:
        if self.state != "failed":
            return None
        return f"{self.stat} err:{self.error}" if self.error else self.stat


def is_receipt(esm_class: int) -> bool:
    return esm_class & ESM_CLASS_TYPE_MASK in (ESM_CLASS_SMSC_RECEIPT, ESM_CLASS_INTERMEDIATE)


def _as_text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\x00")
    return str(value)


def _done_date(value: str, zone: tzinfo) -> datetime | None:
    pattern = {10: "%y%m%d%H%M", 12: "%y%m%d%H%M%S"}.get(len(value))
    if pattern is None or not value.isdigit():
        return None
    try:
        return datetime.strptime(value, pattern).replace(tzinfo=zone).astimezone(UTC)
    except ValueError:
        return None


def parse_receipt(short_message: bytes | str | None, receipted_message_id: bytes | str | None = None,
                  message_state: int | None = None, zone: tzinfo = UTC) -> Receipt:
    """The receipt in a ``deliver_sm``; ``zone`` is the SMSC's clock for the done date."""
    text = _as_text(short_message)
    fields: dict[str, str] = {}
    for key, value in _FIELD.findall(text.split(" text:")[0].split(" Text:")[0]):
        fields.setdefault(key.lower(), value)
    message_id = _as_text(receipted_message_id) or fields.get("id", "")
    stat = MESSAGE_STATES.get(message_state or 0) or fields.get("stat", "").upper()
    stat = _ALIASES.get(stat, stat)
    if not message_id or not stat:
        raise MalformedReceipt(f"receipt without {'id' if not message_id else 'stat'}: {text[:200]!r}")
    error = fields.get("err")
    done = fields.get("done date")
    return Receipt(message_id=message_id, stat=stat, error=error if error and error.strip("0") else None,
                   done_at=_done_date(done, zone) if done else None)


def id_variants(message_id: str) -> tuple[str, ...]:
    """The spellings one id may have: some SMSCs answer ``submit_sm_resp`` with a hex id and write it in
    the receipt text in decimal (or the other way round)."""
    variants = [message_id]
    if message_id.isdigit():
        variants.append(format(int(message_id), "x"))
    with contextlib.suppress(ValueError):
        variants.append(str(int(message_id, 16)))
    return tuple(dict.fromkeys(variants))
