"""Webhook refusals on the engine on Ray: the refusal is raised in the channel's actor and crosses to the
gateway's actor; a forged Viber signature or a wrong Telegram secret answers 403 with a clear code, stores
nothing and leaks nothing of the engine's insides."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import threading
import uuid
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from channels.sandbox.telegram import TelegramSandbox
from channels.sandbox.viber import ViberSandbox, ViberUser
from crm_core.database import sync_engine

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).resolve().parents[3] / "config"
TELEGRAM_SECRET = "the-right-secret-token"
INTERNALS = re.compile(r"Traceback|File \"|pid=|ip=|\.py\b|ray::")


class SandboxThread:
    """A sandbox peer serving from a loop of its own while the test's thread blocks on Ray."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(sandbox.start())

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def close(self) -> None:
        self.call(self.sandbox.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def engine_with_webhooks(db_url, tmp_path_factory):
    from actors.system import RayEngine

    directory = tmp_path_factory.mktemp("webhooks") / "config"
    shutil.copytree(CONFIG, directory)
    engine_toml = directory / "engine.toml"
    engine_toml.write_text(engine_toml.read_text(encoding="utf-8").replace("port = 8080", "port = 0"),
                           encoding="utf-8")
    viber = SandboxThread(ViberSandbox())
    telegram = SandboxThread(TelegramSandbox())
    engine = RayEngine(config_dir=directory, database_url=db_url)
    engine.namespace = f"webhooks-{uuid.uuid4().hex[:6]}"
    ray.init(namespace=engine.namespace, include_dashboard=False, logging_level="ERROR", num_cpus=2,
             runtime_env={"env_vars": {"DATABASE_URL": db_url}})
    channels = {
        "viber": {"token": viber.sandbox.account.token, "api_url": viber.sandbox.api_url, "bot_name": "Газова служба",
                  "state_path": str(directory / "viber-unsubscribed.json")},
        "telegram": {"token": telegram.sandbox.token, "api_url": telegram.sandbox.url, "mode": "webhook",
                     "webhook_secret": TELEGRAM_SECRET},
    }
    url = engine.start(channels=channels, gateway=True)
    yield url, viber
    ray.shutdown()
    viber.close()
    telegram.close()


def inbox_count(db_url: str, thread_key: str) -> int:
    engine = sync_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM inbox WHERE thread_key = :k"), {"k": thread_key}).scalar_one()
    finally:
        engine.dispose()


def assert_clear_refusal(status: int, body: bytes) -> None:
    assert status == 403, body
    answer = json.loads(body)
    assert answer["error"] == "webhook_rejected"
    assert answer["message"] and answer["message"] != "error.webhook_rejected"
    assert not INTERNALS.search(body.decode()), body


def test_forged_or_missing_viber_signature_answers_403_and_stores_nothing(engine_with_webhooks, db_url):
    url, viber = engine_with_webhooks
    user = ViberUser(id=f"forged{uuid.uuid4().hex[:8]}==", name="Підробка")
    sandbox = viber.sandbox

    async def send(signature: str) -> tuple[int, bytes]:
        sent = sandbox.next_token()
        payload = {"event": "message", "timestamp": 1765000000000, "chat_hostname": "SN-CHAT-05_",
                   "message_token": sent, "sender": user.profile(), "message": {"type": "text", "text": "газ"},
                   "silent": False}
        result = await sandbox.post_callback(payload, url=f"{url}/webhooks/viber", signature=signature, attempts=1)
        return result.status, result.body

    for signature in ("0" * 64, ""):
        status, body = viber.call(send(signature))
        assert_clear_refusal(status, body)
    assert inbox_count(db_url, f"viber:{user.id}") == 0

    status, _ = viber.call(send(None))  # signed by the sandbox with the bot's token: accepted
    assert status == 200
    assert inbox_count(db_url, f"viber:{user.id}") == 1


def test_wrong_or_missing_telegram_secret_answers_403_and_stores_nothing(engine_with_webhooks, db_url):
    url, _ = engine_with_webhooks
    update_id = 900_000_000 + uuid.uuid4().int % 1_000_000
    chat = 700_000_000 + uuid.uuid4().int % 1_000_000
    update = {"update_id": update_id, "message": {
        "message_id": 1, "date": 1765000000, "text": "Запах газу",
        "chat": {"id": chat, "type": "private", "first_name": "Підробка"},
        "from": {"id": chat, "is_bot": False, "first_name": "Підробка"}}}

    async def post(headers: dict[str, str]) -> tuple[int, bytes]:
        async with aiohttp.ClientSession() as session, session.post(
                f"{url}/webhooks/telegram", json=update, headers=headers) as response:
            return response.status, await response.read()

    for headers in ({"X-Telegram-Bot-Api-Secret-Token": "guessed"}, {}):
        assert_clear_refusal(*asyncio.run(post(headers)))
    assert inbox_count(db_url, f"telegram:{chat}") == 0
