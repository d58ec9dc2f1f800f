"""What a person types to find a ticket -- its number, the client's name, a phone, an account number --
as one condition on tickets.  Each reading of the text is answered from an index: the ticket number's
unique btree; a phone or an account number finds the clients it belongs to by equality and their
tickets through the tickets' client index; client names by pg_trgm (``ILIKE`` on every word, at most
``NAME_SCAN`` clients looked at)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from crm_core.models import Account, AccountRole, Client, ContactPoint, Ticket
from crm_core.phones import normalize_account_no, normalize_phone

MIN_WORD = 3
NAME_SCAN = 2_000


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _by_phone(phone: str) -> ColumnElement[bool]:
    owners = select(ContactPoint.client_id).where(ContactPoint.kind == "phone", ContactPoint.value == phone)
    return Ticket.client_id.in_(owners)


def _by_account(account_no: str) -> ColumnElement[bool]:
    accounts = select(Account.id).where(Account.account_no == account_no)
    holders = select(AccountRole.client_id).where(AccountRole.account_id.in_(accounts))
    return Ticket.client_id.in_(holders)


def _by_name(words: list[str]) -> ColumnElement[bool]:
    named = (select(Client.id).where(*(Client.full_name.ilike(f"%{_like_escape(w)}%", escape="\\") for w in words))
             .limit(NAME_SCAN))
    return Ticket.client_id.in_(named)


def ticket_text_condition(text: str) -> ColumnElement[bool]:
    """Tickets the typed ``text`` names by any reading of it."""
    typed = text.strip()
    readings: list[ColumnElement[bool]] = [Ticket.number == typed.upper()]
    if phone := normalize_phone(typed):
        readings.append(_by_phone(phone))
    if account_no := normalize_account_no(typed):
        readings.append(_by_account(account_no))
    words = [w for w in typed.split() if len(w) >= MIN_WORD and not w.isdigit()]
    if words:
        readings.append(_by_name(words))
    return or_(*readings)
