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


def ring_all_book(*names: str) -> tuple[QueueBook, dict[str, AgentState]]:
    book = QueueBook("general", strategy_named("longest_idle"), ring_all=True)
    agents = {}
    for n, name in enumerate(names):
        agent = agents[name] = AgentState(AgentProfile.of(name), wrap_up={})
        agent.sign_in(float(n))
        book.put_agent(agent.profile, agent.availability())
    return book, agents


def test_ring_all_offers_one_conversation_to_every_free_agent_and_the_first_accept_takes_it():
    book, agents = ring_all_book("olena", "taras", "maria")
    book.add("c1", CHAT, enqueued_at=0)
    book.add("c2", CHAT, enqueued_at=1)
    offers = book.assign(2)
    assert len(offers) == 1  # each agent has one pending offer: all three ring for c1, c2 waits
    offer = offers[0]
    assert {offer.agent_id, *offer.ringing} == {"olena", "taras", "maria"}
    for name in agents:
        assert agents[name].reserve("c1", "chat", 2)
        book.update_agent(agents[name].availability())
    agents["maria"].accept("c1", 3)
    book.accepted("c1", "maria")
    for name in ("olena", "taras"):  # withdrawn from the others, without blame
        agents[name].release("c1", 3)
        book.update_agent(agents[name].availability())
    book.update_agent(agents["maria"].availability())
    rung = book.assign(4)
    assert len(rung) == 1 and rung[0].conversation.conversation_id == "c2"
    assert {rung[0].agent_id, *rung[0].ringing} == {"olena", "taras", "maria"}  # Maria has chat room


def test_ring_all_waits_again_only_when_everyone_rung_declined():
    book, _ = ring_all_book("olena", "taras")
    book.add("c1", VOICE, enqueued_at=0)
    assert len(book.assign(1)) == 1
    assert book.declined("c1", agent_id="olena") is None
    assert book.offered_to("c1") == "taras" and len(book) == 0
    again = book.declined("c1", agent_id="taras")
    assert again is not None and again.declined_by == {"olena", "taras"} and len(book) == 1


def test_a_reserve_queue_offers_to_one_agent():
    book = QueueBook("general", strategy_named("longest_idle"))
    for n, name in enumerate(("olena", "taras")):
        agent = AgentState(AgentProfile.of(name), wrap_up={})
        agent.sign_in(float(n))
        book.put_agent(agent.profile, agent.availability())
    book.add("c1", VOICE, enqueued_at=0)
    offers = book.assign(1)
    assert [(o.agent_id, o.ringing) for o in offers] == [("olena", ())]
