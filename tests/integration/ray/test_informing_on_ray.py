"""The informing service on Ray: the client senders' process is killed with SIGKILL while it sends;
Ray restarts it, the messages it held are claimed again when their lease runs out, and the SMTP relay
(the sandbox) receives every message exactly once."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from channels.sandbox.mail import DovecotServer, SmtpCapture
from crm_core.message_templates import save_template
from crm_core.outbox import OutboundMessage
from routing.informing.templates import TemplateDraft

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
TOTAL = 200


class SandboxThread:
    """Dovecot and the SMTP relay served from a loop of their own, so they answer while Ray starts."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.dovecot, self.smtp = DovecotServer(), SmtpCapture()
        self.run(self.dovecot.start())
        self.run(self.smtp.start())

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def message_ids(self) -> list[str]:
        return self.run(self._ids())

    async def _ids(self) -> list[str]:
        return [str(m.message["Message-ID"]) for m in list(self.smtp.messages)]

    def stop(self) -> None:
        self.run(self.smtp.stop())
        self.run(self.dovecot.stop(remove=True))
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def sandbox():
    if not DovecotServer.available():
        pytest.skip("Dovecot is not installed (apt-get install -y dovecot-imapd): e-mail channel tests skipped")
    peers = SandboxThread()
    yield peers
    peers.stop()


@pytest.fixture(scope="module")
def informing_engine(db_url, sandbox, tmp_path_factory):
    """The senders in a process of their own (the one killed), with a short lease."""
    import tomllib

    from actors.system import RayEngine

    config = tmp_path_factory.mktemp("informing") / "config"
    shutil.copytree(ROOT / "config", config)
    engine_toml = config / "engine.toml"
    engine_toml.write_text(engine_toml.read_text(encoding="utf-8").replace(
        'all = ["conversation", "agent", "queue", "sender"]', 'all = ["conversation", "agent", "queue"]'),
        encoding="utf-8")
    informing_toml = config / "informing.toml"
    informing = informing_toml.read_text(encoding="utf-8").replace("lease_s = 30", "lease_s = 3")
    informing = informing[:informing.index("[informing.sending_hours]")]  # any hour of the day
    informing_toml.write_text(informing, encoding="utf-8")
    spool = tmp_path_factory.mktemp("spool")
    email = {**tomllib.loads((config / "channels" / "email.toml").read_text())["email"],
             "from_address": sandbox.dovecot.user, "imap": {**sandbox.dovecot.imap_settings(), "sent_mailbox": ""},
             "smtp": sandbox.smtp.smtp_settings(), "spool_dir": str(spool / "att"), "state_path": str(spool / "uid.json")}
    engine = RayEngine(config_dir=config, database_url=db_url)
    engine.namespace = "switchboard-informing-test"
    engine.start(channels={"email": email}, gateway=False, log_to_driver=False)
    yield engine
    ray.shutdown()


async def _clients(services, count: int) -> list[int]:
    async with services.db.begin() as conn:
        ids = (await conn.execute(text(
            "INSERT INTO clients (kind, full_name, segment, language)"
            " SELECT 'person', 'Клієнт ' || n, 'regular', 'uk' FROM generate_series(1, :n) n RETURNING id"),
            {"n": count})).scalars().all()
        await conn.execute(text(
            "INSERT INTO contact_points (client_id, kind, value, is_primary)"
            " SELECT id, 'email', 'client' || id || '@ukr.net', true FROM clients WHERE id = ANY(:ids)"), {"ids": list(ids)})
    return list(ids)


async def _states(services) -> dict[str, int]:
    async with services.db.connect() as conn:
        rows = (await conn.execute(text("SELECT state, count(*) FROM outbox_messages GROUP BY state"))).all()
    return {state: int(n) for state, n in rows}


def test_killed_sender_process_loses_and_doubles_nothing(informing_engine, sandbox):
    services = informing_engine.client_services()

    async def scenario():
        await save_template(services.autocommit, TemplateDraft.from_mapping({
            "name": "debt_reminder", "topic": "service", "variables": [{"name": "amount", "type": "money"}],
            "bodies": {"email": {"subject": "Нагадування", "text": "Борг {{ amount }} грн."}}}), "admin", 3)
        clients = await _clients(services, TOTAL)
        hosts = {(h["kind"], h["shard"]): h for h in await services.system.describe()}
        victim = hosts[("sender", 0)]["pid"]
        assert victim != hosts[("conversation", 0)]["pid"]
        await asyncio.gather(*(services.informing.submit(OutboundMessage(
            client_id=client, topic="service", template="debt_reminder", variables={"amount": 100 + n},
            origin="trigger", dedupe_key=f"debt-{client}", chain=("email",))) for n, client in enumerate(clients)))
        while not sandbox.message_ids():  # the senders are sending: kill them mid-run
            await asyncio.sleep(0.005)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 90
        while (await _states(services)).get("sent", 0) < TOTAL and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        async with services.db.connect() as conn:
            external = set((await conn.execute(text("SELECT external_id FROM outbox_messages"))).scalars())
            reclaimed = (await conn.execute(text("SELECT count(*) FROM outbox_messages WHERE attempts > 1"))).scalar()
        after = {(h["kind"], h["shard"]): h["pid"] for h in await services.system.describe()}
        return await _states(services), external, after[("sender", 0)] != victim, reclaimed

    states, external, restarted, reclaimed = asyncio.run(scenario())
    ids = sandbox.message_ids()
    assert restarted
    assert reclaimed > 0  # the kill left messages claimed, and they were claimed again
    assert states == {"sent": TOTAL}
    assert len(ids) == TOTAL  # counted at the relay: none lost, none twice
    assert set(ids) == external
