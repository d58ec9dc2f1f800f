"""Sandbox agents: people at agent desktops, played by the demo.  They go available, accept the offers
they get after a while, answer from the reply templates and resolve the conversation — through the
same entity messages the agent desktop sends."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Sequence
from typing import Any

from actors import messages as m
from actors.runtime import ActorRef

log = logging.getLogger(__name__)

ANSWERS = (
    "Доброго дня! Дякуємо за звернення, уже перевіряю інформацію за вашим рахунком.",
    "Реквізити для оплати надіслано, оплату можна здійснити також у застосунку.",
    "Показники прийнято, перерахунок з'явиться в особистому кабінеті протягом доби.",
    "Аварійну бригаду викликано. Будь ласка, вийдіть із приміщення та телефонуйте 104.",
    "Звернення передано до технічної служби, з вами зв'яжуться протягом дня.",
)


class SandboxAgents:
    def __init__(self, services: Any, agent_ids: Sequence[int], accept_after_s: Sequence[float],
                 answer_after_s: Sequence[float], resolve_after_s: Sequence[float], seed: int = 11) -> None:
        self.services = services
        self.agent_ids = set(agent_ids)
        self.timings = (tuple(accept_after_s), tuple(answer_after_s), tuple(resolve_after_s))
        self.rng = random.Random(seed)
        self.handled = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        for agent_id in self.agent_ids:
            await self.services.system.ask(ActorRef("agent", str(agent_id)), m.SetAgentState("available"))
        seq = (await self.services.hub.snapshot())["seq"]
        while True:
            batch = await self.services.hub.events_after(seq, 10.0)
            seq = batch["seq"]
            for event in batch["events"]:
                if event.get("type") == "offer" and not event.get("removed") and event.get("agent_id") in self.agent_ids:
                    task = asyncio.create_task(self._work(event["agent_id"], event["id"], event["state"]["conversation"]))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def _pause(self, span: Sequence[float]) -> None:
        await asyncio.sleep(self.rng.uniform(*span))

    async def _work(self, agent_id: int, offer_id: str, thread_key: str) -> None:
        accept, answer, resolve = self.timings
        system = self.services.system
        conversation = ActorRef("conversation", thread_key)
        author = f"agent:{agent_id}"
        try:
            await self._pause(accept)
            await system.ask(ActorRef("agent", str(agent_id)), m.AcceptOffer(offer_id))
            await self._pause(answer)
            await system.ask(conversation, m.Reply(agent_id, self.rng.choice(ANSWERS), uuid.uuid4().hex))
            await self._pause(resolve)
            await system.ask(conversation, m.ChangeStatus(author, "resolved"))
            await system.ask(conversation, m.ChangeStatus(author, "closed"))
            self.handled += 1
        except Exception as exc:  # an offer taken back or a conversation closed meanwhile is normal here
            log.info("sandbox agent %s left %s: %s", agent_id, thread_key, exc)
