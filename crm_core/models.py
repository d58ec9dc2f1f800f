"""SQLAlchemy 2 models of the CRM core: clients and their accounts, tickets, conversations, the inbox,
durable reminders, users and their preferences, and the append-only audit log.

Conventions: every timestamp is ``timestamptz``; phone numbers are stored normalised to E.164 digits
with a leading ``+`` (``+380441234567``); e-mails lower-cased; messenger ids as the messenger gives them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime

from routing.vocabulary import REGULAR


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSONB}


def _now() -> Any:
    return func.now()


# --- clients and accounts ------------------------------------------------------------------------


class Client(Base):
    """A person or organisation the utility serves (an owner, co-owner or contact person)."""

    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="person")  # person | organisation
    full_name: Mapped[str] = mapped_column(Text)
    segment: Mapped[str] = mapped_column(String(16), default=REGULAR)  # one of routing.vocabulary.SEGMENTS
    language: Mapped[str] = mapped_column(String(8), default="uk")
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    version: Mapped[int] = mapped_column(Integer, default=1)  # raised by every change of the card
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (
        Index("ix_clients_full_name_trgm", "full_name", postgresql_using="gin",
              postgresql_ops={"full_name": "gin_trgm_ops"}),
    )


class Account(Base):
    """A personal account: one metering point with its EIC code, service address, tariff and balance."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_no: Mapped[str] = mapped_column(String(20), unique=True)
    eic_code: Mapped[str] = mapped_column(String(16), unique=True)
    service_address: Mapped[str] = mapped_column(Text)
    tariff: Mapped[str] = mapped_column(String(32))
    balance: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=0)
    balance_as_of: Mapped[datetime] = mapped_column(server_default=_now())
    __table_args__ = (
        Index("ix_accounts_address_trgm", "service_address", postgresql_using="gin",
              postgresql_ops={"service_address": "gin_trgm_ops"}),
        Index("ix_accounts_account_no_pattern", "account_no", postgresql_ops={"account_no": "varchar_pattern_ops"}),
    )


class AccountRole(Base):
    """Links a client to an account in a role; one client may hold many accounts."""

    __tablename__ = "account_roles"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)  # owner | co_owner | contact_person
    __table_args__ = (Index("ix_account_roles_client", "client_id"),)


class AccountRoleEnd(Base):
    """A link of a client to an account that ended: kept with its end date, who ended it and why."""

    __tablename__ = "account_role_ends"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    ended_at: Mapped[datetime] = mapped_column(server_default=_now())
    ended_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_account_role_ends_client", "client_id", "ended_at"),)


class ContactPoint(Base):
    """How a client is reached: normalised phone, e-mail, Telegram id, Viber id."""

    __tablename__ = "contact_points"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # phone | email | telegram | viber
    value: Mapped[str] = mapped_column(String(320))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (
        UniqueConstraint("kind", "value", "client_id", name="uq_contact_points_kind_value_client"),
        Index("ix_contact_points_client", "client_id"),
        Index("ix_contact_points_value_trgm", "value", postgresql_using="gin",
              postgresql_ops={"value": "gin_trgm_ops"}, postgresql_where="kind IN ('phone', 'email')"),
    )


# --- users -------------------------------------------------------------------------------------


class User(Base):
    """A person who logs in: agent (CC or service-centre operator), supervisor, marketer, analyst, admin."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(Text)
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"gas_billing": 4, "lang_uk": 5}
    queues: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"names": ["general", ...]}
    capacity: Mapped[dict[str, Any]] = mapped_column(default=dict)  # per channel, overrides config
    extension: Mapped[str | None] = mapped_column(String(32))  # phone extension / VICIdial user
    email: Mapped[str | None] = mapped_column(String(254))  # where notifications are e-mailed
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    language: Mapped[str | None] = mapped_column(String(8))
    vicidial_user: Mapped[str | None] = mapped_column(String(32))
    password_changed_at: Mapped[datetime] = mapped_column(server_default=_now())


class UserPreference(Base):
    """A user's own setting under a key, e.g. ``wall.layout.supervisor`` (the wall's widgets per role)."""

    __tablename__ = "user_preferences"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())


class UserSession(Base):
    """A login session; the bearer token is stored only as its SHA-256."""

    __tablename__ = "user_sessions"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    expires_at: Mapped[datetime]


class AgentState(Base):
    """The last known state of an agent actor, written on every change and read on activation."""

    __tablename__ = "agent_states"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="offline")
    reason: Mapped[str | None] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(server_default=_now())
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --- conversations and tickets -----------------------------------------------------------------


class Conversation(Base):
    """A thread with one client on one channel; the actor's durable state lives in ``state``."""

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    thread_key: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    queue: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(Integer)
    routing_state: Mapped[str] = mapped_column(String(16), default="new")  # new|queued|offered|assigned|done
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())
    __table_args__ = (
        Index("uq_conversations_open_thread", "thread_key", unique=True,
              postgresql_where="status = 'open'"),
        Index("ix_conversations_queue_waiting", "queue", postgresql_where="routing_state = 'queued'"),
        Index("ix_conversations_thread", "thread_key", "id"),
    )


