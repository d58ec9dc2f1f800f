"""The one small interface every channel stands behind.

A channel turns what its peer delivers (an AMI event, a Bot API update, a Viber callback, an IMAP
message, an HTTP form) into :class:`Inbound` items and hands each to an :data:`InboundSink`.  The sink
returns only once the item is durably stored (the engine's inbox, keyed by ``dedupe_key``); only then
does the channel acknowledge it to its peer (advance the Telegram offset, flag the IMAP message, answer
the webhook with 200).  Delivering the same item twice is harmless: the inbox ignores a repeated
``dedupe_key``.

Replies travel the other way as :class:`Outbound` through :meth:`Channel.send`.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

ChannelName = Literal["voice", "telegram", "viber", "email", "webchat", "web_form", "app", "sms", "viber_business"]
AddressKind = Literal["phone", "email", "telegram", "viber", "web", "app"]
InboundKind = Literal["message", "edit", "call_event", "delivery_status", "contact_shared", "control"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Address:
    """Who a contact comes from or goes to: a phone number, an e-mail, a messenger id."""

    kind: AddressKind
    value: str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with a message.  ``data`` is kept for small files; large ones carry ``url``."""

    filename: str
    content_type: str
    size: int
    data: bytes | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """One button of a reply keyboard or inline keyboard."""

    text: str
    payload: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """One item a channel received, normalised.

    ``thread_key`` names the conversation inside the engine: every item with the same key belongs to the
    same conversation (a Telegram chat, a Viber user, an e-mail thread, a call's linkedid, a web-chat
    session).  It must start with the channel name, e.g. ``"telegram:123456"``.

    ``dedupe_key`` is unique for one delivered item across redeliveries (a Telegram ``update_id``, an
    IMAP ``UIDVALIDITY:UID``, a Viber ``message_token``, an AMI ``linkedid:event-seq``).
    """

    channel: ChannelName
    thread_key: str
    dedupe_key: str
    sender: Address
    text: str = ""
    kind: InboundKind = "message"
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    occurred_at: datetime = field(default_factory=utcnow)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.thread_key.startswith(f"{self.channel}:"):
            raise ValueError(f"thread_key {self.thread_key!r} must start with '{self.channel}:'")
        if not self.dedupe_key:
            raise ValueError("dedupe_key must not be empty")


@dataclass(frozen=True, slots=True)
class Outbound:
    """A reply from an agent (or the bot) to send through the conversation's channel."""

    channel: ChannelName
    thread_key: str
    recipient: Address
    text: str
    dedupe_key: str
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """What the peer answered to a send: its own id for the message, if any."""

    external_id: str | None
    delivered_at: datetime = field(default_factory=utcnow)


InboundSink = Callable[[Inbound], Awaitable[None]]
"""Stores an :class:`Inbound` durably; returns once it is safe to acknowledge it to the peer."""

DeliveryState = Literal["delivered", "read", "failed"]


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """What a peer reported later about a message it had accepted: an SMPP delivery receipt, a Viber
    Business delivered/seen callback.  ``external_id`` is the id the peer gave in its
    :class:`DeliveryReceipt`."""

    channel: ChannelName
    external_id: str
    state: DeliveryState
    occurred_at: datetime = field(default_factory=utcnow)
    reason: str | None = None


DeliverySink = Callable[[DeliveryUpdate], Awaitable[None]]
"""Records a :class:`DeliveryUpdate` durably; returns once it is safe to acknowledge it to the peer."""


@dataclass(frozen=True, slots=True)
class UnreadableItem:
    """What a peer sent that the channel could not turn into items after a bounded number of attempts
    (a payload its handler chokes on): kept byte-exact so that it can be read again once fixed."""

    channel: ChannelName
    item_key: str  # the peer's own id of it: an update id, an IMAP UID, an AMI event's place in the stream
    raw: bytes
    error: str
    attempts: int


ParkingSink = Callable[[UnreadableItem], Awaitable[None]]
"""Parks an :class:`UnreadableItem` durably; returns once the channel may acknowledge it and move on."""

