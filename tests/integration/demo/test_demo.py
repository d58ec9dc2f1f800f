"""The demo end to end on real Ray: every channel's sandbox peer, the engine running those channels, the
sandbox customers and the sandbox agents, for ~35 s over a small client base.  Tickets must arrive from
every channel that could start (calls, Telegram, Viber, e-mail when Dovecot is installed, web chat, web
forms, the app), known callers must be identified, calls must land on the agent the PBX rang, and the
sandbox agents must resolve some of the work."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from actors.demo import gateway_port, play
from actors.demo.people import prepare_database, sandbox_agents
from actors.settings import Settings, read_toml
from channels.sandbox.mail import DovecotServer
from crm_core.database import sync_engine

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.integration

PLAY_S = 30.0
WEB_CHANNELS = {"webchat", "web_form", "app"}


def small_demo() -> dict:
    demo = read_toml(Settings.load().config_dir / "demo.toml")
    # Every channel plays faster than the demo's balanced day, so each one has tickets within PLAY_S; Viber
    # users open their chats before they write (one round of the crowd), so Viber plays fastest.
    traffic = {**demo["traffic"], "calls_per_s": 0.3, "telegram_per_s": 0.5, "email_per_s": 0.3, "web_per_s": 1.0,
               "viber_per_s": 1.0, "accept_after_s": [0.2, 1.0], "answer_after_s": [0.5, 2.0],
               "resolve_after_s": [1.0, 3.0]}
    return {**demo, "seed": {"accounts": 2_000}, "traffic": traffic}


def tickets_by_channel(db_url: str) -> dict[str, dict[str, int]]:
    engine = sync_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT channel, count(*) AS opened, count(*) FILTER (WHERE identified) AS identified,"
            " count(*) FILTER (WHERE status IN ('resolved', 'closed')) AS resolved"
            " FROM tickets GROUP BY channel")).all()
    engine.dispose()
    return {row.channel: {"opened": row.opened, "identified": row.identified, "resolved": row.resolved}
            for row in rows}


def voice_tickets_on_agents(db_url: str, agent_ids: set[int]) -> int:
    engine = sync_engine(db_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM tickets WHERE channel = 'voice' AND agent_id = ANY(:ids)"),
                             {"ids": sorted(agent_ids)}).scalar_one()
    engine.dispose()
    return int(count)


@pytest.fixture
def demo_run(db_url, monkeypatch):
    demo = small_demo()
    monkeypatch.setenv("SWITCHBOARD_HTTP_PORT", str(gateway_port("127.0.0.1", 0)))
    base = prepare_database(db_url, demo)
    lines: list[str] = []

    def echo(line: str) -> None:
        print(line)
        lines.append(line)

    ray.init(namespace="switchboard-demo-test", include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        outcome = asyncio.run(play(None, demo, base, duration_s=PLAY_S, echo=echo))
    finally:
        ray.shutdown()
    return demo, base, outcome, lines


def test_every_channel_that_starts_turns_its_traffic_into_tickets(db_url, demo_run):
    demo, base, outcome, lines = demo_run
    peers = {"voice", "telegram", "viber"} | ({"email"} if DovecotServer.available() else set())
    assert set(outcome.channels) == peers, (outcome.channels, outcome.skipped)
    assert all(outcome.played[name] > 0 for name in peers | {"web"}), outcome.played
    assert any(line.startswith("\nSwitchboard is running: http://127.0.0.1:") for line in lines), lines

    tickets = tickets_by_channel(db_url)
    expected = (peers | WEB_CHANNELS)
    assert not expected - set(tickets), f"no tickets from {sorted(expected - set(tickets))}: {tickets}"
    assert tickets["voice"]["identified"] > 0, tickets
    assert sum(t["identified"] for t in tickets.values()) > 0, tickets

    agent_ids = set(sandbox_agents(demo, base))
    assert voice_tickets_on_agents(db_url, agent_ids) > 0, "no call landed on the agent the PBX rang"
    assert outcome.handled > 0
    assert sum(t["resolved"] for t in tickets.values()) > 0, tickets
