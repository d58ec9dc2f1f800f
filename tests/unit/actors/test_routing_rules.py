"""The routing and SLA rules as the engine holds them: read from the config directory through the
routing package's loaders, re-read when a file changes, a refused change keeps the last good rules; and
routing's view of an agent built from the user's row."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from actors.agent import agent_profile
from actors.routing_rules import (
    WatchedConfig,
    load_rules,
    requirements_from_json,
    requirements_to_json,
    routing_channel,
)
from actors.settings import ConfigError, Settings
from routing.config import load_routing_config
from routing.skills import Requirements

CONFIG = Path(__file__).resolve().parents[3] / "config"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    shutil.copytree(CONFIG, directory)
    return directory


def test_a_refused_change_keeps_the_last_good_rules_and_a_good_one_is_taken(config_dir):
    path = config_dir / "routing.toml"
    rules = WatchedConfig(path, load_routing_config, check_every_s=0.0)
    assert "billing" in rules.current.queues
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace('strategy = "best_skill"', 'strategy = "coin_toss"', 1), encoding="utf-8")
    error = rules.reload()
    assert error is not None and error.line > 1 and "coin_toss" in error.reason
    assert rules.current.queues["billing"].strategy == "best_skill"
    path.write_text(good.replace('offer_timeout = "20s"', 'offer_timeout = "45s"'), encoding="utf-8")
    rules.reload()
    assert rules.current.offer_timeout == 45.0


def test_sla_rules_are_checked_against_the_routing_queues(config_dir):
    routing, sla = load_rules(config_dir)
    assert sla.current.policies.for_ticket("request", "urgent").name == "urgent"
    (config_dir / "sla.toml").write_text((config_dir / "sla.toml").read_text(encoding="utf-8").replace(
        'queue = "escalations"', 'queue = "nowhere"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="sla.toml:.*unknown queue 'nowhere'"):
        Settings.load(config_dir)
    assert "sla.toml" in str(sla.reload()) and sla.current.escalations.rules


def test_agent_profile_from_the_user_row():
    routing = load_routing_config((CONFIG / "routing.toml").read_text(encoding="utf-8"), "routing.toml")
    user = SimpleNamespace(id=7, skills={"billing": 4, "lang_en": 3, "broken": 9},
                           queues={"names": ["billing", "vip"], "segments": ["vip"]}, capacity={"telegram": 2, "voice": 0})
    profile = agent_profile(user, routing)
    assert profile.agent_id == "7" and profile.skills == {"billing": 4, "lang_en": 3}
    assert profile.languages == {"en"} and profile.segments == {"vip"}
    assert profile.departments == {"billing", "key_accounts"}
    assert profile.capacity == {"voice": 0, "chat": 2, "email": 5}
    plain = agent_profile(SimpleNamespace(id=8, skills={}, queues={}, capacity={}), routing)
    assert plain.languages == {"uk"} and plain.capacity == dict(routing.capacity)


def test_channels_and_stored_requirements():
    assert [routing_channel(c) for c in ("voice", "telegram", "webchat", "email", "web_form")] == \
        ["voice", "chat", "chat", "email", "email"]
    requirements = Requirements.of("chat", {"billing": 3}, language="uk", agent="12")
    assert requirements_from_json(requirements_to_json(requirements), "webchat") == requirements
    assert requirements_from_json(None, "viber") == Requirements.of("chat")
