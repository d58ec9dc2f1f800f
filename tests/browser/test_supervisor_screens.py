"""A supervisor's screens in headless Chromium at 1366x768 (SR-07, SR-09, SR-11): after login the wall,
escalations at its top, each opening its ticket page; the ticket list found by a client's name and
narrowed by pickers, page by page; the ticket page with its thread and a timeline naming who did what;
the audit log filtered by who made the change.  No page scrolls sideways; each is photographed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import ClientSession
from sqlalchemy import text

from tests.browser.screens import NO_SIDEWAYS_SCROLL, post_chat, screenshot, window
from tests.integration.dashboards.conftest import PASSWORD, make_user
from tests.support.engine import add_client, eventually


async def billing_operator(engine, site) -> int:
    """An available operator of the billing queue only: on the wall by name, never offered the general queue's
    ticket by the engine, so only the supervisor's reassignment brings it to them."""
    user_id, login = await make_user(engine, "cc_operator", queues=("billing",))
    async with engine.db.begin() as conn:
        await conn.execute(text("UPDATE users SET full_name = 'Бондар Іван Петрович' WHERE id = :i"), {"i": user_id})
    async with ClientSession() as http:
        logged = await http.post(site.make_url("/api/v1/auth/login"), json={"login": login, "password": PASSWORD})
        token = (await logged.json())["token"]
        state = await http.post(site.make_url("/api/v1/agents/me/state"), json={"state": "available"},
                                headers={"Authorization": f"Bearer {token}"})
        assert state.status == 200, await state.text()
    return user_id


async def ticket_number(engine, phone: str) -> str:
    async def probe():
        async with engine.db.connect() as conn:
            return (await conn.execute(text("SELECT number FROM tickets WHERE sender = :p"), {"p": phone})).scalar()
    return await eventually(probe, 20)


