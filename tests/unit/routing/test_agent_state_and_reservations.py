"""The agent state machine and the offer lifecycle the actors wrap."""

import pytest

from routing.agent_state import MISSED_OFFERS, AgentState, AgentStateError
from routing.availability import AgentStatus
from routing.reservations import Reservations, ReservationStatus
from routing.skills import AgentProfile


def agent(**kwargs) -> AgentState:
    state = AgentState(AgentProfile.of("olena", {"billing": 3}), **kwargs)
    state.sign_in(0)
    return state


def test_default_capacity_one_call_three_chats_five_emails():
    state = agent()
    assert state.availability().free == {"voice": 1, "chat": 3, "email": 5}
    for n in range(3):
        assert state.reserve(f"chat{n}", "chat", 1)
        state.accept(f"chat{n}", 1)
    assert not state.reserve("chat3", "chat", 1)
    assert state.reserve("call", "voice", 1)
    state.accept("call", 1)
    assert not state.reserve("call2", "voice", 1)
    snapshot = state.availability()
    assert snapshot.free == {"voice": 0, "chat": 0, "email": 5}
    assert snapshot.engaged == {"chat0", "chat1", "chat2", "call"}
    assert snapshot.status is AgentStatus.BUSY


def test_capacity_is_configurable_per_agent():
    state = AgentState(AgentProfile.of("taras", capacity={"chat": 6, "voice": 0}))
    state.sign_in(0)
    assert state.availability().free["chat"] == 6
    assert not state.reserve("call", "voice", 1)


def test_wrap_up_then_available_with_idle_since_from_the_end_of_wrap_up():
    state = agent(wrap_up={"voice": 30})
    state.reserve("call", "voice", 10)
    state.accept("call", 11)
    assert state.finish("call", 100) == 130
    assert state.status is AgentStatus.WRAP_UP
    assert not state.reserve("next", "voice", 110)
    assert not state.wrap_up_done(120)  # a stale timer changes nothing
    assert state.wrap_up_done(130)
    assert state.status is AgentStatus.AVAILABLE
    assert state.availability().idle_since == 130


def test_chat_without_wrap_up_returns_straight_to_available():
    state = agent()
    state.reserve("chat", "chat", 1)
    state.accept("chat", 2)
    assert state.finish("chat", 50) is None
    assert state.status is AgentStatus.AVAILABLE
    assert state.idle_since == 50


def test_misses_put_the_agent_on_break_after_n_and_accept_resets_them():
    state = agent(max_misses=2)
    state.reserve("a", "voice", 1)
    assert state.reject("a", 2).misses == 1
    state.reserve("b", "voice", 3)
    state.accept("b", 4)
    state.finish("b", 5)
    state.wrap_up_done(100)
    state.reserve("c", "voice", 101)
    state.shown("c")
    assert not state.offer_timed_out("c", 121).put_on_break
    state.reserve("d", "voice", 122)
    state.shown("d")
    outcome = state.offer_timed_out("d", 142)
    assert outcome.put_on_break and outcome.misses == 2
    assert state.status is AgentStatus.BREAK and state.break_reason == MISSED_OFFERS
    state.end_break(200)
    assert state.status is AgentStatus.AVAILABLE and state.misses == 0


def test_sign_out_returns_everything_in_hand_and_on_offer():
    state = agent()
    state.reserve("chat", "chat", 1)
    state.accept("chat", 1)
    state.reserve("call", "voice", 2)
    assert sorted(state.sign_out(3)) == ["call", "chat"]
    assert state.status is AgentStatus.OFFLINE
    assert not state.reserve("x", "chat", 4)


def test_break_keeps_conversations_but_stops_offers():
    state = agent()
    state.reserve("chat", "chat", 1)
    state.accept("chat", 1)
    state.start_break("lunch", 2)
    assert state.status is AgentStatus.BREAK and state.break_reason == "lunch"
    assert not state.reserve("other", "chat", 3)
    assert "chat" in state.availability().engaged


def test_accepting_an_unknown_offer_is_refused():
    with pytest.raises(AgentStateError):
        agent().accept("nothing", 1)


def test_offer_lifecycle_timeout_late_accept_and_idempotency():
    offers = Reservations("general", timeout=20)
    first = offers.offer("c1", "olena", "voice", now=100)
    assert first.expires_at == 120
    assert offers.offer("c1", "olena", "voice", now=101) is first
    second = offers.offer("c2", "taras", "chat", now=105)
    assert offers.next_expiry() == 120
    assert offers.expire(119) == []
    assert offers.expire(120) == [first]
    assert first.status is ReservationStatus.TIMED_OUT
    assert offers.accept(first.reservation_id, 121).status is ReservationStatus.TIMED_OUT
    assert offers.accept(second.reservation_id, 124).status is ReservationStatus.ACCEPTED
    assert offers.reject(second.reservation_id, 125).status is ReservationStatus.ACCEPTED
    assert offers.next_expiry() is None
    late = offers.offer("c3", "olena", "voice", now=200)
    assert offers.accept(late.reservation_id, 220).status is ReservationStatus.TIMED_OUT
    offers.forget_closed()
    assert offers.next_expiry() is None
    assert offers.open_for("c1") is None
