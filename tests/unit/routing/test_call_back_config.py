"""The shipped configuration gives abandoned calls somewhere to go: a call-back queue, a ticket type
and SLA policies of their own, an urgent caller (a gas smell) called back within minutes day and night."""

import tomllib
from pathlib import Path

from routing.config import load_routing_config
from routing.sla_config import load_sla_config

CONFIG = Path(__file__).resolve().parents[3] / "config"


def test_call_backs_have_a_queue_and_their_own_sla_policies():
    routing = load_routing_config((CONFIG / "routing.toml").read_text(encoding="utf-8"), "routing.toml")
    assert routing.queues["callback"].channels == ("voice",)
    sla = load_sla_config((CONFIG / "sla.toml").read_text(encoding="utf-8"), "sla.toml")
    normal = sla.policies.for_ticket("callback", "normal")
    urgent = sla.policies.for_ticket("callback", "urgent")
    assert normal.name == "callback" and urgent.name == "callback_urgent"
    assert urgent.first_response == 5 * 60 and normal.first_response == 30 * 60
    tickets = tomllib.loads((CONFIG / "tickets.toml").read_text(encoding="utf-8"))
    assert "callback" in tickets["types"]
