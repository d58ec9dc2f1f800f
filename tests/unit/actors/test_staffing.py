"""Staffing answers: asked once by a burst, a "yes" reused while fresh, a "no" never reused."""

from __future__ import annotations

import asyncio

from actors.staffing import StaffingAnswers
from routing.skills import Requirements


class CountingQueues:
    """Stands in for the actor system: answers Staffed from ``staffed`` after a short delay."""

    def __init__(self, staffed: bool) -> None:
        self.staffed = staffed
        self.asked = 0

    async def ask(self, ref, message, timeout_s):  # noqa: ANN001, ANN201
        self.asked += 1
        await asyncio.sleep(0.01)
        return self.staffed


REQUIREMENTS = Requirements.of("chat", {"gas_safety": 4})


async def test_a_burst_asks_once_and_a_yes_is_reused_while_fresh():
    queues = CountingQueues(staffed=True)
    answers = StaffingAnswers(queues, fresh_s=60)  # type: ignore[arg-type]
    assert await asyncio.gather(*(answers.staffed("technical", REQUIREMENTS) for _ in range(20))) == [True] * 20
    assert await answers.staffed("technical", REQUIREMENTS)
    assert queues.asked == 1


async def test_a_no_is_asked_again_so_an_agent_who_just_signed_in_counts():
    queues = CountingQueues(staffed=False)
    answers = StaffingAnswers(queues, fresh_s=60)  # type: ignore[arg-type]
    assert not await answers.staffed("technical", REQUIREMENTS)
    queues.staffed = True
    assert await answers.staffed("technical", REQUIREMENTS)
    assert queues.asked == 2


async def test_a_stale_yes_is_asked_again():
    queues = CountingQueues(staffed=True)
    answers = StaffingAnswers(queues, fresh_s=0.0)  # type: ignore[arg-type]
    await answers.staffed("technical", REQUIREMENTS)
    await asyncio.sleep(0.01)
    queues.staffed = False
    assert not await answers.staffed("technical", REQUIREMENTS)
    assert queues.asked == 2
