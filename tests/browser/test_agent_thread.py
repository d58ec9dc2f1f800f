"""The agent's thread in headless Chromium at 1366x768 (SR-07, CM-07): a long chat scrolls inside its own
pane while the composer stays on screen; client, agent and note bubbles look different; a message that
arrives while the agent reads back is counted on a "new messages" marker instead of yanking the view;
Ctrl+Enter sends; after a reload the open conversation is open again."""

from __future__ import annotations

from tests.browser.screens import NO_SIDEWAYS_SCROLL, post_chat, screenshot, window
from tests.support.engine import add_client, conversation_id_of

PHONE = "+380931239900"
LONG = 60


async def test_a_long_thread_scrolls_in_its_pane_marks_new_messages_and_survives_a_reload(engine, site, browser, sign_in, tmp_path):
    await window(browser)
    await add_client(engine, "Литвин Ольга Романівна", PHONE)
    await sign_in("cc_operator")
    await browser.click("#go-available")
    await browser.wait_for("document.querySelector('#state').dataset.state === 'available'")
    await post_chat(site, "long-1", "Повідомлення 0", PHONE)
    await browser.wait_for("document.querySelector('[data-offer] .accept')")
    await browser.click("[data-offer] .accept")
    await browser.wait_for("document.querySelector('#messages')")
    for n in range(1, LONG):
        await post_chat(site, "long-1", f"Повідомлення {n} " + "довгий текст " * 8, PHONE, n=n + 1)
    await browser.wait_for(f"document.querySelectorAll('#messages .msg').length === {LONG}", 30)

    # the thread scrolls inside its pane; the page does not grow with it and the composer is on screen
    assert await browser.js("(m => m.scrollHeight > m.clientHeight * 2)(document.querySelector('#messages'))")
    assert await browser.js("document.querySelector('#reply-text').getBoundingClientRect().bottom <= window.innerHeight")
    assert await browser.js("document.querySelector('#send').getBoundingClientRect().bottom <= window.innerHeight")
    # following the newest message: the pane sits at its bottom
    assert await browser.js("(m => m.scrollHeight - m.scrollTop - m.clientHeight < 40)(document.querySelector('#messages'))")

    # Ctrl+Enter sends; the agent's bubble looks unlike the client's
    await browser.fill("#reply-text", "Перевіримо і передзвонимо")
    await browser.js("document.querySelector('#reply-text').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', ctrlKey: true, bubbles: true}))")
    await browser.wait_for("document.querySelector('#messages .msg.from-agent')")
    assert "Перевіримо і передзвонимо" in await browser.text("#messages .msg.from-agent")
    assert await browser.js("document.querySelector('#reply-text').value") == ""
    await browser.fill("#reply-text", "Клієнт просив не дзвонити до 10:00")
    await browser.click("#add-note")
    await browser.wait_for("document.querySelector('#messages .msg.from-note')")
    colours = await browser.js("['from-client', 'from-agent', 'from-note'].map(k => getComputedStyle(document.querySelector('#messages .msg.' + k)).backgroundColor)")
    assert len(set(colours)) == 3
    agent_author = await browser.text("#messages .msg.from-agent .author")
    assert agent_author == "Тест cc_operator"  # by name, not agent:<id>

    # reading back: a new message does not move the view, the marker counts it
    await browser.js("document.querySelector('#messages').scrollTop = 0")
    await post_chat(site, "long-1", "Ви ще тут?", PHONE, n=LONG + 1)
    await browser.wait_for("document.querySelector('#new-messages') && !document.querySelector('#new-messages').hidden", 20)
    assert await browser.js("document.querySelector('#messages').scrollTop") < 50
    assert await browser.text("#new-messages") == "Нові повідомлення: 1 ↓"
    await screenshot(browser, tmp_path, "desktop-thread-1366x768")
    await browser.click("#new-messages")
    assert await browser.js("(m => m.scrollHeight - m.scrollTop - m.clientHeight < 40)(document.querySelector('#messages'))")
    assert await browser.js("document.querySelector('#new-messages').hidden")
    assert await browser.js(NO_SIDEWAYS_SCROLL)

    number = await browser.text("#ticket-number")
    await browser.goto(str(site.make_url("/desktop")))
    await browser.wait_for(f"document.querySelector('#ticket-number') && document.querySelector('#ticket-number').textContent === {number!r}", 20)
    await browser.wait_for("document.querySelector('#messages').textContent.includes('Ви ще тут?')")


