"""Erlang C against a published worked example, and the simulator against Erlang C."""

from pathlib import Path

import pytest

from routing import erlang
from routing.config import load_routing_config
from routing.simulation import SimulatedAgent, main, simulate
from routing.skills import AgentProfile

# Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example": 100 calls per half
# hour, average handle time 180 s, target 80 % answered in 20 s.  Traffic intensity 10 Erlangs; with the
# raw 11 agents the probability a call waits is 68.21 % and the service level 39 %; 14 agents are the
# fewest that reach 80 %.
ROOT = Path(__file__).resolve().parents[3]
ARRIVALS_PER_SECOND = 100 / 1800
HANDLE_TIME = 180.0

SINGLE_QUEUE = """
skills = ["support"]
[queues.support]
strategy = "longest_idle"
[workflow.default]
targets = [{ queue = "support" }]
"""


def test_published_worked_example():
    load = erlang.traffic(ARRIVALS_PER_SECOND, HANDLE_TIME)
    assert load == pytest.approx(10.0)
    assert erlang.erlang_c(11, load) == pytest.approx(0.6821, abs=5e-5)
    assert erlang.service_level(11, load, HANDLE_TIME, 20) == pytest.approx(0.3896, abs=5e-4)
    assert erlang.agents_for(0.80, load, HANDLE_TIME, 20) == 14
    assert erlang.average_speed_of_answer(11, load, HANDLE_TIME) == pytest.approx(0.6821 * 180, rel=1e-3)


def test_recursion_stays_finite_for_large_centres_and_overload():
    assert 0 < erlang.erlang_c(600, 580.0) < 1
    assert erlang.erlang_c(10, 12.0) == 1.0
    assert erlang.service_level(10, 12.0, 180, 20) == 0.0


def test_simulated_service_level_agrees_with_erlang_c():
    config = load_routing_config(SINGLE_QUEUE, "single.toml")
    report = simulate(config, 14, ARRIVALS_PER_SECOND, HANDLE_TIME, 30_000, seed=3)
    predicted = erlang.service_level(14, 10.0, HANDLE_TIME, 20)
    assert abs(report.service_level.value - predicted) <= report.service_level.half_width + 0.01
    assert report.occupancy == pytest.approx(10 / 14, abs=0.02)
    assert report.answered == report.calls and report.abandoned == 0


def test_same_seed_same_report_and_abandonment_with_patience():
    config = load_routing_config(SINGLE_QUEUE, "single.toml")
    first = simulate(config, 11, ARRIVALS_PER_SECOND, HANDLE_TIME, 5_000, seed=9, patience=60.0)
    second = simulate(config, 11, ARRIVALS_PER_SECOND, HANDLE_TIME, 5_000, seed=9, patience=60.0)
    assert first == second
    assert first.abandoned > 0 and first.answered + first.abandoned == first.calls
    assert 0 < first.abandonment.value < 1


def test_workflow_widening_reaches_agents_with_lower_skill():
    config = load_routing_config("""
skills = ["billing"]
[queues.billing]
[queues.general]
[workflow.default]
targets = [
  { queue = "billing", skills = { billing = 5 }, timeout = 30 },
  { queue = "general" },
]
""", "widen.toml")
    juniors = [SimulatedAgent(AgentProfile.of(f"j{n}", {"billing": 1}), ("general",)) for n in range(3)]
    # Nobody has billing 5: every call waits 30 s in the first target, then juniors in general answer.
    report = simulate(config, juniors, 1 / 300, 60.0, 2_000, seed=1, threshold=29.0, warmup=0)
    assert report.answered == report.calls
    assert report.service_level.value == 0.0
    assert report.asa.value >= 30.0


def test_cli_on_the_shipped_config(capsys):
    assert main(["--config", str(ROOT / "config" / "routing.toml"), "--agents", "20", "--calls-per-minute",
                 "5", "--handle-time", "180", "--calls", "5000"]) == 0
    output = capsys.readouterr().out
    assert "answered within 20 s" in output and "Erlang C" in output


def test_cli_refuses_bad_config(tmp_path, capsys):
    bad = tmp_path / "routing.toml"
    bad.write_text('[queues.a]\nstrategy = "coin_toss"\n[workflow.default]\ntargets = [{ queue = "a" }]\n')
    assert main(["--config", str(bad), "--agents", "2", "--calls-per-minute", "1"]) == 2
    assert f"{bad}:2: unknown strategy 'coin_toss'" in capsys.readouterr().err
