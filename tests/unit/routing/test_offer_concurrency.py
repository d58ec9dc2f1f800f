"""Offer concurrency is its own setting: capacity limits what an agent holds, ``pending_offers`` how
many offers wait for an answer at once; only offers the desktop displayed count as missed."""

from routing.agent_state import MISSED_OFFERS, AgentState
from routing.availability import AgentStatus
from routing.queue_book import QueueBook
from routing.skills import AgentProfile, Requirements
from routing.strategies import strategy_named

VOICE, CHAT, EMAIL = Requirements.of("voice"), Requirements.of("chat"), Requirements.of("email")


def signed_in(name: str = "olena", **kwargs) -> AgentState:
    state = AgentState(AgentProfile.of(name), wrap_up={}, **kwargs)
    state.sign_in(0)
    return state


def book_with(agent: AgentState) -> QueueBook:
    book = QueueBook("general", strategy_named("longest_idle"))
    book.put_agent(agent.profile, agent.availability())
    return book


def fill(book: QueueBook) -> None:
    for n, requirements in enumerate([VOICE, CHAT, CHAT, CHAT, EMAIL, EMAIL, EMAIL, EMAIL, EMAIL]):
        book.add(f"c{n}", requirements, enqueued_at=n)


def test_pressing_available_brings_one_offer_not_one_per_free_slot():
    # The demo: capacity voice 1 + chat 3 + e-mail 5 brought 6-8 offers at once.
    agent = signed_in()
    book = book_with(agent)
    fill(book)
    offers = book.assign(10)
    assert len(offers) == 1
    conversation = offers[0].conversation
    assert agent.reserve(conversation.conversation_id, conversation.requirements.channel, 10)
    assert not agent.reserve("c8", "email", 10)  # a second queue's offer is refused without blame
    book.update_agent(agent.availability())
    assert book.assign(11) == []


def test_the_next_offer_comes_once_the_pending_one_is_answered_and_capacity_still_counts():
    agent = signed_in()
    book = book_with(agent)
    fill(book)
    taken = []
    for second in range(10, 30):
        offers = book.assign(second)
        assert len(offers) <= 1
        for offer in offers:
            thread = offer.conversation.conversation_id
            assert agent.reserve(thread, offer.conversation.requirements.channel, second)
            agent.accept(thread, second)
            book.accepted(thread)
            taken.append(thread)
        book.update_agent(agent.availability())
    assert sorted(taken) == [f"c{n}" for n in range(9)]  # 1 call + 3 chats + 5 e-mails, one at a time
    assert agent.availability().free == {"voice": 0, "chat": 0, "email": 0}


def test_pending_offers_is_configurable_and_capacity_still_limits():
    agent = signed_in(pending_offers=2)
    book = book_with(agent)
    fill(book)
    assert len(book.assign(10)) == 2
    unlimited = signed_in("taras", pending_offers=0)
    book = book_with(unlimited)
    fill(book)
    assert len(book.assign(10)) == 9


def test_an_offer_never_displayed_times_out_without_blame():
    agent = signed_in(max_misses=1)
    assert agent.reserve("c1", "chat", 1)
    outcome = agent.offer_timed_out("c1", 21)
    assert not outcome.counted and not outcome.put_on_break
    assert agent.misses == 0 and agent.status is AgentStatus.AVAILABLE
    assert agent.availability().free["chat"] == 3  # the slot is free again


def test_a_displayed_offer_that_times_out_is_a_miss():
    agent = signed_in(max_misses=1)
    agent.reserve("c1", "chat", 1)
    assert agent.shown("c1")
    outcome = agent.offer_timed_out("c1", 21)
    assert outcome.counted and outcome.put_on_break
    assert agent.status is AgentStatus.BREAK and agent.break_reason == MISSED_OFFERS


def test_accepting_resets_and_only_shown_offers_are_counted_after_a_reject():
    # Once straight after accepting one offer and rejecting another the agent was put on break.
    agent = signed_in(max_misses=3)
    agent.reserve("a", "chat", 1)
    agent.shown("a")
    agent.accept("a", 2)
    agent.reserve("b", "chat", 3)
    agent.shown("b")
    assert agent.reject("b", 4).misses == 1
    for n, second in enumerate(range(5, 45, 20)):
        agent.reserve(f"unseen{n}", "email", second)
        agent.offer_timed_out(f"unseen{n}", second + 20)
    assert agent.misses == 1 and agent.status is AgentStatus.BUSY  # the chat in hand, no break


def test_shown_is_refused_for_an_offer_that_is_not_pending():
    agent = signed_in()
    assert not agent.shown("nothing")
