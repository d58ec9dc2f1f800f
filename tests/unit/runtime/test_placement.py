import shutil
from pathlib import Path

import pytest

from actors.runtime.placement import Placement, PlacementError
from actors.runtime.ref import host_name
from actors.settings import ConfigError, Settings

CONFIG = Path(__file__).resolve().parents[3] / "config"

SHARDS = {"conversation": 2, "agent": 1, "queue": 1}


def test_every_shard_has_a_process_of_its_own_by_default():
    placement = Placement.of(SHARDS)
    assert dict(placement) == {host_name(kind, shard): ((kind, shard),)
                               for kind, count in SHARDS.items() for shard in range(count)}


def test_a_host_group_puts_its_kinds_and_single_shards_in_one_process():
    placement = Placement.of(SHARDS, {"routing": ["agent", "queue"], "first": ["conversation:0"]})
    assert dict(placement) == {
        "hosts:routing": (("agent", 0), ("queue", 0)),
        "hosts:first": (("conversation", 0),),
        "host:conversation:1": (("conversation", 1),),
    }
    assert placement.process_of()[("queue", 0)] == "hosts:routing"


@pytest.mark.parametrize(("groups", "reason"), [
    ({"a": ["agents"]}, "no entity kind 'agents'"),
    ({"a": ["conversation:2"]}, "conversation has shards 0..1"),
    ({"a": ["conversation:x"]}, "conversation has shards 0..1"),
    ({"a": ["agent"], "b": ["agent:0"]}, "agent:0 is already in group 'a'"),
])
def test_a_bad_host_group_is_refused_with_the_reason(groups, reason):
    with pytest.raises(PlacementError, match=reason):
        Placement.of(SHARDS, groups)


def test_engine_toml_host_groups_are_read_and_a_bad_one_names_the_file(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    engine_toml = config / "engine.toml"
    text = engine_toml.read_text(encoding="utf-8")
    one_process = 'all = ["conversation", "agent", "queue", "sender"]'
    assert one_process in text
    assert set(Settings.load(config).engine.placement.process_of().values()) == {"hosts:all"}
    engine_toml.write_text(text.replace(one_process, 'first = ["conversation:0", "queue"]'), encoding="utf-8")
    process_of = Settings.load(config).engine.placement.process_of()
    assert process_of[("conversation", 0)] == process_of[("queue", 0)] == "hosts:first"
    assert process_of[("agent", 0)] == "host:agent:0"
    engine_toml.write_text(text.replace('"sender"]', '"senders"]'), encoding="utf-8")
    with pytest.raises(ConfigError, match="engine.toml: host group member 'senders'"):
        Settings.load(config)
