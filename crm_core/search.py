"""Search for clients and their accounts by phone, account number, name, address, e-mail or EIC code.

Every term matches in part: a name or an address by all of its words (``ILIKE``) or, for typos, by
trigram word similarity; a phone whole (normalised) or by a run of its digits; an account number by
its beginning.  Terms combine with AND (one row must match all: "Шевченко" living in "Київ") or OR
(any of them).  Each term is answered from an index (pg_trgm GIN on names, addresses and contact
values, btree on account numbers and EIC codes), so the search stays fast at 13 M accounts: each term
is looked at in at most ``SCAN_LIMIT`` matching rows, the matches are ranked by similarity and the best
``limit`` are returned; ``truncated`` says more rows matched than were looked at.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.models import Account, AccountRole, Client, ContactPoint
from crm_core.phones import normalize_account_no, normalize_email, normalize_phone, phone_digits

SEARCH_FIELDS = ("phone", "account_no", "name", "address", "email", "eic")
FUZZY_FIELDS = ("name", "address")
SEARCH_MODES = ("and", "or")
MAX_LIMIT = 500
SCAN_LIMIT = 2000  # matching rows looked at per term before ranking
MIN_WORD = 3  # shorter words have no trigram: they narrow a match but cannot drive it
MIN_PHONE_DIGITS = 5
MIN_ACCOUNT_DIGITS = 4
EIC_LENGTH = 16

_clients = Client.__table__.alias("c")
_roles = AccountRole.__table__.alias("r")
_accounts = Account.__table__.alias("a")
_points = ContactPoint.__table__.alias("p")
_card_clients = Client.__table__.alias("hit_client")
_card_accounts = Account.__table__.alias("hit_account")


class SearchError(ValueError):
    """The query cannot be answered (unknown field or mode, a term too short to match in part).

    ``key`` names the agent-facing text in the locale files (``crm.search.*`` in
    ``dashboards/locales/crm_core.<lang>.json``), to be formatted with ``params``; the message itself
    is English, for logs.
    """

    def __init__(self, message: str, key: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(message, key, params or {})
        self.key = f"crm.search.{key}"
        self.params: dict[str, Any] = params or {}

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class Term:
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: Sequence[Term]
    mode: str = "and"
    limit: int = 50


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A client, and one account the client holds (in ``role``); account fields are ``None`` for a
    client without accounts."""

    client_id: int
    full_name: str
    client_kind: str
    segment: str
    account_id: int | None
    account_no: str | None
    service_address: str | None
    role: str | None
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: tuple[SearchHit, ...] = ()
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Match:
    condition: ColumnElement[bool]
    score: ColumnElement[float]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _words_match(column: Any, value: str, field_name: str, *, fuzzy: bool) -> _Match:
    """Every word of ``value`` inside ``column``; or, ``fuzzy``, ``value`` close to a part of it."""
    words = value.split()
    long_words = [w for w in words if len(w) >= MIN_WORD]
    if not long_words:
        raise SearchError(f"{field_name}: give at least one word of {MIN_WORD} or more letters", "word_too_short",
                          {"field": field_name, "min": MIN_WORD})
    typed = literal(value)
    score = func.word_similarity(typed, column) + func.similarity(typed, column)
    if fuzzy:
        return _Match(typed.op("<%", is_comparison=True)(column), score)
    condition = and_(*(column.ilike(f"%{_like_escape(w)}%", escape="\\") for w in long_words),
                     *(func.strpos(func.lower(column), w.lower()) > 0 for w in words if len(w) < MIN_WORD))
    return _Match(condition, score)


def _contact_match(kind: str, value_condition: ColumnElement[bool], score: float) -> _Match:
    owners = select(_points.c.client_id).where(_points.c.kind == kind, value_condition)
    return _Match(_clients.c.id.in_(owners), cast(literal(score), Float))


def _phone_match(value: str) -> _Match:
    phone = normalize_phone(value)
    if phone is not None:
        return _contact_match("phone", _points.c.value == phone, 1.0)
    digits = phone_digits(value)
    if len(digits) < MIN_PHONE_DIGITS:
        raise SearchError(f"phone: give the whole number or at least {MIN_PHONE_DIGITS} digits of it",
                          "phone_too_short", {"min": MIN_PHONE_DIGITS})
    return _contact_match("phone", _points.c.value.like(f"%{digits}%"), 0.5)


def _email_match(value: str) -> _Match:
    email = normalize_email(value)
    if email is not None:
        return _contact_match("email", _points.c.value == email, 1.0)
    part = value.strip().lower()
    if len(part) < MIN_WORD:
        raise SearchError(f"email: give at least {MIN_WORD} characters of the address", "email_too_short",
                          {"min": MIN_WORD})
    return _contact_match("email", _points.c.value.like(f"%{_like_escape(part)}%", escape="\\"), 0.5)


def _account_no_match(value: str) -> _Match:
    number = normalize_account_no(value)
    if number is None or len(number) < MIN_ACCOUNT_DIGITS:
        raise SearchError(f"account_no: give at least {MIN_ACCOUNT_DIGITS} leading digits of the number",
                          "account_no_too_short", {"min": MIN_ACCOUNT_DIGITS})
    column = _accounts.c.account_no
    return _Match(column.like(f"{number}%"), case((column == number, 1.0), else_=0.5))


