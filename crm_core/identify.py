"""Identify a client from one contact: a phone, e-mail, Telegram or Viber id, or an account number.

One statement, one round-trip, btree indexes only: the contact point is found through the unique
``(kind, value, client_id)`` index (an account number through the unique ``account_no`` index), the
candidates are ranked (for an account number: owner before co-owner before contact person; then the
client who owns most accounts; then the oldest client) and the best one comes back with its accounts.
When several clients share the contact (a family landline, an account with two owners) the answer says
so with ``ambiguous`` and lists every candidate, so the agent can pick another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, case, cast, func, literal, null, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

from crm_core import driver_sql
from crm_core.models import Account, AccountRole, Client, ContactPoint
from crm_core.phones import normalize_contact

IDENTIFY_KINDS = ("phone", "email", "telegram", "viber", "account_no")
ACCOUNTS_LISTED = 50  # an organisation may hold thousands of accounts; the card pages the rest

_clients = Client.__table__
_accounts = Account.__table__
_roles = AccountRole.__table__
_points = ContactPoint.__table__


@dataclass(frozen=True, slots=True)
class AccountLink:
    """One of the identified client's accounts and the client's role on it."""

    account_id: int
    account_no: str
    role: str


@dataclass(frozen=True, slots=True)
class Identification:
    """Who a contact belongs to.

    ``account_id`` is the account the contact is about when that is known: the one looked up by its
    number, or the client's only account.  ``candidates`` holds every client the contact belongs to,
    best first; ``ambiguous`` is true when more than one of them ranks first.
    """

    client_id: int
    full_name: str
    client_kind: str
    segment: str
    language: str
    accounts: tuple[AccountLink, ...]
    accounts_total: int
    account_id: int | None
    ambiguous: bool
    candidates: tuple[int, ...]
    matched_kind: str
    matched_value: str

    @property
    def account_ids(self) -> tuple[int, ...]:
        return tuple(link.account_id for link in self.accounts)

    @property
    def account_numbers(self) -> tuple[str, ...]:
        return tuple(link.account_no for link in self.accounts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _role_rank(role_column: Any) -> Any:
    return case({"owner": 0, "co_owner": 1}, value=role_column, else_=2)


def _matched_by_contact_point() -> Select[Any]:
    return select(
        _points.c.client_id.label("client_id"),
        literal(0).label("rank"),
        cast(null(), BigInteger).label("account_id"),
    ).where(_points.c.kind == bindparam("kind"), _points.c.value == bindparam("value"))


def _matched_by_account_no() -> Select[Any]:
    return (
        select(_roles.c.client_id.label("client_id"), func.min(_role_rank(_roles.c.role)).label("rank"),
               _accounts.c.id.label("account_id"))
        .select_from(_accounts.join(_roles, _roles.c.account_id == _accounts.c.id))
        .where(_accounts.c.account_no == bindparam("value"))
        .group_by(_roles.c.client_id, _accounts.c.id)
    )


def _identify_statement(matched_select: Select[Any]) -> Select[Any]:
    matched = matched_select.cte("matched")
    owner_roles = _roles.alias("owner_roles")
    owned = (select(func.count()).where(owner_roles.c.client_id == matched.c.client_id,
                                        owner_roles.c.role == "owner").scalar_subquery())
    ranked = select(matched.c.client_id, matched.c.rank, matched.c.account_id,
                    owned.label("owned")).cte("ranked")
    best = (select(ranked.c.client_id, ranked.c.rank, ranked.c.account_id)
            .order_by(ranked.c.rank, ranked.c.owned.desc(), ranked.c.client_id).limit(1).cte("best"))
    candidates = select(func.array_agg(aggregate_order_by(
        ranked.c.client_id, ranked.c.rank, ranked.c.owned.desc(), ranked.c.client_id
    ))).scalar_subquery()
    tied = select(func.count()).select_from(ranked).where(ranked.c.rank == best.c.rank).scalar_subquery()
    client_roles = _roles.alias("client_roles")
    listed = (
        select(_accounts.c.id, _accounts.c.account_no, client_roles.c.role)
        .select_from(client_roles.join(_accounts, _accounts.c.id == client_roles.c.account_id))
        .where(client_roles.c.client_id == _clients.c.id)
        .order_by(_role_rank(client_roles.c.role), _accounts.c.account_no)
        .limit(ACCOUNTS_LISTED)
        .correlate(_clients)
        .subquery("listed")
    )
    accounts = select(func.json_agg(func.json_build_array(listed.c.id, listed.c.account_no, listed.c.role))
                      ).select_from(listed).scalar_subquery()
    total_roles = _roles.alias("total_roles")
    accounts_total = (select(func.count(func.distinct(total_roles.c.account_id)))
                      .where(total_roles.c.client_id == _clients.c.id).scalar_subquery())
    single_account = (select(func.min(total_roles.c.account_id))
                      .where(total_roles.c.client_id == _clients.c.id)
                      .having(func.count(func.distinct(total_roles.c.account_id)) == 1).scalar_subquery())
    return (
        select(_clients.c.id, _clients.c.full_name, _clients.c.kind, _clients.c.segment, _clients.c.language,
               accounts.label("accounts"), accounts_total.label("accounts_total"),
               func.coalesce(best.c.account_id, single_account).label("account_id"),
               tied.label("tied"), candidates.label("candidates"))
        .select_from(best.join(_clients, _clients.c.id == best.c.client_id))
    )


BY_CONTACT_POINT = _identify_statement(_matched_by_contact_point())
BY_ACCOUNT_NO = _identify_statement(_matched_by_account_no())


def _for_driver(statement: Select[Any]) -> tuple[str, dict[str, Any]]:
    """The statement compiled once for the driver: its SQL and the values of its fixed parameters."""
    compiled = statement.compile(dialect=psycopg_dialect())
    return compiled.string, dict(compiled.params)


_DRIVER_FORMS = {id(BY_CONTACT_POINT): _for_driver(BY_CONTACT_POINT), id(BY_ACCOUNT_NO): _for_driver(BY_ACCOUNT_NO)}


def identify_statement(kind: str) -> Select[Any]:
    """The statement ``identify`` runs for ``kind`` (bound by ``kind`` and ``value``)."""
    if kind not in IDENTIFY_KINDS:
        raise ValueError(f"cannot identify by {kind!r}; expected one of {IDENTIFY_KINDS}")
    return BY_ACCOUNT_NO if kind == "account_no" else BY_CONTACT_POINT


async def identify(conn: driver_sql.Source, kind: str, value: str) -> Identification | None:
    """The client ``value`` (a phone, e-mail, messenger id or account number) belongs to, or ``None``.

    ``value`` may be given as a person or a caller id writes it; it is normalised first, and a value
    that cannot be a contact of ``kind`` (an anonymous caller id, a malformed e-mail) gives ``None``.
    """
    statement = identify_statement(kind)
    normalised = normalize_contact(kind, value)
    if normalised is None:
        return None
    sql, fixed = _DRIVER_FORMS[id(statement)]
    row = await driver_sql.fetch_one(conn, sql, {**fixed, "kind": kind, "value": normalised})
    if row is None:
        return None
    return Identification(
        client_id=row["id"], full_name=row["full_name"], client_kind=row["kind"], segment=row["segment"],
        language=row["language"],
        accounts=tuple(AccountLink(int(a), str(n), str(r)) for a, n, r in row["accounts"] or ()),
        accounts_total=row["accounts_total"], account_id=row["account_id"], ambiguous=row["tied"] > 1,
        candidates=tuple(row["candidates"]), matched_kind=kind, matched_value=normalised,
    )


async def identify_with_card(conn: driver_sql.Source, kind: str,
                             value: str) -> tuple[Identification | None, dict[str, Any] | None]:
    """Who ``value`` belongs to and that client's card, in one call: a ringing call's screen pop needs
    both, and the caller need not wait for a second trip to the CRM pool."""
    from crm_core.card import client_card

    who = await identify(conn, kind, value)
    return who, (await client_card(conn, who.client_id) if who is not None else None)
