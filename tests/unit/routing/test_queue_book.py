"""The queue book: who is offered what, in which order, never beyond an agent's capacity."""

from routing.availability import AgentAvailability, AgentStatus
from routing.priority import Ordering
from routing.queue_book import QueueBook
from routing.skills import AgentProfile, Requirements
from routing.strategies import strategy_named

VOICE = Requirements.of("voice")
CHAT = Requirements.of("chat")


def book(strategy: str = "longest_idle", *, sticky: bool = False, ordering: Ordering | None = None) -> QueueBook:
    return QueueBook("general", strategy_named(strategy, sticky=sticky), ordering)


def available(agent_id: str, *, voice: int = 1, chat: int = 3, email: int = 5, idle_since: float = 0.0,
              status: AgentStatus = AgentStatus.AVAILABLE, engaged: frozenset[str] = frozenset(),
              occupancy: float = 0.0, offer_room: int = 1) -> AgentAvailability:
    return AgentAvailability(agent_id, status, {"voice": voice, "chat": chat, "email": email}, idle_since,
                             engaged, occupancy, offer_room)


def join(queue: QueueBook, agent_id: str, skills=None, **state) -> None:
    queue.put_agent(AgentProfile.of(agent_id, skills or {}), available(agent_id, **state))


def pairs(offers):
    return [(offer.conversation.conversation_id, offer.agent_id) for offer in offers]


def test_last_voice_slot_is_offered_once_until_the_outcome():
    queue = book()
    join(queue, "olena")
    queue.add("c1", VOICE, enqueued_at=0)
    queue.add("c2", VOICE, enqueued_at=1)
    assert pairs(queue.assign(2)) == [("c1", "olena")]
    assert queue.assign(3) == []
    # A snapshot sent before the agent saw the offer still shows the slot free: the hold keeps it taken.
    queue.update_agent(available("olena", idle_since=0))
    assert queue.assign(4) == []
    # The agent's snapshot that counts the offered conversation replaces the hold.
    queue.update_agent(available("olena", voice=0, engaged=frozenset({"c1"}), status=AgentStatus.BUSY))
    assert queue.assign(5) == []


def test_chat_capacity_three_then_full():
    queue = book()
    join(queue, "taras", offer_room=3)  # pending_offers = 3: capacity is the limit
    for n in range(5):
        queue.add(f"chat{n}", CHAT, enqueued_at=n)
    assert pairs(queue.assign(10)) == [("chat0", "taras"), ("chat1", "taras"), ("chat2", "taras")]
    assert len(queue) == 2


def test_accepted_offer_leaves_and_the_hold_ends_with_the_next_snapshot():
    queue = book()
    join(queue, "olena")
    queue.add("c1", VOICE, enqueued_at=0)
    queue.add("c2", VOICE, enqueued_at=1)
    queue.assign(1)
    assert queue.accepted("c1").conversation_id == "c1"
    assert "c1" not in queue
    assert queue.assign(2) == []
    # Call finished before the queue heard of it: the snapshot shows the slot free and nothing engaged.
    queue.update_agent(available("olena", idle_since=50))
    assert pairs(queue.assign(51)) == [("c2", "olena")]


def test_declined_offer_goes_to_the_next_agent_and_keeps_its_place():
    queue = book()
    join(queue, "olena", idle_since=0)
    join(queue, "taras", idle_since=10)
    queue.add("first", VOICE, enqueued_at=0)
    assert pairs(queue.assign(20)) == [("first", "olena")]
    queue.add("second", VOICE, enqueued_at=5)
    queue.declined("first")
    # "first" is still ahead of "second", and is not offered to Olena again.
    assert pairs(queue.assign(21)) == [("first", "taras"), ("second", "olena")]


def test_decline_without_blame_allows_the_same_agent_again():
    queue = book()
    join(queue, "olena")
    queue.add("c1", VOICE, enqueued_at=0)
    queue.assign(1)
    queue.declined("c1", exclude=False)
    assert pairs(queue.assign(2)) == [("c1", "olena")]


def test_skill_levels_and_language_decide_eligibility():
    queue = book()
    join(queue, "junior", {"billing": 2}, idle_since=0)
    queue.put_agent(AgentProfile.of("senior", {"billing": 4}, languages=["uk", "en"]),
                    available("senior", idle_since=100, offer_room=2))
    queue.add("hard", Requirements.of("voice", {"billing": 3}), enqueued_at=0)
    queue.add("english", Requirements.of("chat", language="en"), enqueued_at=1)
    offers = dict(pairs(queue.assign(200)))
    assert offers == {"hard": "senior", "english": "senior"}


