"""Erlang C: waiting probability, service level and average speed of answer of an M/M/N queue.

Computed through the Erlang B recursion ``B(n) = A·B(n-1) / (n + A·B(n-1))``, which stays exact for
hundreds of agents where the textbook factorial form overflows, then
``C = N·B / (N - A·(1 - B))``, ``SL(t) = 1 - C·exp(-(N - A)·t / AHT)``, ``ASA = C·AHT / (N - A)``.
Checked in tests against published worked examples.
"""

from __future__ import annotations

import math


def traffic(arrival_rate: float, handle_time: float) -> float:
    """Offered load in Erlangs: arrivals per second times mean handle time in seconds."""
    return arrival_rate * handle_time


def erlang_b(agents: int, load: float) -> float:
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def erlang_c(agents: int, load: float) -> float:
    """Probability that a call waits (load in Erlangs; 1 when the queue is unstable)."""
    if load <= 0:
        return 0.0
    if load >= agents:
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1 - blocking))


def service_level(agents: int, load: float, handle_time: float, threshold: float) -> float:
    """Share of calls answered within ``threshold`` seconds."""
    if load >= agents:
        return 0.0
    return 1.0 - erlang_c(agents, load) * math.exp(-(agents - load) * threshold / handle_time)


def average_speed_of_answer(agents: int, load: float, handle_time: float) -> float:
    """Mean wait in seconds over all calls (those answered at once count as zero)."""
    if load >= agents:
        return math.inf
    return erlang_c(agents, load) * handle_time / (agents - load)


def agents_for(service_target: float, load: float, handle_time: float, threshold: float) -> int:
    """The fewest agents that reach ``service_target`` (e.g. 0.8 for 80 % within ``threshold``)."""
    agents = max(1, math.floor(load) + 1)
    while service_level(agents, load, handle_time, threshold) < service_target:
        agents += 1
    return agents
