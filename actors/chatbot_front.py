"""The chatbot in front of a messenger conversation: it answers from the configured menus until the
client asks for an operator (or the menus hand over, as for a gas leak), then the conversation goes to
routing with the bot transcript on the ticket as a note.  The guided meter reading asks for the account
and the meter among those the CRM knows and takes the reading as the API does (judged, held for review
when doubtful, written back to billing once)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from channels.base import Address, Button, Inbound, Outbound
from crm_core import meter_readings
from crm_core import tickets as db
from crm_core.meter_readings import NewReading, ReadingRefused
from routing.chatbot import ChatbotMenu, reading_form
from routing.chatbot.reading_form import ReadingForm, ReadingSubmission
from routing.chatbot.state import BotReply, BotState, BotTurn

log = logging.getLogger(__name__)

BOT_CHANNELS = ("telegram", "viber")


def load_chatbot(config_dir: Path) -> ChatbotMenu | None:
    """The menus of ``config/chatbot.toml`` with the Ukrainian bot phrases; None when there is no file."""
    path = config_dir / "chatbot.toml"
    if not path.exists():
        return None
    locale_path = Path(__file__).resolve().parent.parent / "dashboards" / "locales" / "chatbot.uk.json"
    locale = json.loads(locale_path.read_text(encoding="utf-8")) if locale_path.exists() else {}
    return ChatbotMenu.from_toml(path.read_text(encoding="utf-8"), str(path), locale)


def outbound_buttons(reply: BotReply) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(Button(b.text, b.payload) for b in row) for row in reply.buttons)


class ChatbotFront:
    def __init__(self, menu: ChatbotMenu) -> None:
        self.menu = menu

    @staticmethod
    def serves(channel: str) -> bool:
        return channel in BOT_CHANNELS

    async def answer(self, conversation: Any, item: Inbound, inbox_id: int) -> bool:
        """Run one bot step for a client message; returns True when the bot hands over to an agent."""
        saved = conversation.row["state"].get("bot")
        state = BotState.from_dict(saved) if saved else None
        ticket = conversation.ticket
        name = (ticket.get("attributes") or {}).get("client_name") or item.sender.display_name or ""
        now = datetime.now(UTC)
        turn = self.menu.step(state, item.text, item.metadata.get("button"), {"client_name": name}, now=now)
        if turn.begin_form or turn.form_input:
            turn = await self._form(conversation, item, inbox_id, turn, now)
        for i, reply in enumerate(turn.replies):
            outbound = Outbound(channel=item.channel, thread_key=conversation.ref.id,
                                recipient=Address(item.sender.kind, item.sender.value), text=reply.text,
                                dedupe_key=f"bot:{inbox_id}:{i}", buttons=outbound_buttons(reply))
            receipt = await conversation.ctx.services.channels.send(outbound)
            await db.store_message(conversation.ctx.services.autocommit, db.NewMessage(
                conversation.row["id"], ticket["id"], "bot", "bot", reply.text, outbound.dedupe_key,
                external_id=receipt.external_id))
        new_state = {**conversation.row["state"], "bot": turn.state.to_dict()}
        if turn.handover:
            async with conversation.ctx.db.begin() as conn:
                await db.update_conversation(conn, conversation.row["id"], state=new_state)
                await db.store_message(conn, db.NewMessage(
                    conversation.row["id"], ticket["id"], "note", "bot", self.menu.transcript_note(turn.state),
                    f"bot-transcript:{inbox_id}"))
                await db.add_events(conn, ticket["id"], [("bot", "bot_handover", {
                    "reason": turn.reason, "urgent": turn.urgent})])
                if turn.urgent and ticket["priority"] != "urgent":
                    await db.update_ticket(conn, ticket["id"], priority="urgent")
                    ticket["priority"] = "urgent"
        else:  # one statement: atomic on its own
            await db.update_conversation(conversation.ctx.services.autocommit, conversation.row["id"], state=new_state)
        conversation.row["state"] = new_state
        return turn.handover

    async def _form(self, conversation: Any, item: Inbound, inbox_id: int, turn: BotTurn, now: datetime) -> BotTurn:
        """Run the meter reading form's step with the meters the CRM knows; the turn with its reply."""
        texts = self.menu.config.texts
        client_id = conversation.ticket.get("client_id")
        typed = None if turn.begin_form else reading_form.typed_account(item.text)
        async with conversation.ctx.db.connect() as conn:
            meters = await meter_readings.meters_of(conn, client_id=client_id)
            if typed and typed not in meters:
                meters.update(await meter_readings.meters_of(conn, account_no=typed))
        if turn.begin_form:
            answer = reading_form.begin(meters, texts)
        else:
            answer = reading_form.step(ReadingForm.from_dict(turn.state.form or {}), item.text,
                                       item.metadata.get("button"), meters, texts)
        reply, form = answer.reply, answer.form
        if answer.submission is not None:
            reply, form = await self._take_reading(conversation, item, inbox_id, answer.submission)
        state = replace(turn.state, form=form.to_dict() if form else None)
        if reply is None:
            return replace(turn, state=state)
        return replace(turn, replies=(*turn.replies, reply), state=self.menu.told(state, reply, now))

    async def _take_reading(self, conversation: Any, item: Inbound, inbox_id: int,
                            submission: ReadingSubmission) -> tuple[BotReply, ReadingForm | None]:
        """Take the reading (once per inbound message); the client's answer, and the form if it goes on."""
        texts = self.menu.config.texts
        today = date.today()
        reading = NewReading(submission.account_no, submission.meter_serial, submission.value, today,
                             item.channel, f"bot:{inbox_id}", f"bot:{item.channel}")
        try:
            async with conversation.ctx.db.begin() as conn:
                outcome = await meter_readings.take(conn, reading, today)
                await db.add_events(conn, conversation.ticket["id"], [("bot", "meter_reading", {
                    "account_no": reading.account_no, "meter_serial": reading.meter_serial,
                    "value": str(reading.value), "status": outcome.get("status")})])
        except ReadingRefused as exc:
            if exc.code == "implausible_reading":
                return BotReply(texts["reading_refused"]), ReadingForm("value", reading.account_no, reading.meter_serial)
            return BotReply(texts["reading_account_unknown"]), ReadingForm()
        except Exception:
            log.exception("a meter reading from the bot could not be stored (conversation %s)", conversation.ref.id)
            return BotReply(texts["reading_failed"]), None
        said = texts["reading_accepted" if outcome.get("status") == "accepted" else "reading_review"]
        return BotReply(f"{said} {reading.meter_serial}: {reading.value.normalize():f} м³"), None