async def test_supervisor_lands_on_the_wall_and_opens_an_escalations_ticket(engine, site, browser, sign_in, tmp_path):
    await window(browser)
    await add_client(engine, "Олійник Галина Степанівна", "+380931230001")
    await post_chat(site, "wall-1", "Третій день немає газу", "+380931230001")
    number = await ticket_number(engine, "+380931230001")
    await sign_in("supervisor")
    await browser.wait_for("location.pathname === '/wall'")  # not the agent desktop
    await browser.wait_for("document.body.dataset.live === '1'")

    await engine.hub.publish([{"type": "escalation", "id": f"{number}:first_response", "agent_id": None,
                               "state": {"ticket": number, "clock": "first_response", "kind": "escalation", "level": 1,
                                         "queue": "billing", "priority": "high"}}])
    link = f"[data-escalation='{number}:first_response'] a.ticket-link"
    await browser.wait_for(f"document.querySelector({link!r})")
    # escalations come first, above the queues, agents and tickets of the supervisor's default layout
    assert await browser.js("document.querySelector('#widgets section').dataset.widget") == "escalations"
    row = await browser.text(f"[data-escalation='{number}:first_response']")
    assert "Розрахунки та оплати" in row and "billing" not in row  # the queue by its name
    assert "перша відповідь" in row
    await browser.wait_for("document.querySelector('[data-widget=queues] .queue-name')")
    assert await browser.js("[...document.querySelectorAll('[data-widget=queues] .queue-name')].every(n => !/^[a-z_]+$/.test(n.textContent))")


    # the open tickets name their queue; a reassignment picks the agent by name
    operator_id = await billing_operator(engine, site)
    row = f"[data-widget=tickets] tr[data-ticket='{number}']"
    await browser.wait_for(f"document.querySelector(\"{row} .queue-name\")", 20)
    assert await browser.text(f"{row} .queue-name") == "Загальна"
    picker = f"{row} select.reassign"
    await browser.wait_for(f"[...(document.querySelector(\"{picker}\") || {{options: []}}).options].some(o => o.value === '{operator_id}')", 20)
    label = await browser.js(f"[...document.querySelector(\"{picker}\").options].find(o => o.value === '{operator_id}').textContent")
    assert label == "Бондар Іван Петрович · Доступний"
    await browser.js(f"(s => {{ s.value = '{operator_id}'; s.dispatchEvent(new Event('change')); }})(document.querySelector(\"{picker}\"))")
    async def assigned():
        async with engine.db.connect() as conn:
            return (await conn.execute(text("SELECT agent_id FROM tickets WHERE number = :n"), {"n": number})).scalar() == operator_id
    await eventually(assigned, 20)
    await browser.wait_for(f"document.querySelector(\"{row} .agent-name\") && "
                           f"document.querySelector(\"{row} .agent-name\").textContent === 'Бондар Іван Петрович'", 20)
    # the agent grid: by name, load against capacity per kind of work (no "?" where the capacity is known)
    load = f"[data-agent='{operator_id}'] .agent-load"
    await browser.wait_for(f"document.querySelector(\"{load}\").textContent.includes('Чати 1/3')", 20)  # routing.toml: chat = 3
    assert await browser.text(load) == "Дзвінки 0/1, Чати 1/3, Листи 0/5"
    assert await browser.js(NO_SIDEWAYS_SCROLL)
    await screenshot(browser, tmp_path, "wall-1366x768")

    # a live refresh swaps the tickets table whole: it is never drawn empty in between
    await browser.js("window.emptied = false; new MutationObserver(() => { if (!document.querySelector('[data-widget=tickets] tr[data-ticket]'))"
                     " window.emptied = true; }).observe(document.querySelector('#widgets'), {childList: true, subtree: true})")
    await add_client(engine, "Гайова Тетяна Ігорівна", "+380931230009")
    await post_chat(site, "wall-2", "Лічильник не працює", "+380931230009")
    other = await ticket_number(engine, "+380931230009")
    await browser.wait_for(f"document.querySelector(\"[data-widget=tickets] tr[data-ticket='{other}']\")", 20)
    assert await browser.js("window.emptied") is False

    await browser.click(link)
    await browser.wait_for("location.pathname.startsWith('/tickets/') && document.body.dataset.ready === '1'")
    assert await browser.text("#ticket-number") == f"Звернення {number}"
    assert "Третій день немає газу" in await browser.text("#ticket-thread")
    assert await browser.js("document.querySelector('#ticket-thread .msg').dataset.direction") == "in"
    timeline = await browser.text("#timeline")
    assert "Звернення створено" in timeline and "Система" in timeline
    # the reassignment is on the timeline with who did it and to whom, by name
    assert "Тест supervisor" in timeline and "Бондар Іван Петрович" in timeline
    assert await browser.text("#ticket-agent b") == "Бондар Іван Петрович"
    assert await browser.wait_for("document.querySelector('#card-name') && document.querySelector('#card-name').textContent === 'Олійник Галина Степанівна'")
    assert await browser.js(NO_SIDEWAYS_SCROLL)
    await screenshot(browser, tmp_path, "ticket-1366x768")

    # the reports name the agent, and their pickers are queues and people by name
    await browser.goto(str(site.make_url("/reports")))
    await browser.wait_for(f"document.querySelector('#agents tr[data-agent=\"{operator_id}\"]')", 20)
    assert await browser.text(f"#agents tr[data-agent='{operator_id}'] .agent-name") == "Бондар Іван Петрович"
    queues = await browser.js("[...document.querySelectorAll('#report-form select[name=queue] option')].map(o => o.textContent)")
    assert "Загальна" in queues and "general" not in queues
    assert await browser.js(NO_SIDEWAYS_SCROLL)

    # at 1440x900 the wall does not scroll sideways either
    await window(browser, 1440, 900)
    await browser.goto(str(site.make_url("/wall")))
    await browser.wait_for(f"document.querySelector(\"[data-widget=tickets] tr[data-ticket='{number}']\")", 20)
    assert await browser.js(NO_SIDEWAYS_SCROLL)

    # a ticket that does not exist: the page says so in words, not with a code
    await browser.goto(str(site.make_url("/tickets/00-000000")))
    await browser.wait_for("document.querySelector('#ticket-missing')")
    assert await browser.text("#ticket-missing") == "Не знайдено"


