"""Open nothing by default (issue 14 §4): after ``switchboard demo``, ``switchboard run`` on the same data
refuses to start while a demo password, a sandbox API key or a published channel token would open it,
unless the configuration says it is a demo; secrets come from the environment or a secrets file."""

from __future__ import annotations

import asyncio

import pytest

from actors.demo.people import ensure_demo_data
from actors.production_guard import refusals
from actors.settings import Settings, read_toml
from crm_core import api_keys
from crm_core.database import async_engine
from tests.integration.admin.conftest import STRONG

pytestmark = pytest.mark.integration

VIBER_PUBLISHED = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"


def fresh_secrets(monkeypatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_VIBER_TOKEN", "f1e2d3c4b5a69788-0123456789abcdef-fedcba9876543210")
    monkeypatch.setenv("SWITCHBOARD_TELEGRAM_TOKEN", "7123456789:AAE-not-a-published-one")
    monkeypatch.setenv("SWITCHBOARD_AMI_SECRET", "pbx-secret-of-this-site")
    monkeypatch.setenv("SWITCHBOARD_VICIDIAL_API_PASS", "vicidial-pass-of-this-site")


def test_shipped_config_holds_no_secret_and_a_secret_comes_from_the_environment_or_the_file(
        config_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    for name in ("viber", "telegram", "voice"):
        table = read_toml(config_dir / "channels" / f"{name}.toml")[name]
        assert not table.get("token") and not table.get("secret") and not table.get("vicidial_api_pass")
    secrets_file = tmp_path / "secrets.toml"  # <data_dir>/secrets.toml by default
    secrets_file.write_text('[viber]\ntoken = "from-the-file"\n[voice]\nsecret = "ami-from-file"\n')
    monkeypatch.delenv("SWITCHBOARD_SECRETS_FILE", raising=False)
    channels = Settings.load(config_dir).channels
    assert channels["viber"]["token"] == "from-the-file" and channels["voice"]["secret"] == "ami-from-file"
    assert "token_env" not in channels["viber"]
    monkeypatch.setenv("SWITCHBOARD_VIBER_TOKEN", "from-the-environment")
    assert Settings.load(config_dir).channels["viber"]["token"] == "from-the-environment"


def test_run_refuses_the_demos_data_until_its_secrets_are_replaced(fresh_db_url, config_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    monkeypatch.setenv("SWITCHBOARD_SECRETS_FILE", str(tmp_path / "none.toml"))
    demo_users = read_toml(config_dir / "demo.toml")["users"]
    asyncio.run(ensure_demo_data(fresh_db_url, demo_users))  # what `switchboard demo` leaves behind
    monkeypatch.setenv("SWITCHBOARD_VIBER_TOKEN", VIBER_PUBLISHED)

    found = [str(r) for r in refusals(Settings.load(config_dir), fresh_db_url)]
    assert any("viber: token is a published sandbox value" in r for r in found), found
    assert any(r.startswith("telegram: no token") and "SWITCHBOARD_TELEGRAM_TOKEN" in r for r in found), found
    assert any("user admin still has the demo password" in r and "switchboard users passwd admin" in r
               for r in found), found
    for source in ("site_chat", "contact_form", "mobile_app"):
        assert any(f"API source {source} accepts the sandbox's key" in r for r in found), found

    # the configuration says it is a demo: all of it is allowed
    engine_toml = config_dir / "engine.toml"
    engine_toml.write_text(engine_toml.read_text().replace("[engine]\n", "[engine]\ndemo = true\n", 1))
    assert refusals(Settings.load(config_dir), fresh_db_url) == []
    engine_toml.write_text(engine_toml.read_text().replace("demo = true\n", ""))

    fresh_secrets(monkeypatch)

    async def replace_demo_secrets() -> None:
        from crm_core import user_admin
        from crm_core.password_policy import PasswordPolicy

        engine = async_engine(fresh_db_url, pool_size=1)
        async with engine.begin() as conn:
            for number, user in enumerate(demo_users):
                user_id = await user_admin.user_id_of(conn, user["login"])
                await user_admin.reset_password(conn, "test", user_id, f"{STRONG}-{number}", PasswordPolicy())
            for source in ("site_chat", "contact_form", "mobile_app"):
                await api_keys.rotate_key(conn, source, "test")
        await engine.dispose()

    asyncio.run(replace_demo_secrets())
    assert refusals(Settings.load(config_dir), fresh_db_url) == []


def test_a_secret_written_in_a_committed_file_is_refused(fresh_db_url, config_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    monkeypatch.setenv("SWITCHBOARD_SECRETS_FILE", str(tmp_path / "none.toml"))
    fresh_secrets(monkeypatch)
    monkeypatch.delenv("SWITCHBOARD_VIBER_TOKEN")
    viber = config_dir / "channels" / "viber.toml"
    viber.write_text(viber.read_text().replace('token = ""', 'token = "abcdefabcdef0123-a-real-looking-token"'))
    found = [str(r) for r in refusals(Settings.load(config_dir), fresh_db_url)]
    assert found == [f"{viber}: token is written in the committed file: set SWITCHBOARD_VIBER_TOKEN or "
                     "[viber] token in the secrets file, or enabled = false"]


def test_switchboard_run_on_demo_data_exits_with_the_reasons_before_starting_anything(
        switchboard, fresh_db_url, config_dir, monkeypatch):
    asyncio.run(ensure_demo_data(fresh_db_url, read_toml(config_dir / "demo.toml")["users"]))
    fresh_secrets(monkeypatch)
    code, out, _ = switchboard("--config", str(config_dir), "run")
    assert code == 2
    assert "Switchboard will not start" in out and "user admin still has the demo password" in out
    assert "Switchboard is running" not in out


async def test_the_api_channel_refuses_a_rotated_key_at_once_and_takes_the_new_one(engine, web):
    body = {"thread": "t-rotate", "dedupe_key": "d-1", "from": {"kind": "app", "value": "dev-1"}, "text": "Є газ?"}
    assert (await web.post("/api/v1/inbound/mobile_app", json=body,
                           headers={"X-Api-Key": "sandbox-app-key"})).status == 202
    async with engine.db.begin() as conn:
        issued = await api_keys.rotate_key(conn, "mobile_app", "test")
    refused = await web.post("/api/v1/inbound/mobile_app", json={**body, "dedupe_key": "d-2"},
                             headers={"X-Api-Key": "sandbox-app-key"})
    assert refused.status == 401 and (await refused.json())["error"] == "invalid_api_key"
    accepted = await web.post("/api/v1/inbound/mobile_app", json={**body, "dedupe_key": "d-3"},
                              headers={"X-Api-Key": issued.key})
    assert accepted.status == 202
    async with engine.db.connect() as conn:
        keys = await api_keys.list_keys(conn, "mobile_app")
    assert [k.active for k in keys] == [False, True]
