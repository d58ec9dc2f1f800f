"""What the chatbot remembers of one conversation, and what one step of it answers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

Speaker = Literal["client", "bot"]


@dataclass(frozen=True, slots=True)
class MenuButton:
    """A button the bot offers: ``payload`` comes back when the client presses it."""

    text: str
    payload: str


@dataclass(frozen=True, slots=True)
class BotReply:
    """One message of the bot: text and rows of buttons."""

    text: str
    buttons: tuple[tuple[MenuButton, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    speaker: Speaker
    text: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BotState:
    """The bot's side of one conversation; the conversation actor keeps it (``to_dict`` to persist).

    ``path`` is the chain of menus from the root to the current one (empty before the first answer);
    after a handover the bot stays silent until the engine starts a fresh state.  ``form`` is a guided
    form under way (the meter reading's ``to_dict``), or None.
    """

    path: tuple[str, ...] = ()
    handed_over: bool = False
    last_at: datetime | None = None
    transcript: tuple[TranscriptLine, ...] = ()
    form: dict[str, Any] | None = None

    @property
    def menu(self) -> str | None:
        return self.path[-1] if self.path else None

    def heard(self, speaker: Speaker, text: str, at: datetime | None, limit: int) -> BotState:
        if not text:
            return self
        lines = (*self.transcript, TranscriptLine(speaker, text, at))[-limit:]
        return replace(self, transcript=lines, last_at=at or self.last_at)

    def to_dict(self) -> dict[str, Any]:
        return {"path": list(self.path), "handed_over": self.handed_over,
                "last_at": self.last_at.isoformat() if self.last_at else None,
                "transcript": [[line.speaker, line.text, line.at.isoformat() if line.at else None]
                               for line in self.transcript], "form": self.form}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BotState:
        def moment(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(path=tuple(data.get("path", ())), handed_over=bool(data.get("handed_over", False)),
                   last_at=moment(data.get("last_at")),
                   transcript=tuple(TranscriptLine(speaker, text, moment(at))
                                    for speaker, text, at in data.get("transcript", ())),
                   form=data.get("form"))


@dataclass(frozen=True, slots=True)
class BotTurn:
    """What one client message produced: replies to send, and whether to hand over to an agent.

    On handover ``urgent`` tells routing to jump the queue (a gas leak), ``reason`` names the choice
    that asked for it, and ``state.transcript`` is the conversation so far for the ticket.  ``begin_form``
    names a form the chosen option starts; ``form_input`` says the message is an answer to the form under
    way (the engine runs the form's step, which needs data the menus do not have).
    """

    replies: tuple[BotReply, ...]
    handover: bool
    state: BotState
    urgent: bool = False
    reason: str | None = None
    matched: str | None = field(default=None)
    begin_form: str | None = None
    form_input: bool = False

    @property
    def transcript(self) -> tuple[TranscriptLine, ...]:
        return self.state.transcript
