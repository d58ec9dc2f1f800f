"""Live wall latency: a state change published to the event hub -> visible on an open supervisor wall in
headless Chromium, with 200 agents and 2,000 open conversations live.  Baseline in the same run: the
same change arriving at a bare EventSource on the same page (transport only, no rendering).

``python -m bench.bench_dashboards [--changes N]`` (bar: p99 <= 1 s).  Needs Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from aiohttp.test_utils import TestServer

from actors.event_hub import EventHub
from actors.services import HubClient
from actors.settings import Settings
from bench.common import bench_database_url, percentile
from crm_core import users
from crm_core.database import async_engine
from dashboards.app import build_app
from tests.browser.cdp import Browser, chromium_path

AGENTS, CONVERSATIONS, QUEUES = 200, 2_000, ("general", "billing", "technical", "emergency", "metering")
WATCH = """
window.__seen = {}; window.__arrived = {};
new MutationObserver(() => {
  for (const [id, state] of Object.entries(window.__want || {})) {
    const cell = document.querySelector(`[data-agent="${id}"] .agent-state`);
    if (cell && cell.dataset.state === state && !window.__seen[id + state]) window.__seen[id + state] = Date.now();
  }
}).observe(document.getElementById('widgets'), {childList: true, subtree: true});
const raw = new EventSource('/api/v1/supervisor/stream');
raw.addEventListener('snapshot', () => { window.__rawReady = true; });
raw.addEventListener('agent', e => { const d = JSON.parse(e.data); window.__arrived[d.id + d.state.state] = Date.now(); });
"""


def agent(i: int, state: str) -> dict:
    return {"type": "agent", "id": str(i), "agent_id": i, "state": {
        "name": f"Агент {i}", "state": state, "since": time.time(), "load": {"telegram": i % 3}, "capacity": {"telegram": 3},
        "queues": [QUEUES[i % len(QUEUES)]], "conversations": [f"telegram:{i}:{k}" for k in range(i % 3)]}}


async def run(changes: int) -> None:
    url = bench_database_url(database="switchboard_bench_dashboards")
    db = async_engine(url, pool_size=4)
    hub = EventHub()
    await hub.publish([agent(i, "available") for i in range(1, AGENTS + 1)])
    await hub.publish([{"type": "conversation", "id": f"telegram:{i}", "agent_id": 1 + i % AGENTS, "state": {
        "channel": "telegram", "queue": QUEUES[i % len(QUEUES)], "ticket": {"number": f"26-{i:06d}", "status": "in_progress"}}}
        for i in range(CONVERSATIONS)])
    await hub.publish([{"type": "queue", "id": q, "state": {"waiting_count": 5, "longest_wait_s": 30, "stats": {
        "offered": 100, "answered": 95, "abandoned": 5}}} for q in QUEUES])
    services = SimpleNamespace(settings=Settings.load(), db=db, hub=HubClient(hub), system=None, crm=None, inbox=None,
                               channels=None)
    async with db.begin() as conn:
        user_id = await users.create_user(conn, login="bench-supervisor", full_name="Bench", role="supervisor",
                                          password="bench-password")
        token, _ = await users.open_session(conn, user_id, timedelta(hours=1))
    server = TestServer(build_app(services), host="127.0.0.1", port=0)
    await server.start_server()
    browser = Browser(Path(tempfile.mkdtemp(prefix="sb-bench-chromium-")) / "profile")
    await browser.start()
    try:
        await browser.send("Network.setCookie", {"name": "sb_session", "value": token, "domain": "127.0.0.1", "path": "/"})
        await browser.goto(str(server.make_url("/wall")))
        await browser.wait_for("document.querySelectorAll('[data-agent]').length >= 200", 60)
        await browser.js(WATCH)
        await browser.wait_for("window.__rawReady")
        rendered, arrived = [], []
        for n in range(changes):
            agent_id = 1 + (n * 37) % AGENTS
            state = ("break", "available", "offline")[n % 3]
            await browser.js(f"window.__want = {{'{agent_id}': '{state}'}}")
            key = f"{agent_id}{state}"
            published = time.time() * 1000
            await hub.publish([agent(agent_id, state)])
            await browser.wait_for(f"window.__seen['{key}'] && window.__arrived['{key}']", 10)
            seen = await browser.js(f"[window.__seen['{key}'], window.__arrived['{key}']]")
            rendered.append(seen[0] - published)
            arrived.append(seen[1] - published)
            await asyncio.sleep(0.05)
        print(f"{AGENTS} agents, {CONVERSATIONS} conversations live; {changes} state changes")
        for name, values in (("baseline: arrived at a bare EventSource", arrived), ("visible on the wall (rendered)", rendered)):
            print(f"{name:42s} p50 {percentile(values, 0.5):6.0f} ms  p99 {percentile(values, 0.99):6.0f} ms  "
                  f"max {max(values):6.0f} ms")
    finally:
        await browser.close()
        await server.close()
        await db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args(argv)
    if chromium_path() is None:
        print("skipped: Chromium is not installed (apt-get install -y chromium chromium-driver)")
        return
    asyncio.run(run(args.changes))


if __name__ == "__main__":
    main()
