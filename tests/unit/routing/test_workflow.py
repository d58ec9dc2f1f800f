"""Workflow from the shipped config/routing.toml: filters, bullseye widening, skipping, default."""

from pathlib import Path

import pytest

from routing.config import load_routing_config
from routing.skills import Requirements

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def config():
    path = ROOT / "config" / "routing.toml"
    return load_routing_config(path.read_text(encoding="utf-8"), str(path))


def staffed_everywhere(queue: str, requirements: Requirements) -> bool:
    return True


def test_gas_leak_goes_to_technical_as_urgent_then_widens(config):
    call = {"channel": "voice", "category": "emergency.gas_leak", "priority": "normal"}
    first = config.workflow.place(call, staffed=staffed_everywhere)
    assert first.queue == "technical"
    assert first.priority == "urgent"
    assert first.requirements == Requirements.of("voice", {"gas_safety": 4})
    assert first.deadline(1000.0) == 1020.0
    second = config.workflow.next_placement(first, call, staffed=staffed_everywhere)
    assert (second.queue, second.requirements.skills) == ("technical", (("gas_safety", 2),))
    third = config.workflow.next_placement(second, call, staffed=staffed_everywhere)
    assert third.queue == "general" and third.timeout is None
    assert config.workflow.next_placement(third, call, staffed=staffed_everywhere) is None


def test_unstaffed_targets_are_skipped_at_once(config):
    call = {"channel": "voice", "category": "emergency.gas_leak"}
    nobody_in_technical = lambda queue, requirements: queue != "technical"  # noqa: E731
    placement = config.workflow.place(call, staffed=nobody_in_technical)
    assert placement.queue == "general" and placement.priority == "urgent"


def test_billing_matches_language_then_drops_it(config):
    chat = {"channel": "chat", "category": "billing", "language": "en", "priority": "normal"}
    first = config.workflow.place(chat)
    assert first.queue == "billing"
    assert first.requirements == Requirements.of("chat", {"billing": 3}, language="en")
    second = config.workflow.next_placement(first, chat)
    assert second.requirements == Requirements.of("chat", {"billing": 1})


def test_vip_segment_and_default(config):
    vip = config.workflow.place({"channel": "email", "segment": "vip"}, staffed=staffed_everywhere)
    assert vip.queue == "vip" and vip.requirements.segment == "vip"
    other = config.workflow.place({"channel": "chat", "category": "question"})
    assert other.filter_name == "default" and other.queue == "general"


def test_overflow_rules_from_config(config):
    billing = config.queues["billing"].overflow
    assert billing.to == "general" and billing.due_at(100.0) == 700.0
    assert billing.full(200) and not billing.full(199)
    assert config.queue_for_department("technical") == "technical"


def test_transfers_to_queue_department_and_named_agent(config):
    from routing.transfer import Transfer, TransferError, TransferTo, plan_transfer

    current = Requirements.of("chat", {"billing": 3}, language="en")
    to_queue = Transfer(TransferTo.QUEUE, "technical", "meter fault, not billing", "agent-7", 100.0)
    assert plan_transfer(config, to_queue, "billing", current) == ("technical", Requirements.of("chat", language="en"))
    to_department = Transfer(TransferTo.DEPARTMENT, "key_accounts", "client is a legal entity", "agent-7", 100.0)
    assert plan_transfer(config, to_department, "billing", current)[0] == "vip"
    to_agent = Transfer(TransferTo.AGENT, "agent-9", "asked for the same agent", "supervisor-1", 100.0)
    queue, requirements = plan_transfer(config, to_agent, "billing", current)
    assert queue == "billing" and requirements.agent == "agent-9" and requirements.skills == ()
    with pytest.raises(TransferError):
        plan_transfer(config, Transfer(TransferTo.DEPARTMENT, "nowhere", "x", "a", 1.0), "billing", current)


def test_a_passivated_conversation_resumes_its_placement(config):
    call = {"channel": "voice", "category": "emergency.gas_leak"}
    second = config.workflow.next_placement(config.workflow.place(call), call)
    resumed = config.workflow.resume(second.filter_name, second.index, call)
    assert resumed == second
    assert config.workflow.resume("a filter removed since", 1, call) == config.workflow.place(call)
    assert config.workflow.resume(second.filter_name, 99, call) == config.workflow.place(call)