class Ticket(Base):
    """A ticket.  ``number``, ``channel``, ``created_at`` and ``client_id`` are fixed at creation: a
    database trigger refuses any UPDATE that changes them."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    client_id: Mapped[int | None] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    identified: Mapped[bool] = mapped_column(Boolean, default=False)
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32), default="request")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="new")
    queue: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(Integer)
    sla_policy: Mapped[str | None] = mapped_column(String(64))
    first_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(server_default=_now())
    # Kept by database triggers for reports: the first ``assigned`` event's time and queue wait, and
    # how many later tickets link to this one as a repeat contact.
    assigned_at: Mapped[datetime | None]
    waited_s: Mapped[float | None] = mapped_column(Float)
    repeat_contacts: Mapped[int] = mapped_column(Integer, server_default="0")
    __table_args__ = (
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_client_created", "client_id", "created_at"),
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_conversation", "conversation_id"),
        Index("ix_tickets_agent_resolved", "agent_id", "resolved_at"),
        Index("ix_tickets_agent_open", "agent_id", postgresql_where="status NOT IN ('resolved', 'closed')"),
    )


class TicketLink(Base):
    """A relation between tickets, e.g. a repeat contact of the same client."""

    __tablename__ = "ticket_links"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    related_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                                   primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # repeat


class TicketEvent(Base):
    """Every change of a ticket: created, classified, status change, assignment, SLA, escalation."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(server_default=_now())
    author: Mapped[str] = mapped_column(String(64))  # "system", "agent:12", "rule:..."
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "at"),
                      Index("ix_ticket_events_kind_at", "kind", "at"))


class Message(Base):
    """One message of a conversation, in either direction.  ``dedupe_key`` makes storing idempotent."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(BigInteger)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    direction: Mapped[str] = mapped_column(String(8))  # in | out | note | bot
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(server_default=_now())
    __table_args__ = (Index("ix_messages_conversation", "conversation_id", "at"),
                      Index("ix_messages_external", "external_id"))


class InboxItem(Base):
    """An inbound item stored before it is acknowledged to the channel; ``processed_at`` marks it done."""

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    thread_key: Mapped[str] = mapped_column(String(255))
    shard: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(server_default=_now())
    processed_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_inbox_pending", "shard", "id", postgresql_where="processed_at IS NULL"),)


class ParkedItem(Base):
    """An item a channel received but could not store (``form="inbound"``) or read (``form="peer"``)
    after bounded attempts: kept byte-exact with the last error, for an admin to replay once fixed."""

    __tablename__ = "parked_items"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    item_key: Mapped[str] = mapped_column(Text)
    form: Mapped[str] = mapped_column(String(16))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    parked_at: Mapped[datetime] = mapped_column(server_default=_now())
    replayed_at: Mapped[datetime | None]
    inbox_id: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (Index("ux_parked_items_key", "channel", func.md5(item_key), unique=True),
                      Index("ix_parked_items_waiting", "id", postgresql_where="replayed_at IS NULL"))


class IntakeSkip(Base):
    """How many items of a channel were stored but skipped on purpose (never answered), by reason."""

    __tablename__ = "intake_skips"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger)


class Reminder(Base):
    """A durable reminder of an entity actor, fired by the host that owns ``shard``."""

    __tablename__ = "reminders"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (Index("ix_reminders_due", "kind", "shard", "due_at"),)


class Notification(Base):
    """Something a person must see even when no screen of theirs is open: an SLA escalation or a ticket a
    client's message raised, for one recipient (a supervisor of the ticket's queue).  ``key`` makes
    recording it again harmless; read and acknowledged are the recipient's."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    ticket_number: Mapped[str | None] = mapped_column(String(32))
    queue: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))  # breach | escalation | raised
    key: Mapped[str] = mapped_column(String(200))  # the escalation's id, e.g. "26-000123:first_response"
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("recipient_id", "key", name="uq_notifications_recipient_key"),
                      Index("ix_notifications_recipient", "recipient_id", "id"))


class AuditEntry(Base):
    """Append-only: the database refuses UPDATE, DELETE and TRUNCATE on this table."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=_now())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


class ApiKey(Base):
    """A key of an inbound API source (web chat, form, app); stored only as its SHA-256."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
    disabled_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_api_keys_source", "source", "active"),)


class RoleMatrixVersion(Base):
    """One version of the role matrix (permissions and masking per role); the newest is in force."""

    __tablename__ = "role_matrix"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    roles: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=_now())
