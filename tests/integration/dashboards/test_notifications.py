"""Escalation notifications do not vanish when no wall is open (SR-09): an SLA breach is kept as a
notification for each supervisor of the ticket's queue (and only theirs), goes out live, is in the
supervisor's feed through the API after the fact, and is acknowledged there (one at a time, or all of an
escalation from the escalations feed), with the acknowledgement kept."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from actors.system import LocalEngine
from channels.base import Address, Inbound
from channels.sandbox.mail import DovecotServer, SmtpCapture
from crm_core import users
from dashboards.app import build_app
from tests.integration.engine.test_routing_paths import ROUTING, SLA
from tests.support.channels import channel_table
from tests.support.engine import eventually, open_for_logins

CONFIG = Path(__file__).resolve().parents[3] / "config"
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def wall(fresh_db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "routing.toml").write_text(ROUTING, encoding="utf-8")
    (config / "sla.toml").write_text(SLA, encoding="utf-8")
    local = LocalEngine(fresh_db_url, config_dir=config)
    services = await local.start()
    await open_for_logins(services)
    client = TestClient(TestServer(build_app(services), host="127.0.0.1", port=0))
    await client.start_server()
    yield services, local, client
    await client.close()
    await local.stop()


async def supervisor(services, client, queues, email=None):
    name = f"sup-{uuid.uuid4().hex[:8]}"
    async with services.db.begin() as conn:
        user_id = await users.create_user(conn, login=name, full_name="Тест супервізор", role="supervisor",
                                          password=PASSWORD, queues={"names": list(queues)}, email=email)
    response = await client.post("/api/v1/auth/login", json={"login": name, "password": PASSWORD})
    assert response.status == 200
    return user_id, {"Authorization": f"Bearer {(await response.json())['token']}"}


async def test_a_breach_is_kept_for_the_queues_supervisors_and_acknowledged_through_the_api(wall):
    services, local, client = wall
    general_id, general = await supervisor(services, client, ["general"], email="chief@demo.switchboard.ua")
    _, billing = await supervisor(services, client, ["billing"])
    item = Inbound(channel="webchat", thread_key=f"webchat:site:{uuid.uuid4().hex[:8]}", dedupe_key=uuid.uuid4().hex,
                   sender=Address("web", "visitor"), text="Доброго дня, це скарга на обслуговування")
    seq = local.hub.seq
    await services.inbox.store(item)

    async def kept():
        feed = await (await client.get("/api/v1/notifications", headers=general)).json()
        return feed if feed["notifications"] else None

    feed = await eventually(kept, timeout_s=15)
    reasons = {n["reason"]: n for n in feed["notifications"]}
    assert set(reasons) == {"breach", "escalation"} and feed["open"] == 2
    breach = reasons["breach"]
    assert breach["key"] == f"{breach['ticket_number']}:first_response" and breach["queue"] == "general"
    assert breach["acknowledged_at"] is None and breach["data"]["clock"] == "first_response"
    assert (await (await client.get("/api/v1/notifications", headers=billing)).json())["notifications"] == []

    async def told_live():
        return [e for e in local.hub.ring if e["seq"] > seq and e["type"] == "notification"]

    live = await eventually(told_live)
    assert {e["recipient_id"] for e in live} == {general_id}

    escalations = await (await client.get("/api/v1/supervisor/escalations", headers=general)).json()
    assert breach["key"] in [e["id"] for e in escalations["escalations"]]
    acked = await client.post(f"/api/v1/supervisor/escalations/{breach['key']}/ack", json={}, headers=general)
    assert acked.status == 200
    step = reasons["escalation"]
    one = await client.post(f"/api/v1/notifications/{step['id']}/ack", json={"comment": "беру"}, headers=general)
    assert one.status == 200
    acknowledged = (await one.json())["notification"]
    assert acknowledged["acknowledged_at"] is not None and acknowledged["acknowledged_by"]
    after = await (await client.get("/api/v1/notifications?open=1", headers=general)).json()
    assert after["notifications"] == [] and after["open"] == 0
    everything = await (await client.get("/api/v1/notifications", headers=general)).json()
    assert all(n["acknowledged_at"] is not None and n["read_at"] is not None for n in everything["notifications"])
    stranger = await client.post(f"/api/v1/notifications/{step['id']}/ack", json={}, headers=billing)
    assert stranger.status == 404


def without_secret(table: dict) -> dict:
    return {k: v for k, v in table.items() if k != "password_env"}


@pytest.fixture
async def mailed_wall(fresh_db_url, tmp_path, monkeypatch):
    """The same engine with the e-mail channel on a real Dovecot (IMAP) and a real SMTP relay."""
    if not DovecotServer.available():
        pytest.skip("Dovecot is not installed (apt-get install -y dovecot-imapd)")
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    dovecot, relay = DovecotServer(), SmtpCapture()
    await dovecot.start()
    await relay.start()
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "routing.toml").write_text(ROUTING, encoding="utf-8")
    (config / "sla.toml").write_text(SLA, encoding="utf-8")
    table = channel_table("email")
    email = {**table, "from_address": dovecot.user, "spool_dir": str(tmp_path / "spool"),
             "state_path": str(tmp_path / "uid-state.json"),
             "imap": {**without_secret(table["imap"]), **dovecot.imap_settings(), "sent_mailbox": ""},
             "smtp": {**without_secret(table["smtp"]), **relay.smtp_settings()}}
    local = LocalEngine(fresh_db_url, config_dir=config, channels={"email": email})
    services = await local.start()
    await open_for_logins(services)
    await asyncio.wait_for(local.channels["email"].started.wait(), 20)
    client = TestClient(TestServer(build_app(services), host="127.0.0.1", port=0))
    await client.start_server()
    yield services, client, relay
    await client.close()
    await local.stop()
    await relay.stop()
    await dovecot.stop(remove=True)


async def test_the_queues_supervisor_with_an_address_gets_the_breach_by_e_mail(mailed_wall):
    services, client, relay = mailed_wall
    _, general = await supervisor(services, client, ["general"], email="chief@demo.switchboard.ua")
    await services.inbox.store(Inbound(channel="webchat", thread_key=f"webchat:site:{uuid.uuid4().hex[:8]}",
                                       dedupe_key=uuid.uuid4().hex, sender=Address("web", "visitor"),
                                       text="Це скарга: ніхто не відповідає"))

    async def mailed():
        return [m for m in relay.messages if "chief@demo.switchboard.ua" in m.recipients]

    mails = await eventually(mailed, timeout_s=20)
    subjects = [str(m.message["Subject"]) for m in mails]
    assert any(s.startswith("Порушено SLA: звернення") for s in subjects), subjects
    feed = await (await client.get("/api/v1/notifications", headers=general)).json()
    assert feed["open"] >= 1
