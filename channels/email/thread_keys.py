"""Which conversation an e-mail belongs to, decided from the message alone (no database).

The rule, in order:

1. **Reply headers.**  The chain is the ``References`` ids in order, then ``In-Reply-To`` if it is not
   already among them.  If any id in the chain is one of *our own* Message-IDs, the thread root is the
   one encoded in it (see below) and its ticket number is reported.  Else, if any id of the chain is a
   message the resolver has seen (it remembers the root of every message it resolved, and the engine
   may seed it with recent ones through :meth:`ThreadResolver.remember`), that message's root is used:
   this keeps threads whole when a mailer sends only ``In-Reply-To``.  Otherwise the root is the first
   id of the chain (RFC 5322 §3.6.4: mailers keep the first reference when they trim the list).
2. **No reply headers.**  The message starts a thread of its own: the root is its own Message-ID (a
   message without one gets a stable id derived from its bytes, so a redelivery maps to the same key).
3. ``thread_key = "email:" + root`` (the root in its ``<...>`` form).
4. **Ticket number in the subject** (``[#123]`` by default) is reported as ``ticket_number`` whenever
   the headers did not already name one of our messages.  When the client's mailer dropped the reply
   headers, this is the only link, and the engine attaches the message to that ticket's conversation.

Our outbound Message-IDs encode the thread root and the ticket:
``<sb.{ticket}.{base32(root)}.{random}@{domain}>``, and their ``References`` start with the root, so a
reply to our reply lands in the same thread even if the client keeps only ``In-Reply-To``.

What this gives:

* reply chains thread together (every reply carries the root or one of our ids);
* the same sender writing anew with a new subject starts a new conversation (no reply headers);
* a forwarded message (no reply headers) starts a new conversation; a fork of a thread (two people
  answering the same message, or a reply with a changed subject) stays in the thread of its headers;
* missing headers fall back to the ticket number of the subject.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_BARE_ID = re.compile(r"[^\s<>,;\"()]+@[^\s<>,;\"()]+")
_OWN_ID = re.compile(r"^<sb\.([0-9A-Za-z_-]+)\.([a-z2-7]*)\.[0-9a-f]+@([^>]+)>$")
_REPLY_PREFIX = re.compile(r"^\s*(re|відп|отв|aw|sv)\s*(\[\d+\])?\s*:", re.IGNORECASE)
_NO_TICKET = "x"
# Ticket numbers as the engine writes them: digits, optionally in dash-separated groups ("26-000415").
_TICKET = re.compile(r"\d+(?:-\d+)*")


def parse_message_ids(value: str | None) -> list[str]:
    """The Message-IDs in a header value, in order, each as ``<local@domain>``, duplicates dropped.

    Ids without angle brackets (some mailers drop them) are accepted when they contain ``@``.
    """
    if not value:
        return []
    found = [f"<{m}>" for m in _ANGLE_ID.findall(value)]
    if not found:
        found = [f"<{m}>" for m in _BARE_ID.findall(value)]
    return list(dict.fromkeys(found))


def synthetic_message_id(raw: bytes) -> str:
    """A stable id for a message that came without one: the same bytes always give the same id."""
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id.invalid>"


def _b32(text: str) -> str:
    return base64.b32encode(text.encode()).decode().rstrip("=").lower()


def _unb32(token: str) -> str | None:
    padded = token.upper() + "=" * (-len(token) % 8)
    try:
        return base64.b32decode(padded).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class OwnMessageId:
    """One of our outbound Message-IDs, decoded: the thread it belongs to and its ticket."""

    root: str
    ticket_number: str | None

    @staticmethod
    def make(root: str, ticket_number: str | None, domain: str, unique: str | None = None) -> str:
        """A new id in thread ``root``; the same ``unique`` (an outbound's dedupe key) gives the same id."""
        ticket = str(ticket_number) if ticket_number is not None else _NO_TICKET
        tail = hashlib.sha256(unique.encode()).hexdigest()[:16] if unique else secrets.token_hex(8)
        return f"<sb.{ticket}.{_b32(root)}.{tail}@{domain}>"

    @staticmethod
    def parse(message_id: str, domain: str) -> OwnMessageId | None:
        match = _OWN_ID.match(message_id)
        if match is None or match.group(3).lower() != domain.lower():
            return None
        root = _unb32(match.group(2))
        if not root:
            return None
        ticket = match.group(1)
        return OwnMessageId(root=root, ticket_number=ticket if _TICKET.fullmatch(ticket) else None)


@functools.lru_cache(maxsize=16)
def _tag_pattern(template: str) -> re.Pattern[str]:
    """The tag's pattern, made once per template (not once per message)."""
    before, _, after = template.partition("{ticket_number}")
    return re.compile(re.escape(before) + r"\s*(" + _TICKET.pattern + r")\s*" + re.escape(after))


@dataclass(frozen=True, slots=True)
class SubjectTag:
    """The ticket tag of subjects, e.g. ``[#{ticket_number}]``: find it, put it on."""

    template: str = "[#{ticket_number}]"

    @property
    def _pattern(self) -> re.Pattern[str]:
        return _tag_pattern(self.template)

    def find(self, subject: str | None) -> str | None:
        match = self._pattern.search(subject or "")
        return match.group(1) if match else None

    def apply(self, subject: str | None, ticket_number: str | None, *, reply: bool) -> str:
        """``"[#123] Re: subject"``: any old tag removed, ``Re:`` added to a reply that lacks it."""
        bare = " ".join(self._pattern.sub(" ", subject or "").split())
        if reply and not _REPLY_PREFIX.match(bare):
            bare = f"Re: {bare}" if bare else "Re:"
        if ticket_number is None:
            return bare
        tag = self.template.format(ticket_number=ticket_number)
        return f"{tag} {bare}".rstrip()


@dataclass(frozen=True, slots=True)
class ThreadLink:
    """Where an inbound message belongs: its conversation key and, if known, its ticket."""

    thread_key: str
    root: str
    ticket_number: str | None
    via_own_message: bool


@dataclass(frozen=True, slots=True)
class ThreadResolver:
    """Message headers in, :class:`ThreadLink` out; configured with our domain and subject tag.

    Its only state is a bounded memory of ``Message-ID -> thread root`` (the newest ``memory_size``
    messages), fed by :meth:`remember`; with an empty memory it is a pure function of the headers.
    """

    domain: str
    tag: SubjectTag = SubjectTag()
    memory_size: int = 200_000
    _roots: OrderedDict[str, str] = field(default_factory=OrderedDict, compare=False, repr=False)

    def remember(self, message_id: str, root: str) -> None:
        """Note that ``message_id`` belongs to the thread rooted at ``root`` (engine seeding, or ours)."""
        self._roots[message_id] = root
        self._roots.move_to_end(message_id)
        while len(self._roots) > self.memory_size:
            self._roots.popitem(last=False)

    def resolve(
        self, message_id: str, in_reply_to: list[str], references: list[str], subject: str | None
    ) -> ThreadLink:
        chain = list(dict.fromkeys([*references, *in_reply_to]))
        for ref in chain:
            own = OwnMessageId.parse(ref, self.domain)
            if own is not None:
                return ThreadLink(f"email:{own.root}", own.root, own.ticket_number, True)
        known = next((self._roots[ref] for ref in chain if ref in self._roots), None)
        root = known or (chain[0] if chain else message_id)
        return ThreadLink(f"email:{root}", root, self.tag.find(subject), False)

    def outbound_headers(
        self,
        thread_key: str,
        ticket_number: str | None,
        in_reply_to: str | None,
        references: list[str],
        unique: str | None = None,
    ) -> dict[str, str]:
        """Message-ID, In-Reply-To and References for a reply in the thread ``thread_key``."""
        root = thread_key.removeprefix("email:")
        candidates = [root, *references, *([in_reply_to] if in_reply_to else [])]
        chain = [ref for ref in dict.fromkeys(candidates) if _ANGLE_ID.fullmatch(ref)]
        headers = {"Message-ID": OwnMessageId.make(root, ticket_number, self.domain, unique)}
        if in_reply_to:
            headers["In-Reply-To"] = in_reply_to
        if chain:
            headers["References"] = " ".join(chain)
        return headers
