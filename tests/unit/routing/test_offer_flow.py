"""The pure pieces together, as the queue and agent actors drive them: offers, misses, sign-out."""

from routing.agent_state import MISSED_OFFERS, AgentState
from routing.availability import AgentStatus
from routing.queue_book import QueueBook
from routing.reservations import Reservations, ReservationStatus
from routing.skills import AgentProfile, Requirements
from routing.strategies import strategy_named

VOICE = Requirements.of("voice")


class Centre:
    """A queue book with its reservations and the agents' state machines, wired as the actors do."""

    def __init__(self, *names: str, max_misses: int = 2) -> None:
        self.book = QueueBook("general", strategy_named("longest_idle"))
        self.offers = Reservations("general", timeout=20)
        self.agents = {}
        for n, name in enumerate(names):
            agent = self.agents[name] = AgentState(AgentProfile.of(name), max_misses=max_misses, wrap_up={})
            agent.sign_in(float(n))
            self.book.put_agent(agent.profile, agent.availability())

    def push(self, name: str) -> None:
        self.book.update_agent(self.agents[name].availability())

    def route(self, now: float) -> dict[str, str]:
        made = {}
        for offer in self.book.assign(now):
            conversation_id = offer.conversation.conversation_id
            agent = self.agents[offer.agent_id]
            if not agent.reserve(conversation_id, "voice", now):
                self.book.declined(conversation_id, exclude=False)
                continue
            self.offers.offer(conversation_id, offer.agent_id, "voice", now)
            agent.shown(conversation_id)  # the desktop displayed the offer card
            self.push(offer.agent_id)
            made[conversation_id] = offer.agent_id
        return made

    def time_out(self, now: float) -> None:
        for reservation in self.offers.expire(now):
            self.agents[reservation.agent_id].offer_timed_out(reservation.conversation_id, now)
            self.book.declined(reservation.conversation_id)
            self.push(reservation.agent_id)

    def accept(self, conversation_id: str, now: float) -> None:
        reservation = self.offers.open_for(conversation_id)
        assert self.offers.accept(reservation.reservation_id, now).status is ReservationStatus.ACCEPTED
        self.agents[reservation.agent_id].accept(conversation_id, now)
        self.book.accepted(conversation_id)
        self.push(reservation.agent_id)


def test_timeout_moves_to_the_next_best_agent_and_misses_lead_to_break():
    centre = Centre("olena", "taras")  # Olena idle longest
    centre.book.add("c1", VOICE, enqueued_at=100)
    assert centre.route(100) == {"c1": "olena"}
    centre.time_out(120)
    assert centre.route(120) == {"c1": "taras"}
    centre.accept("c1", 125)
    centre.book.add("c2", VOICE, enqueued_at=130)
    assert centre.route(130) == {"c2": "olena"}
    centre.time_out(150)
    olena = centre.agents["olena"]
    assert olena.status is AgentStatus.BREAK and olena.break_reason == MISSED_OFFERS
    assert centre.route(151) == {}  # Taras busy, Olena on break: c2 waits
    assert len(centre.book) == 1


def test_agent_signing_out_returns_conversations_with_their_waited_time():
    centre = Centre("olena", "taras")
    centre.book.add("early", VOICE, enqueued_at=10, priority="normal")
    centre.route(10)
    centre.accept("early", 12)
    centre.book.add("later", VOICE, enqueued_at=50, priority="normal")
    centre.route(50)  # Taras is offered "later"
    returned = centre.agents["olena"].sign_out(60)
    assert returned == ["early"]
    centre.push("olena")
    centre.book.add("early", VOICE, enqueued_at=10, priority="normal")  # original enqueued_at kept
    centre.book.add("newer", VOICE, enqueued_at=75, priority="normal")
    centre.agents["olena"].sign_in(80)
    centre.push("olena")
    assert centre.route(81) == {"early": "olena"}  # ahead of the conversation that arrived after it
    assert [c.conversation_id for c in centre.book.waiting()] == ["newer"]


def test_agent_serving_two_queues_is_never_double_booked():
    olena = AgentState(AgentProfile.of("olena"), wrap_up={})
    olena.sign_in(0)
    books = [QueueBook(name, strategy_named("longest_idle")) for name in ("billing", "general")]
    for book in books:
        book.put_agent(olena.profile, olena.availability())
        book.add(f"{book.name}-call", VOICE, enqueued_at=1)
    outcomes = []
    for book in books:
        (offer,) = book.assign(2)
        accepted = olena.reserve(offer.conversation.conversation_id, "voice", 2)
        outcomes.append(accepted)
        if not accepted:
            book.declined(offer.conversation.conversation_id, exclude=False)
    assert outcomes == [True, False]
    for book in books:
        book.update_agent(olena.availability())
    assert all(book.assign(3) == [] for book in books)
    assert len(books[1]) == 1
