"""Looking a ticket up and reading it (SR-02, SR-07, SR-11): one search box finds tickets by number, the
client's name, a phone in any spelling or an account number; the list names clients and agents; a
ticket's thread is read whole; people are named for pickers; the new pages are served by role."""

from __future__ import annotations

from sqlalchemy import text

from tests.support.engine import add_client, conversation_id_of, eventually

SITE_KEY = {"X-Api-Key": "sandbox-webchat-key"}


async def post_chat(web, thread: str, words: str, phone: str, n: int = 1) -> None:
    response = await web.post("/api/v1/inbound/site_chat", headers=SITE_KEY, json={
        "thread": thread, "dedupe_key": f"{thread}-{n}", "from": {"kind": "phone", "value": phone}, "text": words})
    assert response.status == 202, await response.text()


async def tickets(web, user, **query) -> list[dict]:
    response = await web.get("/api/v1/tickets", params=query, headers=user.headers)
    assert response.status == 200, await response.text()
    return (await response.json())["tickets"]


async def ticket_of(engine, phone: str) -> dict:
    async def probe():
        async with engine.db.connect() as conn:
            row = (await conn.execute(text("SELECT number, client_id FROM tickets WHERE sender = :p"), {"p": phone})).first()
        return dict(row._mapping) if row else None
    return await eventually(probe, 20)


async def test_one_search_box_finds_a_ticket_by_number_name_phone_and_account(engine, web, login_as):
    kovalenko = await add_client(engine, "Коваленко Марія Іванівна", "+380671110011")
    await add_client(engine, "Ткачук Петро Андрійович", "+380671110022")
    await post_chat(web, "lookup-1", "Не прийшов рахунок", "+380671110011")
    await post_chat(web, "lookup-2", "Зламався лічильник", "+380671110022")
    first, second = await ticket_of(engine, "+380671110011"), await ticket_of(engine, "+380671110022")
    async with engine.db.connect() as conn:
        account_no = (await conn.execute(text("SELECT a.account_no FROM accounts a JOIN account_roles r ON r.account_id = a.id"
                                              " WHERE r.client_id = :c"), {"c": kovalenko})).scalar_one()
    supervisor = await login_as("supervisor")

    def numbers(rows):
        return {r["number"] for r in rows}

    assert numbers(await tickets(web, supervisor, q=second["number"])) == {second["number"]}
    assert numbers(await tickets(web, supervisor, q="коваленко")) == {first["number"]}
    assert numbers(await tickets(web, supervisor, q="067 111 00 22")) == {second["number"]}  # as people type it
    assert numbers(await tickets(web, supervisor, q=f" {account_no[:4]}-{account_no[4:]} ")) == {first["number"]}
    assert await tickets(web, supervisor, q="Неіснуючий Клієнт") == []

    row = (await tickets(web, supervisor, q=first["number"]))[0]
    assert row["client_name"] == "Коваленко Марія Іванівна" and row["agent_name"] is None
    # the search combines with the picked filters
    assert await tickets(web, supervisor, q=first["number"], status="closed") == []
    assert numbers(await tickets(web, supervisor, q=first["number"], status="new,in_progress", channel="webchat")) == {first["number"]}

    refused = await web.get("/api/v1/tickets", params={"q": "x" * 101}, headers=supervisor.headers)
    assert refused.status == 400 and (await refused.json())["field"] == "q"


async def test_a_ticket_thread_and_its_history_are_read_whole(engine, web, login_as):
    await add_client(engine, "Бондар Світлана Олегівна", "+380671110033")
    await post_chat(web, "lookup-3", "Доброго дня", "+380671110033")
    await post_chat(web, "lookup-3", "Коли буде перерахунок?", "+380671110033", n=2)
    number = (await ticket_of(engine, "+380671110033"))["number"]
    supervisor = await login_as("supervisor")

    async def both_messages():
        response = await web.get(f"/api/v1/tickets/{number}/messages", headers=supervisor.headers)
        assert response.status == 200
        messages = (await response.json())["messages"]
        return messages if len(messages) == 2 else None
    messages = await eventually(both_messages, 20)
    assert [m["text"] for m in messages] == ["Доброго дня", "Коли буде перерахунок?"]
    assert {m["direction"] for m in messages} == {"in"}
    history = await (await web.get(f"/api/v1/tickets/{number}/history", headers=supervisor.headers)).json()
    assert {"created", "classified"} <= {e["kind"] for e in history["events"]}

    conversation = await conversation_id_of(engine, "webchat:site_chat:lookup-3")
    named = await web.get("/api/v1/conversation-tickets", params={"conversation": f"{conversation},999999999"},
                          headers=supervisor.headers)
    assert named.status == 200 and (await named.json())["tickets"] == {str(conversation): number}
    too_many = await web.get("/api/v1/conversation-tickets", params={"conversation": ",".join(map(str, range(201)))},
                             headers=supervisor.headers)
    assert too_many.status == 400
    not_an_id = await web.get("/api/v1/conversation-tickets", params={"conversation": "webchat:site_chat:lookup-3"},
                              headers=supervisor.headers)
    assert not_an_id.status == 400

    missing = await web.get("/api/v1/tickets/00-000000/messages", headers=supervisor.headers)
    assert missing.status == 404
    # an operator reads only tickets assigned to them
    operator = await login_as("cc_operator")
    assert (await web.get(f"/api/v1/tickets/{number}/messages", headers=operator.headers)).status == 404


async def test_people_are_named_for_the_roles_that_read_tickets_or_the_audit(engine, web, login_as):
    supervisor = await login_as("supervisor")
    response = await web.get("/api/v1/people", headers=supervisor.headers)
    assert response.status == 200
    people = {p["id"]: p for p in (await response.json())["people"]}
    assert people[supervisor.id]["name"] == "Тест supervisor" and people[supervisor.id]["agent"] is True
    admin = await login_as("admin")
    assert (await web.get("/api/v1/people", headers=admin.headers)).status == 200  # audit.read
    web.session.cookie_jar.clear()
    assert (await web.get("/api/v1/people")).status == 401  # no session at all


async def test_the_new_pages_are_served_and_the_audit_page_is_in_the_menu_only_with_audit_read(engine, web, login_as):
    for path in ("/tickets", "/tickets/26-000001", "/audit"):
        response = await web.get(path)
        assert response.status == 200 and "text/html" in response.headers["Content-Type"]
    supervisor = await login_as("supervisor")
    assert "audit" in (await (await web.get("/api/v1/me", headers=supervisor.headers)).json())["menu"]
    operator = await login_as("cc_operator")
    menu = (await (await web.get("/api/v1/me", headers=operator.headers)).json())["menu"]
    assert "audit" not in menu and "tickets" in menu
    vocabulary = await (await web.get("/api/v1/vocabulary", headers=operator.headers)).json()
    assert {"general", "billing"} <= set(vocabulary["queues"])
