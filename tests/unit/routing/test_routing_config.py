"""Bad routing and SLA config is refused at load with the file, the line and the reason."""

from pathlib import Path

import pytest

from routing.config import LastGoodConfig, load_routing_config
from routing.config_source import ConfigError
from routing.sla_config import load_sla_config

ROOT = Path(__file__).resolve().parents[3]
ROUTING = (ROOT / "config" / "routing.toml").read_text(encoding="utf-8")
SLA = (ROOT / "config" / "sla.toml").read_text(encoding="utf-8")


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[occurrence - 1]


def refused(text: str, loader=load_routing_config, file: str = "config/routing.toml", **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        loader(text, file, **kwargs)
    return caught.value


def test_shipped_configs_load():
    routing = load_routing_config(ROUTING, "config/routing.toml")
    assert {"general", "billing", "technical", "vip", "escalations"} <= set(routing.queues)
    sla = load_sla_config(SLA, "config/sla.toml", queues=routing.queues,
                          departments={q.department for q in routing.queues.values()})
    assert sla.calendars["office"].zone.key == "Europe/Kyiv"


def test_unknown_queue_in_a_target_names_its_line():
    text = ROUTING.replace('queue = "billing"\nskills = { billing = 1 }', 'queue = "biling"\nskills = { billing = 1 }')
    error = refused(text)
    assert error.file == "config/routing.toml"
    assert error.line == line_of(text, 'queue = "biling"')
    assert "unknown queue 'biling'" in error.reason


def test_unknown_queue_in_an_inline_target_list_names_its_line():
    text = ROUTING.replace('  { queue = "general" },', '  { queue = "general" },\n  { queue = "nowhere" },')
    error = refused(text)
    assert error.line == line_of(text, '{ queue = "nowhere" }')


def test_expression_that_does_not_parse_names_line_and_column():
    text = ROUTING.replace("when = 'type == \"complaint\"'", "when = 'category == \"complaint\" or or type'")
    error = refused(text)
    assert error.line == line_of(text, "or or type")
    assert "column 28" in error.reason


def test_overflow_cycle_is_refused():
    text = ROUTING.replace('[queues.general]\n', '[queues.general]\noverflow = { to = "billing", after = "1m" }\n')
    error = refused(text)
    assert "overflow cycle" in error.reason
    assert error.line in {line_of(text, 'overflow = { to = "billing"'), line_of(text, 'overflow = { to = "general", after = "10m"')}


def test_unknown_strategy_skill_and_key():
    assert refused(ROUTING.replace('strategy = "round_robin"', 'strategy = "random"')).line == \
        line_of(ROUTING, 'strategy = "round_robin"')
    text = ROUTING.replace("skills = { gas_safety = 4 }", "skills = { gas_safty = 4 }")
    assert "unknown skill 'gas_safty'" in refused(text).reason
    text = ROUTING.replace("sticky = true\n", "stiky = true\n", 1)
    error = refused(text)
    assert error.line == line_of(text, "stiky") and "unknown key" in error.reason


def test_toml_syntax_error_keeps_tomllib_line():
    text = ROUTING.replace("[defaults]", "[defaults")
    assert refused(text).line == line_of(text, "[defaults")


def test_impossible_calendar_and_unknown_time_zone():
    text = SLA.replace('sat = ["09:00-15:00"]', 'sat = ["15:00-09:00"]')
    error = refused(text, load_sla_config, "config/sla.toml")
    assert error.file == "config/sla.toml"
    assert "end before they start" in error.reason
    text = SLA.replace('time_zone = "Europe/Kyiv"', 'time_zone = "Europe/Kiyv"', 1)
    error = refused(text, load_sla_config, "config/sla.toml")
    assert error.line == line_of(text, "Europe/Kiyv") and "unknown time zone" in error.reason
    text = SLA.replace("  2026-03-08,", '  "8 March",')
    assert "list of dates" in refused(text, load_sla_config, "config/sla.toml").reason


def test_escalation_to_unknown_queue_and_bad_trigger():
    text = SLA.replace('queue = "escalations"', 'queue = "escalation"')
    error = refused(text, load_sla_config, "config/sla.toml", queues={"general", "escalations"})
    assert error.line == line_of(text, 'queue = "escalation"')
    text = SLA.replace('at = "80%"', 'at = "soon"')
    assert refused(text, load_sla_config, "config/sla.toml").line == line_of(text, 'at = "soon"')


def test_policy_with_unknown_calendar():
    text = SLA.replace('calendar = "office"\nfirst_response = "1h"', 'calendar = "ofice"\nfirst_response = "1h"')
    error = refused(text, load_sla_config, "config/sla.toml")
    assert error.line == line_of(text, 'calendar = "ofice"')


def test_running_engine_keeps_its_last_good_config():
    holder = LastGoodConfig(load_routing_config, ROUTING, "config/routing.toml")
    good = holder.current
    error = holder.reload(ROUTING.replace('queue = "vip"', 'queue = "vipp"'), "config/routing.toml")
    assert isinstance(error, ConfigError)
    assert holder.current is good
    assert holder.reload(ROUTING.replace('aging_per_minute = 10', 'aging_per_minute = 5'), "x.toml") is None
    assert holder.current is not good and holder.current.file == "x.toml"


def test_source_map_finds_nested_tables_inline_lists_and_skips_multiline_strings():
    from routing.config_source import SourceMap

    text = '''# comment
title = """
[not.a.table]
fake = 1
"""
[[workflow.filters]]
name = "a"
[[workflow.filters.targets]]
queue = "x"
[[workflow.filters]]
name = "b"
targets = [
  { queue = "y" },
  { queue = "z", timeout = 5 },
]
[queues.general]
"quoted key" = 1
overflow.to = "b"
'''
    lines = SourceMap(text)
    assert lines.line_of(("title",)) == 2
    assert lines.line_of(("not", "a", "table")) == 1  # inside a string: not a table
    assert lines.line_of(("workflow", "filters", 0, "targets", 0, "queue")) == 9
    assert lines.line_of(("workflow", "filters", 1, "name")) == 11
    assert lines.line_of(("workflow", "filters", 1, "targets", 1, "timeout")) == 14
    assert lines.line_of(("workflow", "filters", 1, "targets", 1, "unknown")) == 14
    assert lines.line_of(("queues", "general", "quoted key")) == 17
    assert lines.line_of(("queues", "general", "overflow", "to")) == 18
    assert lines.line_of(("queues", "general", "strategy")) == 16
