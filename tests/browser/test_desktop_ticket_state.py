"""The desktop shows the server's state after a status change: On Hold the SLA timer says paused and
stands still (the server paused the clocks), and a closed ticket is shown closed, read only, instead of
an error."""

from __future__ import annotations

import asyncio

from tests.browser.test_browser_pages import post_chat
from tests.support.engine import add_client

TIMER = "document.querySelector('#sla-timer') && document.querySelector('#sla-timer').textContent"


async def choose_status(browser, status: str) -> None:
    await browser.js(f"(s => {{ s.value = '{status}'; }})(document.querySelector('#status-form select'))")
    await browser.click("#status-form button")


async def test_on_hold_pauses_the_timer_and_a_closed_ticket_shows_closed(engine, site, browser, sign_in):
    await add_client(engine, "Бойко Оксана Петрівна", "+380931114455")
    await sign_in("cc_operator")
    assert await browser.js("location.pathname") == "/desktop"
    assert await browser.text("#menu-desktop") == "Робоче місце"
    await browser.click("#go-available")
    await browser.wait_for("document.querySelector('#state').dataset.state === 'available'")
    await post_chat(site, "hold-1", "Питання щодо договору", "+380931114455")
    await browser.wait_for("document.querySelector('[data-offer] .accept')")
    await browser.click("[data-offer] .accept")
    await browser.wait_for(f"{TIMER} && {TIMER}.length > 0")

    await choose_status(browser, "on_hold")
    await browser.wait_for(f"{TIMER} && {TIMER}.includes('призупинено')")
    before = await browser.js(TIMER)
    await asyncio.sleep(2.2)
    assert await browser.js(TIMER) == before  # stands still while paused

    await choose_status(browser, "resolved")
    await browser.wait_for("document.querySelector('#ticket-status').textContent === 'Вирішене'")
    await choose_status(browser, "closed")
    await browser.wait_for("document.querySelector('#closed') !== null")
    assert await browser.js("document.querySelector('#reply-text')") is None
