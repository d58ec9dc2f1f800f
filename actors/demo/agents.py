"""Sandbox agents: people at agent desktops, played by the demo.  They go available, accept the offers
they get after a while, answer from the reply templates and resolve the conversation — through the
same entity messages the agent desktop sends.  A conversation handed to one of them without an offer
(a call VICIdial put through to their extension, a supervisor's reassignment) is worked the same way,
except that a call gets a note instead of a written answer and is resolved only once it has ended."""

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
CALL_NOTES = (
    "Клієнт уточнив суму до сплати, роз'яснено нарахування.",
    "Прийнято показники лічильника з голосу.",
    "Клієнта проконсультовано щодо графіка робіт, додаткових дій не потрібно.",
)
SPOKEN_CHANNELS = frozenset({"voice"})
CALL_WAIT_S = 120.0
"""Longest a sandbox agent waits for a call to end before resolving its ticket anyway."""
REMEMBERED = 5_000
"""Tickets finished lately, remembered so their late live events do not start the work again."""


class SandboxAgents:
    def __init__(self, services: Any, agent_ids: Sequence[int], accept_after_s: Sequence[float],
                 answer_after_s: Sequence[float], resolve_after_s: Sequence[float], seed: int = 11) -> None:
        self.services = services
        self.agent_ids = set(agent_ids)
        self.timings = (tuple(accept_after_s), tuple(answer_after_s), tuple(resolve_after_s))
        self.rng = random.Random(seed)
        self.handled = 0
        self._offers: set[str] = set()
        self._threads: set[str] = set()
        self._finished: dict[str, None] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Go available and work whatever comes; what an agent already holds (from an earlier run of the
        demo) is worked too, so no capacity stays taken by conversations nobody plays."""
        seq = (await self.services.hub.snapshot())["seq"]
        for agent_id in self.agent_ids:
            view = await self.services.system.ask(ActorRef("agent", str(agent_id)), m.SetAgentState("available"))
            self._resume(agent_id, view)
        try:
            while True:
                batch = await self.services.hub.events_after(seq, 10.0)
                seq = batch["seq"]
                for event in batch["events"]:
                    self._notice(event)
        finally:
            for task in list(self._tasks):
                task.cancel()

    def _resume(self, agent_id: int, view: dict[str, Any]) -> None:
        for offer in view.get("offers", []):
            if offer["offer_id"] not in self._offers:
                self._offers.add(offer["offer_id"])
                self._spawn(self._take_offer(agent_id, offer["offer_id"], offer["conversation"], offer.get("ticket")))
        for thread_key in view.get("conversations", []):  # from an earlier run: any call of it is over
            if thread_key not in self._threads:
                self._threads.add(thread_key)
                self._spawn(self._work(agent_id, thread_key, None, call_live=False))

    def _notice(self, event: dict[str, Any]) -> None:
        agent_id = event.get("agent_id")
        if event.get("removed") or agent_id not in self.agent_ids:
            return
        state = event.get("state") or {}
        if event.get("type") == "offer" and event["id"] not in self._offers:
            self._offers.add(event["id"])
            self._spawn(self._take_offer(agent_id, event["id"], state["conversation"], state.get("ticket")))
            return
        ticket = state.get("ticket") or {}
        if event.get("type") == "conversation" and state.get("routing") == "assigned" \
                and ticket.get("status") not in ("resolved", "closed") and ticket.get("number") not in self._finished \
                and event["id"] not in self._threads:
            self._threads.add(event["id"])
            self._spawn(self._work(agent_id, event["id"], ticket.get("number")))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pause(self, span: Sequence[float]) -> None:
        await asyncio.sleep(self.rng.uniform(*span))

    async def _call_ended(self, conversation: ActorRef) -> None:
        """Wait until the PBX reported the call's hang-up on its ticket (at most ``CALL_WAIT_S``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CALL_WAIT_S
        while loop.time() < deadline:
            view = await self.services.system.ask(conversation, m.GetConversation())
            call = ((view.get("ticket") or {}).get("attributes") or {}).get("call") or {}
            if call.get("state") == "hangup":
                return
            await asyncio.sleep(1.0)

    async def _take_offer(self, agent_id: int, offer_id: str, thread_key: str, ticket: str | None) -> None:
        try:
            self.services.system.tell(ActorRef("agent", str(agent_id)), m.OfferShown(offer_id))  # the card shows
            await self._pause(self.timings[0])
            if thread_key in self._threads:
                return
            self._threads.add(thread_key)
            try:
                await self.services.system.ask(ActorRef("agent", str(agent_id)), m.AcceptOffer(offer_id))
            except Exception as exc:  # the offer was taken back or timed out meanwhile: normal here
                self._threads.discard(thread_key)
                log.info("sandbox agent %s could not accept %s: %s", agent_id, thread_key, reason(exc))
                return
            await self._work(agent_id, thread_key, ticket)
        finally:
            self._offers.discard(offer_id)

    async def _work(self, agent_id: int, thread_key: str, ticket: str | None, call_live: bool = True) -> None:
        """Answer (a note for a call, and wait for a live call to end), then resolve and close."""
        _, answer, resolve = self.timings
        system = self.services.system
        conversation = ActorRef("conversation", thread_key)
        author = f"agent:{agent_id}"
        try:
            await self._pause(answer)
            if thread_key.partition(":")[0] in SPOKEN_CHANNELS:
                await system.ask(conversation, m.AddNote(agent_id, self.rng.choice(CALL_NOTES), uuid.uuid4().hex))
                if call_live:
                    await self._call_ended(conversation)
            else:
                await system.ask(conversation, m.Reply(agent_id, self.rng.choice(ANSWERS), uuid.uuid4().hex))
            await self._pause(resolve)
            await system.ask(conversation, m.ChangeStatus(author, "resolved"))
            await system.ask(conversation, m.ChangeStatus(author, "closed"))
            self.handled += 1
        except Exception as exc:  # a conversation closed or moved meanwhile is normal here
            log.info("sandbox agent %s left %s: %s", agent_id, thread_key, reason(exc))
        finally:
            self._threads.discard(thread_key)
            self._finished[ticket or thread_key] = None
            if len(self._finished) > REMEMBERED:
                del self._finished[next(iter(self._finished))]


def reason(exc: BaseException) -> str:
    """The last line of an error: a remote one carries the whole remote traceback in its text."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__