def test_priority_first_then_aging_lets_a_long_wait_overtake():
    # 100 points per priority step, 10 points per minute of waiting.
    queue = book(ordering=Ordering({"low": 0, "normal": 100, "high": 200, "urgent": 400}, 10 / 60))
    queue.add("normal-old", VOICE, enqueued_at=0, priority="normal")
    queue.add("high-new", VOICE, enqueued_at=300, priority="high")  # 5 minutes later: 50 points behind
    queue.add("urgent-new", VOICE, enqueued_at=300, priority="urgent")
    join(queue, "a", idle_since=0)
    assert pairs(queue.assign(301)) == [("urgent-new", "a")]
    join(queue, "b", idle_since=0)
    assert pairs(queue.assign(302)) == [("high-new", "b")]
    queue.add("high-newer", VOICE, enqueued_at=900, priority="high")  # 15 min after normal-old: behind it
    join(queue, "c", idle_since=0)
    assert pairs(queue.assign(901)) == [("normal-old", "c")]


def test_requeue_with_original_enqueued_at_keeps_waited_time():
    queue = book()
    queue.add("returning", VOICE, enqueued_at=10, priority="high")
    queue.add("new", VOICE, enqueued_at=500, priority="high")
    # The returning conversation came back (agent went offline) with its original enqueued_at.
    queue.remove("returning")
    queue.add("returning", VOICE, enqueued_at=10, priority="high")
    join(queue, "a")
    assert pairs(queue.assign(600)) == [("returning", "a")]


def test_add_is_idempotent_and_remove_withdraws_an_offer():
    queue = book()
    queue.add("c1", VOICE, enqueued_at=0)
    queue.add("c1", VOICE, enqueued_at=0)
    assert len(queue) == 1
    join(queue, "a")
    queue.assign(1)
    assert queue.remove("c1").conversation_id == "c1"
    queue.add("c2", VOICE, enqueued_at=2)
    assert pairs(queue.assign(3)) == [("c2", "a")]


def test_widen_and_set_priority_keep_the_conversation_waiting():
    queue = book()
    join(queue, "junior", {"billing": 1})
    queue.add("c1", Requirements.of("voice", {"billing": 4}), enqueued_at=0)
    assert queue.assign(1) == []
    assert queue.set_priority("c1", "urgent")
    assert queue.widen("c1", Requirements.of("voice", {"billing": 1}))
    offers = queue.assign(30)
    assert pairs(offers) == [("c1", "junior")]
    assert offers[0].conversation.priority == "urgent"


def test_agents_in_wrap_up_break_or_offline_get_nothing_and_staffed_tells_who_works():
    queue = book()
    join(queue, "a", status=AgentStatus.WRAP_UP)
    queue.add("c1", VOICE, enqueued_at=0)
    assert queue.assign(1) == []
    assert queue.staffed(VOICE)
    queue.update_agent(available("a", status=AgentStatus.BREAK))
    assert queue.assign(2) == []
    assert not queue.staffed(VOICE)
    queue.update_agent(available("a", status=AgentStatus.OFFLINE))
    assert not queue.staffed(VOICE)
    assert not queue.staffed(Requirements.of("voice", {"gas_safety": 5}))


def test_drop_agent_returns_offers_to_waiting():
    queue = book()
    join(queue, "a")
    queue.add("c1", VOICE, enqueued_at=0)
    queue.assign(1)
    returned = queue.drop_agent("a")
    assert [c.conversation_id for c in returned] == ["c1"]
    assert len(queue) == 1
    join(queue, "b")
    assert pairs(queue.assign(2)) == [("c1", "b")]


def test_strategies_pick_as_named():
    def offered_to(strategy, **kwargs):
        queue = book(strategy, **kwargs)
        join(queue, "a", {"billing": 2}, idle_since=5, occupancy=0.6)
        join(queue, "b", {"billing": 5}, idle_since=9, occupancy=0.1)
        join(queue, "c", {"billing": 3}, idle_since=1, occupancy=0.3)
        picks = []
        for n in range(3):
            queue.add(f"c{n}", Requirements.of("email", {"billing": 1}), enqueued_at=n,
                      preferred_agent="b" if n == 0 else None)
            (offer,) = queue.assign(10 + n)
            picks.append(offer.agent_id)
        return picks

    assert offered_to("longest_idle")[0] == "c"
    assert offered_to("best_skill")[0] == "b"
    assert offered_to("least_occupied")[0] == "b"
    assert offered_to("round_robin") == ["a", "b", "c"]
    assert offered_to("longest_idle", sticky=True)[0] == "b"


def test_no_decision_scans_unrelated_waiting_conversations():
    # 2,000 waiting for a skill nobody has must not stop an assignable conversation behind them.
    queue = book()
    join(queue, "a", {"billing": 3})
    for n in range(2000):
        queue.add(f"gas{n}", Requirements.of("voice", {"gas_safety": 5}), enqueued_at=n, priority="urgent")
    queue.add("bill", Requirements.of("voice", {"billing": 2}), enqueued_at=5000, priority="low")
    assert pairs(queue.assign(6000)) == [("bill", "a")]
    assert queue.best_key() < float("inf")