#: How often a channel tries to read one item before it parks it.
READ_ATTEMPTS = 3


class ChannelError(Exception):
    """A channel could not do what it was asked; the message says why."""


class WebhookRejected(ChannelError):
    """A webhook request that must be refused (bad signature, malformed body): HTTP ``status`` and reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def __reduce__(self) -> tuple[type[WebhookRejected], tuple[int, str]]:
        # Raised in a channel actor, it reaches the gateway through Ray, which pickles it.
        return (type(self), (self.status, self.reason))


@dataclass(frozen=True, slots=True)
class WebhookReply:
    """The result of one webhook request: items for the sink and the HTTP answer to give the peer."""

    inbounds: tuple[Inbound, ...] = ()
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"


class Channel(abc.ABC):
    """A channel account: one AMI connection, one bot, one mailbox, one API source."""

    name: ChannelName
    #: Where the channel parks what it cannot read; the engine sets it before ``start``.
    parking: ParkingSink | None = None

    @abc.abstractmethod
    async def start(self, sink: InboundSink) -> None:
        """Connect to the peer and start delivering inbound items to ``sink``; returns once running."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Disconnect; items not yet acknowledged are redelivered by the peer later."""

    @abc.abstractmethod
    async def send(self, outbound: Outbound) -> DeliveryReceipt:
        """Send a reply to the peer; raises :class:`ChannelError` when the peer refuses it."""


class DeliveryReporting(abc.ABC):
    """The role of a channel whose peer reports later what became of each message it accepted (SMS over
    SMPP, Viber Business).  The engine calls :meth:`report_deliveries` once, before ``start``."""

    @abc.abstractmethod
    def report_deliveries(self, sink: DeliverySink) -> None:
        """Hand every later :class:`DeliveryUpdate` to ``sink``; an update for an unknown id is the
        sink's to judge, never dropped by the channel."""


class ParkedReplay(abc.ABC):
    """The role of a channel that can read once more an item it parked as unreadable, from the raw form
    its peer sent (an admin's replay, once the channel can read it)."""

    @abc.abstractmethod
    async def read_again(self, raw: bytes) -> None:
        """Deliver the parked item to the sink; raises :class:`ChannelError` when it is still unreadable."""


class WebhookChannel(Channel):
    """A channel whose peer calls us over HTTP (Viber callbacks, Telegram in webhook mode).

    The dashboard gateway mounts ``POST /webhooks/<channel>/<account>`` and passes the raw request to
    :meth:`handle_webhook`; it stores every returned inbound through the sink before it answers.
    """

    @abc.abstractmethod
    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookReply:
        """Verify and parse one request; raises :class:`WebhookRejected` for a request to refuse."""

    async def download_attachments(self, inbound: Inbound) -> Inbound:
        """The item with the bytes of the attachments a webhook only referenced (up to the channel's
        cap), fetched before it is stored; by default the item as it came."""
        return inbound


class CallControl(abc.ABC):
    """The role of a voice channel the engine and the agents steer calls through: place a call from an
    agent's extension, send a waiting caller to an agent, find a call's recording.  Callers ask the channel
    directory for this role (``channels.call_control("voice")``); a channel without it is refused there."""

    @abc.abstractmethod
    async def originate(self, extension: str, number: str, *, ticket_number: str | None) -> str:
        """Ring the agent's ``extension``, then dial ``number``; the new call's id (its thread is
        ``voice:<id>``).  ``ticket_number`` travels with the call so its events join that ticket.  Raises
        :class:`ChannelError` when the number cannot be dialled or the PBX refuses."""

    @abc.abstractmethod
    async def redirect(self, call_id: str, extension: str) -> None:
        """Send the caller of ``call_id`` to the agent's ``extension``."""

    @abc.abstractmethod
    async def recording_url(self, call_id: str) -> str | None:
        """Where the call's recording plays from; None when it has none (yet)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """A round trip to the PBX (health check)."""
