"""The demo's traffic fits its sandbox agents: every kind of work is offered less than the agents can
hold (queues drain), and Erlang C puts chat work -- the bulk of the demo -- at a plausible service level,
neither a queue that never drains nor "SLA met 100 %"."""

import tomllib
from pathlib import Path
from statistics import mean

from routing import erlang
from routing.config import load_routing_config

CONFIG = Path(__file__).resolve().parents[3] / "config"


def demo() -> tuple[dict, list[dict], dict]:
    data = tomllib.loads((CONFIG / "demo.toml").read_text(encoding="utf-8"))
    routing = load_routing_config((CONFIG / "routing.toml").read_text(encoding="utf-8"), "routing.toml")
    return data["traffic"], [u for u in data["users"] if u.get("sandbox")], routing


def test_chat_work_lands_at_a_plausible_service_level():
    traffic, agents, routing = demo()
    handle = mean(traffic["accept_after_s"]) + mean(traffic["answer_after_s"]) + mean(traffic["resolve_after_s"])
    slots = len(agents) * routing.capacity["chat"]
    # Upper bound: every Telegram, Viber and web act a new chat for the agents.
    rate = traffic["telegram_per_s"] + traffic["viber_per_s"] + traffic["web_per_s"]
    load = erlang.traffic(rate, handle)
    assert load < slots, f"{load:.1f} Erlangs of chat against {slots} slots: the queue never drains"
    level = erlang.service_level(slots, load, handle, routing.service_level.target(None, "chat").threshold_s)
    assert 0.7 <= level <= 0.95, f"Erlang C service level {level:.0%}"


def test_calls_and_e_mails_fit_the_agents():
    traffic, agents, routing = demo()
    handle = mean(traffic["accept_after_s"]) + mean(traffic["answer_after_s"]) + mean(traffic["resolve_after_s"])
    calls = erlang.traffic(traffic["calls_per_s"], handle + routing.wrap_up.get("voice", 0.0))
    assert calls < len(agents) * routing.capacity["voice"]
    assert erlang.traffic(traffic["email_per_s"], handle) < len(agents) * routing.capacity["email"]