async def test_ticket_list_is_searched_filtered_by_pickers_and_paged(engine, site, browser, sign_in, tmp_path):
    await window(browser)
    await add_client(engine, "Демченко Юлія Олександрівна", "+380931230002")
    await post_chat(site, "list-one", "Питання щодо тарифу", "+380931230002")
    for n in range(26):  # more than one page of 25
        await post_chat(site, f"list-{n}", f"Звернення {n}", f"+38093124{n:04d}")
    async def all_in():
        async with engine.db.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar() >= 27
    await eventually(all_in, 30)
    await sign_in("supervisor")
    await browser.goto(str(site.make_url("/tickets")))
    await browser.wait_for("document.body.dataset.ready === '1'")
    assert await browser.js("document.querySelectorAll('#ticket-list tbody tr').length") == 25
    assert await browser.text("#page-no") == "Сторінка 1"
    assert await browser.js(NO_SIDEWAYS_SCROLL)
    await screenshot(browser, tmp_path, "tickets-1366x768")
    first_page = await browser.js("[...document.querySelectorAll('#ticket-list tbody tr')].map(r => r.dataset.ticket)")
    await browser.click("#page-next")
    await browser.wait_for("document.querySelector('#page-no').textContent === 'Сторінка 2'")
    second_page = await browser.js("[...document.querySelectorAll('#ticket-list tbody tr')].map(r => r.dataset.ticket)")
    assert len(second_page) == 2 and not set(first_page) & set(second_page)
    assert await browser.js("document.querySelector('#page-next').disabled")

    # filters are pickers of the configured values, shown by their names
    assert await browser.js("document.querySelector('#ticket-search select[name=queue]').tagName") == "SELECT"
    queue_labels = await browser.js("[...document.querySelectorAll('#ticket-search select[name=queue] option')].map(o => o.textContent)")
    assert "Розрахунки та оплати" in queue_labels and "billing" not in queue_labels
    await browser.fill("#ticket-q", "Демченко")
    await browser.click("#ticket-search button.primary")
    await browser.wait_for("document.querySelectorAll('#ticket-list tbody tr').length === 1 && "
                           "document.querySelector('#ticket-list .client').textContent === 'Демченко Юлія Олександрівна'")
    assert "q=" in await browser.js("location.search")  # the search survives a reload
    await browser.js("(s => { s.value = 'closed'; s.dispatchEvent(new Event('change')); })(document.querySelector('#ticket-search select[name=status]'))")
    await browser.wait_for("document.querySelector('#no-tickets')")
    assert await browser.text("#no-tickets") == "Звернень не знайдено"

    # in English every label and value is English too: no Ukrainian left, no raw ids
    await browser.js("fetch('/api/v1/me/language', {method: 'POST', credentials: 'same-origin',"
                     " headers: {'Content-Type': 'application/json'}, body: JSON.stringify({lang: 'en'})})")
    await browser.goto(str(site.make_url("/tickets")))
    await browser.wait_for("document.body.dataset.ready === '1'")
    assert await browser.text("h1.page-title") == "Tickets"
    first_row = await browser.text("#ticket-list tbody tr")
    assert "General" in first_row and "New" in first_row and "Web chat" in first_row
    ukrainian = await browser.js("[...document.querySelectorAll('#ticket-search label > span, #ticket-search option, #ticket-search button,"
                                 " #ticket-list th')].filter(n => !n.closest('select[name=agent_id]') || !n.value)"
                                 ".map(n => n.textContent).filter(x => /[А-Яа-яІіЇїЄєҐґ]/.test(x))")
    assert ukrainian == []  # the agents' own names aside


