"""Service level as contact centres define it: answered within the threshold over the contacts that
count, abandoned ones in the denominator by default (configurable), targets per kind of work and queue."""

from pathlib import Path

import pytest

from routing.config import load_routing_config
from routing.config_source import ConfigError
from routing.service_level import ContactCounts, ServiceLevelConfig, Target, service_level_pct

SHIPPED = (Path(__file__).resolve().parents[3] / "config" / "routing.toml").read_text(encoding="utf-8")


def test_abandoned_contacts_are_in_the_denominator_by_default():
    # 8 answered within 20 s, 2 answered later, 2 callers hung up (one after 5 s, one after 40 s).
    counts = ContactCounts(answered=10, answered_within=8, abandoned=2, abandoned_within=1)
    assert service_level_pct(counts) == pytest.approx(66.7)
    assert service_level_pct(counts, "ignore") == 80.0
    assert service_level_pct(counts, "after_threshold") == pytest.approx(72.7)  # 8 / (10 + 1)


def test_offers_made_are_not_the_measure():
    # Nine offers, three rejected before one agent took each: per offer that read 33 %.
    assert service_level_pct(ContactCounts(answered=3, answered_within=3)) == 100.0


def test_nothing_to_measure_is_none_not_a_hundred_percent():
    assert service_level_pct(ContactCounts()) is None
    assert service_level_pct(ContactCounts(abandoned=1, abandoned_within=1), "after_threshold") is None
    with pytest.raises(ValueError, match="unknown abandon rule"):
        service_level_pct(ContactCounts(answered=1), "sometimes")


def test_shipped_targets_per_kind_of_work_and_queue():
    config = load_routing_config(SHIPPED, "routing.toml").service_level
    assert config.abandoned == "count"
    assert config.target("general", "voice") == Target(80, 20)
    assert config.target("general", "chat") == Target(80, 60)
    assert config.target("technical", "voice") == Target(90, 15)
    assert config.target("technical", "chat") == Target(80, 60)
    assert config.target(None, "voice") == Target(80, 20)
    assert set(config.thresholds()) >= {15.0, 20.0, 60.0}


def test_counts_add_up_across_kinds_of_work():
    total = ContactCounts(4, 3, 1, 0) + ContactCounts(2, 1, 1, 1)
    assert total == ContactCounts(6, 4, 2, 1)
    assert ServiceLevelConfig(abandoned="ignore").pct(total) == pytest.approx(66.7)


@pytest.mark.parametrize(("table", "reason"), [
    ('abandoned = "sometimes"', "unknown abandon rule"),
    ('voice = { goal = 180, within = "20s" }', "goal must be a percentage"),
    ('voice = { goal = 80 }', "within"),
    ('[service_level.queues.nowhere]\nvoice = { goal = 80, within = "20s" }', "unknown queue 'nowhere'"),
    ('[service_level.queues.technical]\nfax = { goal = 80, within = "20s" }', "fax"),
])
def test_a_bad_service_level_table_is_refused_with_its_line(table, reason):
    start, end = SHIPPED.index("[service_level]\n"), SHIPPED.index("# The order in which")
    text = SHIPPED[:start] + f"[service_level]\n{table}\n\n" + SHIPPED[end:]
    with pytest.raises(ConfigError, match=reason) as raised:
        load_routing_config(text, "routing.toml")
    assert raised.value.line > 0
