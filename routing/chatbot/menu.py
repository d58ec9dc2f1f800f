"""The chatbot front of a messenger conversation: menus, keyword choices, handover to an agent.

Pure: the engine passes the conversation's :class:`BotState`, what the client sent and the current
time, and gets a :class:`BotTurn` back (replies to send, whether to hand over, the new state).

Picking a choice, for a button press: the option with that payload (or back / main menu / operator).
For text: the number of an option of the current menu ("2"), else every choice whose label equals the
text or whose keyword occurs in it — the current menu's options, the global rules and the operator
request — and the highest ``priority`` wins; on a tie the current menu comes first, then the rules in
file order.  Nothing matched: the first message gets the root menu, later ones a "did not understand"
reply with the current menu again.

While a guided form is under way (the meter reading), a message is the form's answer unless it presses
a menu or navigation button, or matches a global rule or the operator request: a gas leak reported in
the middle of a form is still an emergency.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from routing.chatbot.config import NAV_BACK, NAV_MAIN, NAV_OPERATOR, ChatbotConfig, Choice, Menu, load_config
from routing.chatbot.matching import words_of
from routing.chatbot.state import BotReply, BotState, BotTurn, MenuButton

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ChatbotMenu:
    """A loaded ``config/chatbot.toml``; one instance serves every conversation."""

    def __init__(self, config: ChatbotConfig) -> None:
        self.config = config
        self._by_payload = {option.id: option for menu in config.menus.values() for option in menu.options}
        self._label_words = {option.id: words_of(option.label) for option in self._by_payload.values()
                             if option.label}

    @classmethod
    def from_toml(cls, text: str, filename: str, locale: Mapping[str, str] | None = None) -> ChatbotMenu:
        """Load and check a chatbot file; ``locale`` is the flat table of
        ``dashboards/locales/chatbot.<lang>.json`` (its texts may be overridden under ``[texts]``).
        Raises :class:`routing.config_source.ConfigError` (``file:line: reason``)."""
        return cls(load_config(text, filename, locale or {}))

    # --- the state machine ------------------------------------------------------------------------

    def step(self, state: BotState | None, inbound_text: str, button_payload: str | None,
             variables: Mapping[str, str] | None = None, now: datetime | None = None) -> BotTurn:
        """One client message -> the bot's answer.  ``now`` enables the session timeout."""
        state = state or BotState()
        if state.handed_over:
            return BotTurn(replies=(), handover=False, state=state)
        if self._expired(state, now):
            state = replace(state, path=())
        values = {**self.config.defaults, **(variables or {})}
        if state.form is not None:
            chosen = self._choose_over_form(inbound_text, button_payload)
            if chosen is None:
                heard = state.heard("client", inbound_text, now, self.config.transcript_limit)
                return BotTurn(replies=(), handover=False, state=heard, form_input=True)
            state = replace(state, form=None)
        else:
            chosen = self._choose(state, inbound_text, button_payload)
        heard = chosen.label if chosen and button_payload and chosen.label else inbound_text
        state = state.heard("client", heard, now, self.config.transcript_limit)
        if chosen is None:
            if state.menu is None:
                return self._say(state, (self._menu_reply(self.config.root, (self.config.root,), values),),
                                 now, path=(self.config.root,))
            fallback = BotReply(self._fill(self.config.texts["fallback"], values))
            return self._say(state, (fallback, self._menu_reply(state.menu, state.path, values)), now)
        return self._apply(state, chosen, values, now)

    def welcome(self, variables: Mapping[str, str] | None = None) -> BotReply:
        """The root menu, for a welcome message before the client writes (Viber's conversation_started)."""
        root = self.config.root
        return self._menu_reply(root, (root,), {**self.config.defaults, **(variables or {})})

    def transcript_note(self, state: BotState) -> str:
        """The bot conversation as plain text for the ticket."""
        texts = self.config.texts
        who = {"client": texts["transcript_client"], "bot": texts["transcript_bot"]}
        lines = [texts["transcript_title"]]
        for line in state.transcript:
            stamp = f"[{line.at:%H:%M:%S}] " if line.at else ""
            lines.append(f"{stamp}{who[line.speaker]}: {line.text}")
        return "\n".join(lines)

    # --- choosing ---------------------------------------------------------------------------------

    def _current(self, state: BotState) -> Menu:
        return self.config.menus[state.menu or self.config.root]

    def _navigation(self, payload: str) -> Choice | None:
        if payload == NAV_OPERATOR:
            return self.config.operator
        if payload in (NAV_BACK, NAV_MAIN):
            return Choice(id=payload, keywords=(), priority=0, label=self.config.texts[
                "back" if payload == NAV_BACK else "main_menu"])
        return None

    def _choose_over_form(self, text: str, payload: str | None) -> Choice | None:
        """What leaves a form: a menu or navigation button, a global rule, the operator request."""
        if payload:
            found = self._navigation(payload) or self._by_payload.get(payload)
            if found is not None:
                return found
        words = words_of(text)
        matching = [c for c in (*self.config.rules, self.config.operator)
                    if words and any(keyword.found_in(words) for keyword in c.keywords)]
        return max(matching, key=lambda c: c.priority, default=None)

    def told(self, state: BotState, reply: BotReply, now: datetime | None) -> BotState:
        """The state once the engine said ``reply`` for a form."""
        return state.heard("bot", reply.text, now, self.config.transcript_limit)

    def _choose(self, state: BotState, text: str, payload: str | None) -> Choice | None:
        if payload:
            found = self._navigation(payload) or self._by_payload.get(payload)
            if found is not None:
                return found
        menu = self._current(state)
        stripped = text.strip()
        if stripped.isdigit() and 1 <= int(stripped) <= len(menu.options):
            return menu.options[int(stripped) - 1]
        words = words_of(text)
        if not words:
            return None
        candidates = [*menu.options, *self.config.rules, self.config.operator]
        best: Choice | None = None
        for choice in candidates:
            label_match = self._label_words.get(choice.id) == words
            if (label_match or any(keyword.found_in(words) for keyword in choice.keywords)) \
                    and (best is None or choice.priority > best.priority):
                best = choice
        return best

    # --- answering --------------------------------------------------------------------------------

    def _apply(self, state: BotState, choice: Choice, values: Mapping[str, str], now: datetime | None) -> BotTurn:
        if choice.id == NAV_BACK:
            path = state.path[:-1] or (self.config.root,)
            return self._say(state, (self._menu_reply(path[-1], path, values),), now, path=path)
        if choice.id == NAV_MAIN:
            path = (self.config.root,)
            return self._say(state, (self._menu_reply(self.config.root, path, values),), now, path=path)
        if choice.handover:
            reply = BotReply(self._fill(choice.reply or self.config.texts["handover"], values))
            turn = self._say(state, (reply,), now)
            return replace(turn, handover=True, urgent=choice.handover == "urgent", reason=choice.id,
                           state=replace(turn.state, handed_over=True), matched=choice.id)
        if choice.form:
            replies_first = (BotReply(self._fill(choice.reply, values)),) if choice.reply else ()
            turn = self._say(state, replies_first, now, path=state.path or (self.config.root,))
            return replace(turn, matched=choice.id, begin_form=choice.form)
        replies: list[BotReply] = []
        path = state.path or (self.config.root,)
        if choice.goto is not None:
            path = path[:path.index(choice.goto) + 1] if choice.goto in path else (*path, choice.goto)
        if choice.reply:
            replies.append(BotReply(self._fill(choice.reply, values)))
        replies.append(self._menu_reply(path[-1], path, values))
        return replace(self._say(state, tuple(replies), now, path=path), matched=choice.id)

    def _say(self, state: BotState, replies: tuple[BotReply, ...], now: datetime | None,
             path: tuple[str, ...] | None = None) -> BotTurn:
        for reply in replies:
            state = state.heard("bot", reply.text, now, self.config.transcript_limit)
        if path is not None:
            state = replace(state, path=path)
        return BotTurn(replies=replies, handover=False, state=state)

    def _menu_reply(self, menu_id: str, path: tuple[str, ...], values: Mapping[str, str]) -> BotReply:
        menu = self.config.menus[menu_id]
        texts = self.config.texts
        rows: list[tuple[MenuButton, ...]] = [(MenuButton(option.label or option.id, option.id),)
                                              for option in menu.options]
        navigation = []
        if len(path) > 1:
            navigation.append(MenuButton(texts["back"], NAV_BACK))
        if len(path) > 2:
            navigation.append(MenuButton(texts["main_menu"], NAV_MAIN))
        if menu.operator_button:
            navigation.append(MenuButton(texts["operator"], NAV_OPERATOR))
        if navigation:
            rows.append(tuple(navigation))
        return BotReply(self._fill(menu.text, values), tuple(rows))

    def _expired(self, state: BotState, now: datetime | None) -> bool:
        timeout = self.config.session_timeout_s
        return bool(timeout and now and state.last_at and (now - state.last_at).total_seconds() > timeout)

    @staticmethod
    def _fill(text: str, values: Mapping[str, str]) -> str:
        return _PLACEHOLDER.sub(lambda found: str(values.get(found.group(1), found.group(0))), text)
