"""The demo's sandbox peers on their own (no engine): each channel's table points at its running peer, and
without Dovecot the e-mail channel is skipped with one clear log line instead of failing the demo."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from actors.demo.sandboxes import SandboxPeers
from actors.settings import Settings
from channels.sandbox.mail import DovecotServer

GATEWAY = "http://127.0.0.1:1"


def peers_for(names: tuple[str, ...], tmp_path) -> SandboxPeers:
    channels = Settings.load().channels
    return SandboxPeers({name: channels[name] for name in names}, ["1001", "1002"], ["1001", "1002", "1005"], [],
                        tmp_path / "run", run=7)


async def test_without_dovecot_email_is_skipped_with_one_log_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(DovecotServer, "available", classmethod(lambda cls: False))
    peers = peers_for(("email", "telegram"), tmp_path)
    with caplog.at_level(logging.WARNING, logger="actors.demo.sandboxes"):
        await peers.start()
    try:
        assert set(peers.channel_tables(GATEWAY)) == {"telegram"}
        assert "Dovecot is not installed" in peers.skipped["email"]
        assert [r.getMessage() for r in caplog.records] == [f"demo: email channel skipped: {peers.skipped['email']}"]
    finally:
        await peers.stop()


async def test_channel_tables_point_at_the_running_peers(tmp_path):
    peers = peers_for(("telegram", "viber", "voice"), tmp_path)
    await peers.start()
    try:
        tables = peers.channel_tables(GATEWAY)
        assert tables["viber"]["public_webhook_url"] == f"{GATEWAY}/webhooks/viber"
        assert tables["voice"]["mode"] == "observe"
        async with aiohttp.ClientSession() as session:
            telegram = tables["telegram"]
            async with session.post(f"{telegram['api_url']}/bot{telegram['token']}/getMe") as response:
                assert (await response.json())["ok"] is True
            viber = tables["viber"]
            async with session.post(f"{viber['api_url']}/get_account_info", json={"auth_token": viber["token"]}) as response:
                assert (await response.json())["status"] == 0
        from channels.voice import build

        voice = build(tables["voice"])

        async def sink(item):
            return None

        await voice.start(sink)
        try:
            await peers.peers["voice"].pbx.wait_for_login(timeout=10)
        finally:
            await voice.stop()
    finally:
        await peers.stop()
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not DovecotServer.available(), reason="Dovecot is not installed")
async def test_mail_peer_serves_imap_with_the_table_it_gives(tmp_path):
    import aioimaplib

    peers = peers_for(("email",), tmp_path)
    await peers.start()
    try:
        imap = peers.channel_tables(GATEWAY)["email"]["imap"]
        assert "password_env" not in imap
        client = aioimaplib.IMAP4(host=imap["host"], port=imap["port"], timeout=10)
        await client.wait_hello_from_server()
        assert (await client.login(imap["user"], imap["password"])).result == "OK"
        await client.logout()
    finally:
        await peers.stop()


def test_gateway_port_is_the_configured_one_unless_it_is_taken():
    import socket

    from actors.demo import gateway_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = gateway_port("127.0.0.1", port)
        assert other != port and other > 0
    assert gateway_port("127.0.0.1", other) == other


def test_a_later_run_numbers_past_an_earlier_one_and_brings_new_chat_users(tmp_path):
    from actors.demo.peers import IDS_PER_SECOND, TelegramPeer, ViberPeer

    channels = Settings.load().channels
    earlier_tg, later_tg = (TelegramPeer(channels["telegram"], [], run) for run in (1_000, 1_001))
    earlier_ids = [earlier_tg.sandbox.user_sends_text(earlier_tg.users[0], "Добрий день")["update_id"]
                   for _ in range(IDS_PER_SECOND)]
    assert later_tg.sandbox.user_sends_text(later_tg.users[0], "Добрий день")["update_id"] > max(earlier_ids)
    assert not {u.id for u in earlier_tg.users} & {u.id for u in later_tg.users}

    earlier_vb, later_vb = (ViberPeer(channels["viber"], [], run, tmp_path) for run in (1_000, 1_001))
    earlier_tokens = [earlier_vb.sandbox.next_token() for _ in range(IDS_PER_SECOND)]
    assert later_vb.sandbox.next_token() > max(earlier_tokens)
    assert not {u.id for u in earlier_vb.users} & {u.id for u in later_vb.users}