async def test_audit_page_names_who_changed_what_and_filters_by_user(engine, site, browser, sign_in, tmp_path):
    await window(browser)
    await add_client(engine, "Савчук Ніна Миколаївна", "+380931230003")
    await post_chat(site, "audit-1", "Прошу перевірити показники", "+380931230003")
    number = await ticket_number(engine, "+380931230003")
    supervisor_id = await sign_in("supervisor")
    async def conversation_id():
        async with engine.db.connect() as conn:
            return (await conn.execute(text("SELECT conversation_id FROM tickets WHERE number = :n"), {"n": number})).scalar()
    key = await eventually(conversation_id, 20)
    changed = await browser.js(f"fetch('/api/v1/conversations/{key}/classification', {{method: 'POST', credentials: 'same-origin',"
                               " headers: {'Content-Type': 'application/json'}, body: JSON.stringify({priority: 'urgent'})}).then(r => r.status)")
    assert changed == 200

    await browser.goto(str(site.make_url("/audit")))
    await browser.wait_for("document.body.dataset.ready === '1'")
    await pick_user(browser, f"'agent:{supervisor_id}'")
    rows = await browser.js("[...document.querySelectorAll('#audit-list tbody tr[data-audit]')].map(r => r.textContent)")
    assert rows and all("Тест supervisor" in r for r in rows)  # by name, and only this user's changes
    reclassified = [r for r in rows if "Змінено класифікацію звернення" in r]
    assert reclassified and "Терміновий" in reclassified[0] and "urgent" not in reclassified[0]
    assert number in reclassified[0] and "site_chat" not in reclassified[0]  # the ticket by its number, not a thread key
    assert await browser.js(NO_SIDEWAYS_SCROLL)
    await screenshot(browser, tmp_path, "audit-1366x768")

    # by client: found by name in the picker, only that client's card changes are listed
    client_id = await add_client(engine, "Марченко Василь Тарасович", "+380931230004")
    for language in ("en", "uk"):
        version = await browser.js(f"fetch('/api/v1/clients/{client_id}').then(r => r.json()).then(c => c.client.version)")
        status = await browser.js(f"fetch('/api/v1/clients/{client_id}', {{method: 'PATCH', credentials: 'same-origin',"
                                  " headers: {'Content-Type': 'application/json'},"
                                  f" body: JSON.stringify({{version: {version}, language: '{language}', reason: 'на прохання клієнта'}})}}).then(r => r.status)")
        assert status == 200
    await pick_user(browser, "''")
    loads = await browser.js("Number(document.body.dataset.loads || 0)")
    await browser.fill("#audit-client-q", "Марченко")
    await browser.wait_for("document.querySelector('#audit-client-hits option')", 20)
    await browser.fill("#audit-client-q", await browser.js("document.querySelector('#audit-client-hits option').value"))
    await browser.wait_for(f"Number(document.body.dataset.loads || 0) > {loads}")
    rows = await browser.js("[...document.querySelectorAll('#audit-list tbody tr[data-audit]')].map(r => r.textContent)")
    assert len(rows) == 2 and all("Марченко Василь Тарасович" in r and "Тест supervisor" in r for r in rows)

    # by time, as the centre's clock reads: from a minute ago the changes are there, from a minute ahead none
    kyiv = datetime.now(ZoneInfo("Europe/Kyiv"))
    for moment, expected in ((kyiv - timedelta(minutes=1), 2), (kyiv + timedelta(minutes=1), 0)):
        loads = await browser.js("Number(document.body.dataset.loads || 0)")
        await browser.js(f"document.querySelector('#audit-filter input[name=since]').value = '{moment:%Y-%m-%dT%H:%M}'")
        await browser.click("#audit-filter button.primary")
        await browser.wait_for(f"Number(document.body.dataset.loads || 0) > {loads}")
        assert await browser.js("document.querySelectorAll('#audit-list tbody tr[data-audit]').length") == expected
    await browser.js("document.querySelector('#audit-filter input[name=since]').value = ''")

    # another user's filter shows none of these changes
    await pick_user(browser, "[...document.querySelector('#audit-user').options].find(o => o.value && !o.value.endsWith(':"
                    f"{supervisor_id}')).value")
    assert await browser.js("[...document.querySelectorAll('#audit-list .who')].every(n => n.textContent !== 'Тест supervisor')")


async def pick_user(browser, value_expression: str) -> None:
    loads = await browser.js("Number(document.body.dataset.loads || 0)")
    await browser.js(f"(s => {{ s.value = {value_expression}; s.dispatchEvent(new Event('change')); }})"
                     "(document.querySelector('#audit-user'))")
    await browser.wait_for(f"Number(document.body.dataset.loads || 0) > {loads}")
