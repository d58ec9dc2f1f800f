"""The agent desktop and the supervisor wall in headless Chromium: log in, switch state, take an offer,
work the conversation; the wall updates live, shows itself stale when the feed drops and catches up
after a reconnect without a reload."""

from __future__ import annotations

from aiohttp import ClientSession

from actors.messages import GetAgent
from actors.runtime import ActorRef
from dashboards.context import GATEWAY
from tests.support.engine import add_client

SITE_KEY = {"X-Api-Key": "sandbox-webchat-key"}


async def post_chat(site, thread: str, text: str, phone: str, n: int = 1) -> None:
    async with ClientSession() as http:
        response = await http.post(site.make_url("/api/v1/inbound/site_chat"), headers=SITE_KEY, json={
            "thread": thread, "dedupe_key": f"{thread}-{n}", "from": {"kind": "phone", "value": phone}, "text": text})
        assert response.status == 202


async def test_agent_logs_in_takes_an_offer_and_replies(engine, site, browser, sign_in):
    await add_client(engine, "Мельник Ірина Василівна", "+380931112233")
    agent_id = await sign_in("cc_operator")
    assert await browser.js("location.pathname") == "/desktop"
    assert await browser.text("#menu-desktop") == "Робоче місце"  # Ukrainian by default

    await browser.click("#go-available")
    await browser.wait_for("document.querySelector('#state').dataset.state === 'available'")
    await post_chat(site, "b-1", "Коли буде світло?", "+380931112233")
    await browser.wait_for("document.querySelector('[data-offer] .accept')")
    assert ":" in await browser.text("[data-offer] .offer-left")  # remaining time counting down
    await browser.click("[data-offer] .accept")
    await browser.wait_for("document.querySelector('#messages') && document.querySelector('#messages').textContent.includes('Коли буде світло?')")
    await browser.wait_for("document.querySelector('#card-name').textContent === 'Мельник Ірина Василівна'")
    assert await browser.wait_for("document.querySelector('#sla-timer') && document.querySelector('#sla-timer').textContent.length > 0")

    await browser.fill("#reply-text", "Роботи завершать до 18:00")
    await post_chat(site, "b-1", "Дякую, чекаю", "+380931112233", n=2)  # the thread is drawn again live
    await browser.wait_for("document.querySelector('#messages').textContent.includes('Дякую, чекаю')")
    assert await browser.js("document.querySelector('#reply-text').value") == "Роботи завершать до 18:00"
    await browser.click("#send")
    await browser.wait_for("document.querySelector('#messages').textContent.includes('Роботи завершать до 18:00')")
    await browser.click("#go-break")
    await browser.wait_for("document.querySelector('#state').dataset.state === 'break'")
    view = await engine.system.ask(ActorRef("agent", str(agent_id)), GetAgent())
    assert view["state"] == "break"


async def test_language_switch_to_english(engine, site, browser, sign_in):
    await sign_in("supervisor")
    await browser.js("(s => { s.value = 'en'; s.dispatchEvent(new Event('change')); })(document.querySelector('#lang'))")
    await browser.wait_for("document.querySelector('#menu-desktop') && document.querySelector('#menu-desktop').textContent === 'Desktop'")


async def test_wall_updates_live_goes_stale_and_catches_up_after_reconnect(engine, site, browser, sign_in):
    await sign_in("supervisor")
    await browser.goto(str(site.make_url("/wall")))
    await browser.wait_for("document.body.dataset.live === '1'")
    await engine.hub.publish([{"type": "agent", "id": "4001", "agent_id": 4001,
                               "state": {"name": "Бондар", "state": "available", "since": 0, "load": {}, "queues": []}}])
    await browser.wait_for("document.querySelector('[data-agent=\"4001\"] .agent-state')")
    assert await browser.text("[data-agent='4001'] .agent-state") == "Доступний"

    # the stream drops (proxy restart, network blip); meanwhile the state changes
    for connection in list(site.runner.server.connections):
        connection.transport.close()
    await engine.hub.publish([{"type": "agent", "id": "4001", "agent_id": 4001,
                               "state": {"name": "Бондар", "state": "break", "since": 0, "load": {}, "queues": []}},
                              {"type": "queue", "id": "sandbox_queue", "state": {"waiting_count": 7, "longest_wait_s": 42,
                                                                          "stats": {"offered": 4, "answered": 3}}}])
    await browser.wait_for("document.querySelector('[data-agent=\"4001\"] .agent-state').dataset.state === 'break'", 20)
    await browser.wait_for("document.querySelector('[data-queue=\"sandbox_queue\"] .waiting').textContent === '7'")
    assert await browser.js("SB.snapshots") == 1  # caught up from Last-Event-ID, not by reloading the snapshot
    assert await browser.js("performance.getEntriesByType('navigation').length") == 1  # and not by a page reload

    # the engine's feed stops: the wall must not pretend to be live
    relay = site.app[GATEWAY].relay
    await relay.stop()
    relay.healthy = False
    await browser.wait_for("document.body.classList.contains('stale')")
    await relay.start()
    await engine.hub.publish([{"type": "queue", "id": "sandbox_queue", "state": {"waiting_count": 2, "stats": {}}}])
    await browser.wait_for("!document.body.classList.contains('stale')")
    await browser.wait_for("document.querySelector('[data-queue=\"sandbox_queue\"] .waiting').textContent === '2'")


async def test_operator_is_kept_off_the_wall(engine, site, browser, sign_in):
    await sign_in("cc_operator")
    # the menu is drawn (the desktop entry is there) and, after any redirect, has no wall entry
    await browser.wait_for("document.readyState === 'complete' && document.querySelector('#menu-desktop')")
    assert await browser.js("document.querySelector('#menu-wall') === null")
    await browser.goto(str(site.make_url("/wall")))
    await browser.wait_for("location.pathname === '/desktop'")