async def test_the_conversation_list_counts_unread_messages_and_shows_the_last_one(engine, site, browser, sign_in):
    await window(browser)
    await add_client(engine, "Руденко Анна Сергіївна", "+380931239901")
    await add_client(engine, "Кравець Юрій Богданович", "+380931239902")
    await sign_in("cc_operator")
    await browser.click("#go-available")
    await browser.wait_for("document.querySelector('#state').dataset.state === 'available'")
    for thread, phone, words in (("two-a", "+380931239901", "Перше звернення"), ("two-b", "+380931239902", "Друге звернення")):
        await post_chat(site, thread, words, phone)
        await browser.wait_for("document.querySelector('[data-offer] .accept')", 20)
        await browser.click("[data-offer] .accept")
        await browser.wait_for(f"document.querySelector('#messages') && document.querySelector('#messages').textContent.includes('{words}')")
    first = f"[data-conversation='{await conversation_id_of(engine, 'webchat:site_chat:two-a')}']"
    await browser.click(f"{first} a")
    await browser.wait_for("document.querySelector('#messages').textContent.includes('Перше звернення')")

    await post_chat(site, "two-b", "Є новини?", "+380931239902", n=2)
    await post_chat(site, "two-b", "Чекаю відповіді", "+380931239902", n=3)
    second = f"[data-conversation='{await conversation_id_of(engine, 'webchat:site_chat:two-b')}']"
    await browser.wait_for(f"document.querySelector(\"{second} .unread\") && document.querySelector(\"{second} .unread\").textContent === '2'", 20)
    assert await browser.text(f"{second} .preview") == "Клієнт: Чекаю відповіді"
    assert await browser.js(f"document.querySelector(\"{first} .unread\")") is None  # the open one has nothing unread
    await browser.click(f"{second} a")
    await browser.wait_for("document.querySelector('#messages').textContent.includes('Чекаю відповіді')")
    assert await browser.js(f"document.querySelector(\"{second} .unread\")") is None
    assert await browser.js(f"document.querySelector(\"{second}\").classList.contains('current')")


async def test_a_new_offer_is_announced_once_by_a_browser_notification_with_its_first_message(engine, site, browser, sign_in):
    await add_client(engine, "Зінченко Олег Павлович", "+380931239903")
    await sign_in("cc_operator")
    # until the agent answers the browser's question, the desktop offers to ask it
    await browser.wait_for("document.querySelector('#go-available').onclick")
    assert await browser.js("document.querySelector('#enable-notifications').hidden") is False
    origin = str(site.make_url("/")).rstrip("/")
    await browser.send("Browser.grantPermissions", {"permissions": ["notifications"], "origin": origin}, session=False)
    await browser.goto(str(site.make_url("/desktop")))
    await browser.wait_for("document.querySelector('#go-available').onclick")
    assert await browser.js("document.querySelector('#enable-notifications').hidden")  # answered: not asked again
    await browser.js("window.shown = []; window.Notification = class extends Notification {"
                     " constructor(title, options) { super(title, options); window.shown.push([title, options.body]); } }")
    await browser.click("#go-available")
    await browser.wait_for("document.querySelector('#state').dataset.state === 'available'")
    await post_chat(site, "notice-1", "Коли відновлять подачу газу?", "+380931239903")
    await browser.wait_for("window.shown.length === 1", 20)
    title, body = (await browser.js("window.shown"))[0]
    assert title == "Нове звернення: Веб-чат · Загальна"  # the channel and the queue by name
    assert body == "Коли відновлять подачу газу?"
    assert "Коли відновлять подачу газу?" in await browser.text("[data-offer] .offer-preview")
    await browser.js("new Promise(r => setTimeout(r, 1500))")  # the countdown redraws the card; no second notice
    assert await browser.js("window.shown.length") == 1