def _eic_match(value: str) -> _Match:
    code = "".join(value.split()).upper()
    if len(code) != EIC_LENGTH:
        raise SearchError(f"eic: give the whole {EIC_LENGTH}-character code", "eic_whole", {"length": EIC_LENGTH})
    return _Match(_accounts.c.eic_code == code, cast(literal(1.0), Float))


def _term_match(term: Term, fuzzy: bool) -> _Match:
    if term.field == "name":
        return _words_match(_clients.c.full_name, term.value, "name", fuzzy=fuzzy)
    if term.field == "address":
        return _words_match(_accounts.c.service_address, term.value, "address", fuzzy=fuzzy)
    if term.field == "phone":
        return _phone_match(term.value)
    if term.field == "email":
        return _email_match(term.value)
    if term.field == "account_no":
        return _account_no_match(term.value)
    if term.field == "eic":
        return _eic_match(term.value)
    raise SearchError(f"unknown search field {term.field!r}; expected one of {SEARCH_FIELDS}", "unknown_field",
                      {"field": term.field})


def _branch(index: int, condition: ColumnElement[bool], score: ColumnElement[float]) -> Select[Any]:
    joined = (_clients.outerjoin(_roles, _roles.c.client_id == _clients.c.id)
              .outerjoin(_accounts, _accounts.c.id == _roles.c.account_id))
    return (select(_clients.c.id.label("client_id"), _accounts.c.id.label("account_id"),
                   _roles.c.role.label("role"), score.label("score"), literal(index).label("branch"))
            .select_from(joined).where(condition).limit(SCAN_LIMIT))


def search_statement(query: SearchQuery, *, fuzzy: bool = False) -> Select[Any]:
    """The statement that answers ``query``; raises ``SearchError`` for a query it cannot answer.

    ``fuzzy`` matches names and addresses by trigram word similarity instead of by their words: the
    second try for a query that found nothing (a typo), too costly to run on every search."""
    if query.mode not in SEARCH_MODES:
        raise SearchError(f"unknown search mode {query.mode!r}; expected one of {SEARCH_MODES}", "unknown_mode",
                          {"mode": query.mode})
    if not query.terms:
        raise SearchError("give at least one search term", "no_terms")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}", "bad_limit", {"max": MAX_LIMIT})
    matches = [_term_match(term, fuzzy) for term in query.terms]
    if query.mode == "and":
        score = matches[0].score
        for match in matches[1:]:
            score = score + match.score
        branches = [_branch(0, and_(*(m.condition for m in matches)), score)]
    else:
        branches = [_branch(i, m.condition, m.score) for i, m in enumerate(matches)]
    hits = (branches[0] if len(branches) == 1 else union_all(*branches)).cte("hits")
    per_branch = select(func.count().label("n")).select_from(hits).group_by(hits.c.branch).subquery("per_branch")
    truncated = select(func.coalesce(func.max(per_branch.c.n), 0) >= SCAN_LIMIT).scalar_subquery()
    score = func.sum(hits.c.score).label("score")
    ranked = (select(hits.c.client_id, hits.c.account_id, hits.c.role, score)
              .group_by(hits.c.client_id, hits.c.account_id, hits.c.role)
              .order_by(score.desc(), hits.c.client_id, hits.c.account_id)
              .limit(query.limit).subquery("ranked"))
    return (
        select(ranked.c.client_id, _card_clients.c.full_name, _card_clients.c.kind, _card_clients.c.segment,
               ranked.c.account_id, _card_accounts.c.account_no, _card_accounts.c.service_address,
               ranked.c.role, ranked.c.score, truncated.label("truncated"))
        .select_from(ranked.join(_card_clients, _card_clients.c.id == ranked.c.client_id)
                     .outerjoin(_card_accounts, _card_accounts.c.id == ranked.c.account_id))
        .order_by(ranked.c.score.desc(), ranked.c.client_id, ranked.c.account_id)
    )


async def search(conn: AsyncConnection, query: SearchQuery) -> SearchResult:
    """Clients and accounts matching ``query``, best first (see the module docstring).

    The planner is kept off sequential scans for the search: with a row limit it would otherwise bet
    on finding matches early in a table scan, which at 13 M rows loses badly for a rare name.
    """
    statement = search_statement(query)
    retry_fuzzy = any(term.field in FUZZY_FIELDS for term in query.terms)
    await conn.exec_driver_sql("SET enable_seqscan = off")
    try:
        rows = (await conn.execute(statement)).all()
        if not rows and retry_fuzzy:
            rows = (await conn.execute(search_statement(query, fuzzy=True))).all()
    finally:
        with contextlib.suppress(DBAPIError):  # in a failed transaction the SET is undone with it
            await conn.exec_driver_sql("RESET enable_seqscan")
    hits = tuple(
        SearchHit(client_id=row.client_id, full_name=row.full_name, client_kind=row.kind,
                  segment=row.segment, account_id=row.account_id, account_no=row.account_no,
                  service_address=row.service_address, role=row.role, score=round(float(row.score), 4))
        for row in rows)
    return SearchResult(hits=hits, truncated=bool(rows and rows[0].truncated))
