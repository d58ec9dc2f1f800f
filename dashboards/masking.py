"""Personal data masked per role.

Values are recognised by the key they sit under anywhere in a reply (a client card, a search hit, a
ticket, a live event), so one walk covers every shape the engine returns.  A masked value keeps enough
to recognise it on the phone: ``+38067***4567``, ``o***@example.com``, ``Шевченко Т. Г.`` -> ``Ш. Т. Г.``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MASK = "***"


def mask_phone(value: str) -> str:
    return value[:6] + MASK + value[-4:] if len(value) > 10 else MASK + value[-2:]


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}{MASK}@{domain}" if domain else MASK


def mask_name(value: str) -> str:
    return " ".join(f"{word[0]}." for word in value.split() if word)


def mask_address(value: str) -> str:
    first = value.split(",")[0].strip()
    return f"{first}, {MASK}" if "," in value else MASK


def mask_account(value: str) -> str:
    return MASK + value[-4:] if len(value) > 4 else MASK


def mask_messenger(value: str) -> str:
    return value[:2] + MASK if len(value) > 4 else MASK


def _mask_sender(value: str, fields: frozenset[str]) -> str:
    if "@" in value:
        return mask_email(value) if "email" in fields else value
    if re.fullmatch(r"\+?\d{7,}", value):
        return mask_phone(value) if "phone" in fields else value
    return mask_messenger(value) if "messenger" in fields else value


# key in a reply -> (mask field, how to mask)
_BY_KEY: dict[str, tuple[str, Callable[[str], str]]] = {
    "full_name": ("name", mask_name), "client_name": ("name", mask_name), "display_name": ("name", mask_name),
    "phone": ("phone", mask_phone), "email": ("email", mask_email),
    "telegram": ("messenger", mask_messenger), "viber": ("messenger", mask_messenger),
    "service_address": ("address", mask_address), "address": ("address", mask_address),
    "account_no": ("account_no", mask_account), "eic_code": ("account_no", mask_account),
    "balance": ("balance", lambda _: MASK),
}
_CONTACT_KINDS = {"phone": mask_phone, "email": mask_email, "telegram": mask_messenger, "viber": mask_messenger}
_CONTACT_FIELD = {"phone": "phone", "email": "email", "telegram": "messenger", "viber": "messenger"}


def mask(data: Any, fields: frozenset[str]) -> Any:
    """A copy of ``data`` with the given kinds of personal data masked (``data`` itself is untouched)."""
    if not fields:
        return data
    if isinstance(data, list | tuple):
        return [mask(item, fields) for item in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    contact_kind = data.get("kind") if isinstance(data.get("kind"), str) else None
    for key, value in data.items():
        if isinstance(value, dict | list | tuple):
            out[key] = mask(value, fields)
        elif isinstance(value, str) and value:
            out[key] = _mask_value(key, value, fields, contact_kind)
        elif key == "balance" and value is not None and "balance" in fields:
            out[key] = MASK
        else:
            out[key] = value
    return out


def _mask_value(key: str, value: str, fields: frozenset[str], contact_kind: str | None) -> str:
    if key in ("sender", "from", "matched_value"):
        return _mask_sender(value, fields)
    if key == "value" and contact_kind in _CONTACT_KINDS:
        return _CONTACT_KINDS[contact_kind](value) if _CONTACT_FIELD[contact_kind] in fields else value
    rule = _BY_KEY.get(key)
    if rule is not None and rule[0] in fields:
        return rule[1](value)
    return value
