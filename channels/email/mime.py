"""Parse one raw e-mail into what a ticket needs: who, what, which thread, which files.

The standard library's lenient ``compat32`` parser reads the structure (it never refuses a message;
it records *defects*).  Text is decoded with :mod:`channels.email.charsets`.  Every defect, charset
problem or missing essential header is collected into ``problems``; a message with problems is still
parsed as far as it goes, and the caller keeps its raw bytes.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import parsedate_to_datetime

from channels.email.charsets import decode_address, decode_bytes, decode_header_value
from channels.email.html_text import html_to_text
from channels.email.loops import automatic_reason
from channels.email.thread_keys import parse_message_ids, synthetic_message_id

MAX_DEPTH = 40


@dataclass(frozen=True, slots=True)
class MailPart:
    """A file that came with the message (or a non-text part of it), with its decoded bytes."""

    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class ParsedMail:
    """The parts of a message the channel turns into an ``Inbound``."""

    message_id: str
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender_address: str
    sender_name: str
    date: datetime | None
    text: str = ""
    html: str | None = None
    attachments: list[MailPart] = field(default_factory=list)
    automatic: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def malformed(self) -> str | None:
        return "; ".join(dict.fromkeys(self.problems)) or None


def _leaves(part: Message, depth: int = 0) -> Iterator[tuple[Message, int]]:
    """Leaf parts in order; ``message/*`` parts are leaves (a forwarded mail is one attachment)."""
    if depth > MAX_DEPTH:
        yield part, -1
        return
    payload = part.get_payload()
    if part.get_content_maintype() != "message" and isinstance(payload, list):
        for sub in payload:
            yield from _leaves(sub, depth + 1)
    else:
        yield part, depth


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list):
        try:
            return b"".join(sub.as_bytes() for sub in payload if isinstance(sub, Message))
        except Exception:  # noqa: BLE001 - an unserialisable forwarded part is kept as text
            return str(part).encode("utf-8", errors="surrogateescape")
    decoded = part.get_payload(decode=True)
    if isinstance(decoded, bytes):
        return decoded
    return str(payload or "").encode("utf-8", errors="surrogateescape")


def _defects(msg: Message) -> Iterator[str]:
    stack = [msg]
    while stack:
        part = stack.pop()
        for defect in getattr(part, "defects", ()):
            yield type(defect).__name__
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))


def _filename(part: Message, index: int, problems: list[str]) -> str:
    try:
        raw = part.get_filename()
    except Exception as exc:  # noqa: BLE001 - a mangled RFC 2231 parameter must not lose the file
        problems.append(f"unreadable filename: {exc}")
        raw = None
    if raw:
        name, problem = decode_header_value(raw)
        if problem:
            problems.append(problem)
        name = name.replace("/", "_").replace("\\", "_").strip()
        if name:
            return name
    extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
    return f"part-{index}{extension}"


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment" or part.get_param("name") is not None or part.get_filename() is not None


def _date(msg: Message) -> datetime | None:
    raw = msg.get("Date")
    if raw is None:
        return None
    try:
        return parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None


def parse_mail(raw: bytes, own_addresses: Collection[str] = ()) -> ParsedMail:
    """Parse ``raw`` (an RFC 5322 message as fetched from the mailbox).  Never raises."""
    msg = message_from_bytes(raw, policy=compat32)
    problems: list[str] = list(dict.fromkeys(_defects(msg)))

    ids = parse_message_ids(str(msg.get("Message-ID", "")))
    if ids:
        message_id = ids[0]
    else:
        message_id = synthetic_message_id(raw)
        problems.append("no Message-ID")
    address, name, problem = decode_address(msg.get("From"))
    if problem:
        problems.append(problem)
    subject, problem = decode_header_value(msg.get("Subject"))
    if problem:
        problems.append(f"subject: {problem}")

    mail = ParsedMail(
        message_id=message_id,
        in_reply_to=parse_message_ids(str(msg.get("In-Reply-To", ""))),
        references=parse_message_ids(" ".join(str(v) for v in msg.get_all("References", []))),
        subject=subject,
        sender_address=address,
        sender_name=name,
        date=_date(msg),
        automatic=automatic_reason(msg, address, own_addresses),
        problems=problems,
    )
    _read_body(msg, mail)
    return mail


def _read_body(msg: Message, mail: ParsedMail) -> None:
    plain: list[str] = []
    for index, (part, depth) in enumerate(_leaves(msg), start=1):
        if depth < 0:
            mail.problems.append(f"MIME nesting deeper than {MAX_DEPTH}")
        ctype = part.get_content_type()
        if ctype in ("text/plain", "text/html") and not _is_attachment(part):
            text, problem = decode_bytes(_part_bytes(part), part.get_content_charset())
            text = text.replace("\r\n", "\n")
            if problem:
                mail.problems.append(problem)
            if ctype == "text/plain":
                plain.append(text)
            elif mail.html is None:
                mail.html = text
            continue
        data = _part_bytes(part)
        if part.get_content_maintype() == "multipart" and not data.strip():
            continue  # the empty shell of a multipart whose boundary never came
        mail.attachments.append(MailPart(_filename(part, index, mail.problems), ctype, data))
    if plain:
        mail.text = "\n".join(t.strip("\r\n") for t in plain).strip()
    elif mail.html is not None:
        mail.text = html_to_text(mail.html)
