"""The chatbot in front of a messenger conversation: it answers from the configured menus until the
client asks for an operator (or the menus hand over, as for a gas leak), then the conversation goes to
routing with the bot transcript on the ticket as a note."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from channels.base import Address, Button, Inbound, Outbound
from crm_core import tickets as db
from routing.chatbot import ChatbotMenu
from routing.chatbot.state import BotReply, BotState

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
        turn = self.menu.step(state, item.text, item.metadata.get("button"), {"client_name": name},
                              now=datetime.now(UTC))
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
