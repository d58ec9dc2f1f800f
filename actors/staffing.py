"""Whether a queue has signed-in agents who could take a conversation with given requirements, as the
queue actor says it.  Workflow targets with ``skip_when_unstaffed`` need the answer for every new
conversation.  Conversations asking while the question is on its way wait for the same answer, and a
"yes" serves every conversation of this process for ``fresh_s``; a "no" is never reused, so a target
is skipped only on a fresh answer (an agent who just signed in is never passed over), while an agent
who signs out may still be counted for ``fresh_s`` (the target's timeout widens the conversation then).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from actors import messages as m
from actors.runtime import ActorRef, ActorSystem
from routing.skills import Requirements

log = logging.getLogger(__name__)

ASK_TIMEOUT_S = 5.0


class StaffingAnswers:
    def __init__(self, system: ActorSystem, fresh_s: float = 0.5) -> None:
        self.system = system
        self.fresh_s = fresh_s
        self._answers: dict[tuple[str, Requirements], tuple[float, asyncio.Future[bool]]] = {}

    async def staffed(self, queue: str, requirements: Requirements) -> bool:
        key = (queue, requirements)
        now = time.monotonic()
        known = self._answers.get(key)
        if known is None or not _usable(known, now, self.fresh_s):
            if len(self._answers) > 10_000:
                self._answers.clear()
            known = (now, asyncio.ensure_future(self._ask(queue, requirements)))
            self._answers[key] = known
        return await asyncio.shield(known[1])

    async def _ask(self, queue: str, requirements: Requirements) -> bool:
        try:
            answer: Any = await self.system.ask(ActorRef("queue", queue), m.Staffed(requirements),
                                                timeout_s=ASK_TIMEOUT_S)
            return bool(answer)
        except Exception:
            log.exception("queue %s did not say whether it is staffed; assuming it is", queue)
            return True


def _usable(known: tuple[float, asyncio.Future[bool]], now: float, fresh_s: float) -> bool:
    """Still on its way, or a "yes" younger than ``fresh_s``."""
    asked_at, answer = known
    if not answer.done():
        return True
    return not answer.cancelled() and answer.exception() is None and answer.result() and now - asked_at <= fresh_s
