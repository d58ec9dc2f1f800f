"""The web chat widget in headless Chromium: the one-line embed on the gateway's demo page and on
another site's page (cross-origin, in English); the visitor types and sends, the agent's reply through
the conversation actor appears live, a dropped stream catches up without a reload, and a reload shows
the transcript."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
from aiohttp import web
from sqlalchemy import text

from actors import messages as m
from actors.runtime import ActorRef
from dashboards.routes.webchat import WEBCHAT
from tests.integration.dashboards.conftest import make_user
from tests.support.engine import add_client, eventually

SHADOW = "document.querySelector('#sb-webchat').shadowRoot"


def inside(selector: str) -> str:
    return f"{SHADOW}.querySelector({json.dumps(selector)})"


def log_has(text_: str) -> str:
    return f"[...{SHADOW}.querySelectorAll('.msg.theirs .text')].some(n => n.textContent === {json.dumps(text_)})"


async def type_and_send(browser, message: str) -> None:
    await browser.js(f"(t => {{ t.value = {json.dumps(message)}; t.dispatchEvent(new Event('input')); }})"
                     f"({inside('textarea')})")
    await browser.js(f"{inside('.send')}.click()")
    await browser.wait_for(f"[...{SHADOW}.querySelectorAll('.msg.mine')].some(n => n.dataset.state === 'sent'"
                           f" && n.querySelector('.text').textContent === {json.dumps(message)})")


async def open_widget(browser, url: str) -> None:
    await browser.goto(url)
    await browser.wait_for("document.querySelector('#sb-webchat') && document.querySelector('#sb-webchat').dataset.ready")
    await browser.js(f"{inside('.launcher')}.click()")
    await browser.wait_for(f"!{inside('.panel')}.hidden")


async def thread_of_ticket(engine) -> str | None:
    async with engine.db.connect() as conn:
        return (await conn.execute(text(
            "SELECT c.thread_key FROM conversations c JOIN tickets t ON t.id = c.ticket_id"
            " WHERE c.channel = 'webchat' ORDER BY t.id DESC LIMIT 1"))).scalar()


async def reply(engine, agent_id: int, thread_key: str, text_: str) -> None:
    await engine.system.ask(ActorRef("conversation", thread_key),
                            m.Reply(agent_id, text_, f"reply:{agent_id}:{uuid.uuid4().hex[:8]}"))


@pytest.fixture
async def utility_site(site):
    """Another site (the utility's personal cabinet) embedding the widget from the gateway, in English."""
    gateway = str(site.make_url("")).rstrip("/")
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cabinet</title></head><body>'
            f'<h1>Personal cabinet</h1><script src="{gateway}/static/widget/widget.js" data-source="site_chat"'
            f' data-lang="en" async></script></body></html>')
    app = web.Application()
    app.router.add_get("/", lambda request: web.Response(text=page, content_type="text/html"))
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = runner.addresses[0][1]
    desk = site.app[WEBCHAT]
    desk.settings = dataclasses.replace(desk.settings, allowed_origins=frozenset({f"http://127.0.0.1:{port}"}))
    yield f"http://127.0.0.1:{port}/"
    await runner.cleanup()


async def test_demo_page_visitor_sends_and_sees_the_agents_reply_live(engine, site, browser):
    await add_client(engine, "Литвиненко Оксана Петрівна", "+380672223344")
    agent_id, _ = await make_user(engine, "cc_operator")
    await open_widget(browser, str(site.make_url("/static/widget-demo.html")))
    assert await browser.js(f"{inside('h2')}.textContent") == "Чат з підтримкою"  # Ukrainian by default
    await browser.js(f"{inside('input[name=phone]')}.value = '+380672223344'")

    await type_and_send(browser, "Добрий день! Коли відновлять газопостачання?")
    thread_key = await eventually(lambda: thread_of_ticket(engine))
    await reply(engine, agent_id, thread_key, "Аварійні роботи завершать до 16:00")
    await browser.wait_for(log_has("Аварійні роботи завершать до 16:00"))

    # with the panel closed a new reply shows as an unread badge
    await browser.js(f"{inside('.close')}.click()")
    await reply(engine, agent_id, thread_key, "Дякуємо за звернення")
    await browser.wait_for(f"!{inside('.badge')}.hidden && {inside('.badge')}.textContent === '1'")
    await browser.js("SwitchboardChat.open()")
    assert await browser.js(f"{inside('.badge')}.hidden")
    assert await browser.js(f"{SHADOW}.querySelectorAll('.msg.theirs').length") == 2  # each reply once


async def test_widget_on_another_site_catches_up_after_a_drop_and_keeps_the_transcript(
        engine, site, browser, utility_site):
    agent_id, _ = await make_user(engine, "cc_operator")
    await open_widget(browser, utility_site)
    assert await browser.js(f"{inside('.send')}.textContent") == "Send"
    await type_and_send(browser, "My meter reading is 04512")
    thread_key = await eventually(lambda: thread_of_ticket(engine))
    await reply(engine, agent_id, thread_key, "Reading received, thank you")
    await browser.wait_for(log_has("Reading received, thank you"))

    # the stream drops (a proxy restart); the agent answers meanwhile; the widget catches up by itself
    for connection in list(site.runner.server.connections):
        connection.transport.close()
    await reply(engine, agent_id, thread_key, "Your next bill will include it")
    await browser.wait_for(log_has("Your next bill will include it"), 20)
    assert await browser.js("document.querySelector('#sb-webchat').dataset.snapshots") == "1"  # resumed, not reloaded

    # a reload of the page shows the conversation so far, from the gateway
    await open_widget(browser, utility_site)
    await browser.wait_for(log_has("Your next bill will include it"))
    texts = await browser.js(f"[...{SHADOW}.querySelectorAll('.msg .text')].map(n => n.textContent)")
    assert texts == ["My meter reading is 04512", "Reading received, thank you", "Your next bill will include it"]
