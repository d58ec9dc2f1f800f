"""PTB's ``Bot`` with a ``getMe`` that tolerates an answer without the fields the library insists on.

``Bot.initialize`` asks ``getMe`` and builds a ``telegram.User`` from it; ``User`` requires ``id``,
``is_bot`` and ``first_name``, so a Bot API server (or proxy) that leaves one out would keep the channel
from ever starting, although the bot needs nothing from that answer but its id and username.  As the
update path does (:mod:`channels.telegram.updates`), what is missing is filled from what is known: the
id from the token, ``is_bot`` true, the first name from the username.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, User
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import TelegramError

log = logging.getLogger(__name__)

_REQUIRED = ("id", "is_bot", "first_name")


def bot_user_fields(answer: object, token: str) -> dict[str, Any]:
    """The fields of the bot's ``User`` from a ``getMe`` answer, each required one filled when missing."""
    if not isinstance(answer, dict):
        raise TelegramError(f"getMe answered {type(answer).__name__}, not a user")
    fields = {key: value for key, value in answer.items() if value is not None}
    prefix = token.partition(":")[0]
    known: dict[str, Any] = {"id": int(prefix) if prefix.isdigit() else 0, "is_bot": True}
    known["first_name"] = str(fields.get("username") or fields.get("id") or known["id"])
    missing = [key for key in _REQUIRED if key not in fields]
    if missing:
        log.warning("telegram: getMe answered without %s; taken as %s", ", ".join(missing),
                    {key: known[key] for key in missing})
    return {**known, **fields}


class TolerantBot(Bot):
    async def get_me(self, *, read_timeout: ODVInput[float] = DEFAULT_NONE,
                     write_timeout: ODVInput[float] = DEFAULT_NONE, connect_timeout: ODVInput[float] = DEFAULT_NONE,
                     pool_timeout: ODVInput[float] = DEFAULT_NONE, api_kwargs: JSONDict | None = None) -> User:
        answer = await self._post("getMe", read_timeout=read_timeout, write_timeout=write_timeout,
                                  connect_timeout=connect_timeout, pool_timeout=pool_timeout, api_kwargs=api_kwargs)
        self._bot_user = User.de_json(bot_user_fields(answer, self.token), self)
        return self._bot_user
