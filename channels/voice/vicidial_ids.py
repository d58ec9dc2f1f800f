"""VICIdial call ids carried in the caller-id name.

VICIdial names every call it places or receives by putting a call id into the caller-id name
(docs/CALLER_ID_NAME_CODES.txt and bin/AST_VDauto_dial.pl in the VICIdial source):

- ``V`` auto-dial, ``M`` manual dial, ``Y`` inbound, ``J`` inbound closer transfer, ``E`` inbound
  e-mail: one letter, the date ``mddhhmmss`` (9 digits) and the lead id zero-padded to 10 digits, 20
  characters in all, e.g. ``M7152249180000855319`` is lead 855319.  Builds before lead ids grew to 10
  digits (VICIdial 2.4, 2010) used ``mmddhhmmss`` and a 9-digit lead: same length, so the split is a
  setting (``lead_id_digits``).  A manual dial may carry the agent's extension after a space
  (``"M7152249180000855319 1001"``), which VICIdial itself strips.
- ``DC`` 3-way call: ``DC`` + 6 digits + ``W`` + the 10-digit lead + ``W``.
- Codes for VICIdial's own control calls (agent login ``S``, park ``LP``, monitor ``BM`` ...): the
  type is reported, there is no lead.

When the caller-id name holds no call id but the connected-line name does, VICIdial's
AST_manager_listen uses the connected-line name; :func:`parse_call_id_pair` does the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CLIENT_CALL_TYPES = frozenset({"V", "M", "Y", "J"})
"""Call ids of calls with a client on the line (auto-dial, manual dial, inbound, closer transfer)."""

_LEAD_CALL = re.compile(r"^([VMYJE])(\d{19})$")
_THREE_WAY = re.compile(r"^DC\d{6}W(\d{10})W$")
_CONTROL_PREFIXES = (
    "AGMON", "ACagcW", "XLvdc", "XBvdc", "HLvdcW", "ULGC", "ULGH",
    "DV", "LP", "FP", "LX", "FX", "VH", "RH", "CX", "BM", "BB", "BW", "CH", "S",
)


@dataclass(frozen=True, slots=True)
class VicidialCallId:
    call_id: str
    type: str
    lead_id: str | None

    def as_metadata(self) -> dict[str, str | None]:
        return {"call_id": self.call_id, "lead_id": self.lead_id, "type": self.type}


def parse_call_id(caller_id_name: str | None, *, lead_id_digits: int = 10) -> VicidialCallId | None:
    """The VICIdial call id in a caller-id name, or ``None`` when there is none."""
    if not caller_id_name:
        return None
    text = caller_id_name.strip().strip('"')
    if len(text) >= 18 and " " in text:
        text = text.split(" ", 1)[0]
    match = _LEAD_CALL.match(text)
    if match:
        lead = match.group(2)[-lead_id_digits:]
        return VicidialCallId(text, match.group(1), _strip_zeros(lead))
    match = _THREE_WAY.match(text)
    if match:
        return VicidialCallId(text, "DC", _strip_zeros(match.group(1)))
    if text.isalnum() and sum(ch.isdigit() for ch in text) >= 10:
        for prefix in _CONTROL_PREFIXES:
            if text.startswith(prefix):
                return VicidialCallId(text, prefix, None)
    return None


def parse_call_id_pair(
    caller_id_name: str | None, connected_line_name: str | None, *, lead_id_digits: int = 10
) -> VicidialCallId | None:
    """Prefer the caller-id name; fall back to the connected-line name like VICIdial does."""
    return parse_call_id(caller_id_name, lead_id_digits=lead_id_digits) or parse_call_id(
        connected_line_name, lead_id_digits=lead_id_digits
    )


def _strip_zeros(lead: str) -> str | None:
    stripped = lead.lstrip("0")
    return stripped or None
