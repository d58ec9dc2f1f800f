"""What billing answers, parsed tolerantly: a missing optional field becomes empty, an unknown one is
ignored, and both are reported so an operator can tell a changed contract from a quiet day."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

log = logging.getLogger(__name__)

ACCOUNT_FIELDS = frozenset({"account_no", "eic_code", "balance", "as_of", "tariff", "owner_name",
                            "service_address"})
DETAIL_FIELDS = frozenset({"charges", "payments", "equipment", "meters"})


class BillingContractError(ValueError):
    """An answer that lacks what the contract requires (an account number, a balance, its time)."""


@dataclass(frozen=True, slots=True)
class BillingAccount:
    """One personal account as billing knows it, with the time its figures were true (``as_of``)."""

    account_no: str
    balance: Decimal
    as_of: datetime
    eic_code: str | None = None
    tariff: str | None = None
    owner_name: str | None = None
    service_address: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # charges, payments, equipment, meters

    def detail_json(self) -> dict[str, Any]:
        return {name: self.detail.get(name, []) for name in sorted(DETAIL_FIELDS)}


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise BillingContractError(f"{name}: not a number: {value!r}") from None


def _time(value: Any, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BillingContractError(f"{name}: not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise BillingContractError(f"{name}: a time without its offset: {value!r}")
    return parsed


def parse_account(data: Any) -> BillingAccount:
    """A :class:`BillingAccount` from one answer; :class:`BillingContractError` when a required field is
    missing or malformed."""
    if not isinstance(data, dict):
        raise BillingContractError("an account is a JSON object")
    for required in ("account_no", "balance", "as_of"):
        if data.get(required) in (None, ""):
            raise BillingContractError(f"{required}: missing")
    if extra := set(data) - ACCOUNT_FIELDS - DETAIL_FIELDS:
        log.info("billing sent fields outside the contract for account %s: %s", data["account_no"], sorted(extra))
    detail = {name: data[name] for name in DETAIL_FIELDS if isinstance(data.get(name), list)}
    return BillingAccount(
        account_no=str(data["account_no"]), balance=_decimal(data["balance"], "balance"),
        as_of=_time(data["as_of"], "as_of"), eic_code=data.get("eic_code"), tariff=data.get("tariff"),
        owner_name=data.get("owner_name"), service_address=data.get("service_address"), detail=detail)


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of billing's change feed: account ``account_no`` changed (``kind``) at ``seq``."""

    seq: int
    account_no: str
    kind: str


def parse_change(data: Any) -> Change:
    if not isinstance(data, dict) or not isinstance(data.get("seq"), int) or not data.get("account_no"):
        raise BillingContractError(f"a change needs seq and account_no: {data!r}")
    return Change(data["seq"], str(data["account_no"]), str(data.get("kind", "changed")))


