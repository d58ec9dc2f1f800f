"""Personal data stays masked everywhere: every role × every endpoint that shows a client (and both live
streams) × every kind of personal data, against the declared list of what each role may see.

One client reaches us on Viber, by e-mail and on Telegram (through the intake, as the channels hand
items over); three agents each take one of the conversations.  Every reply is searched for the client's
raw values — whatever key they sit under — so a field the masking does not know is caught as surely as
one it masks wrongly.  A role that may see a kind must see it where the endpoint carries it (masking
everything would not pass), no role ever sees an internal key (a thread key, an e-mail Message-ID), a
status change keeps its ``from``, and an operator limited to own tickets sees only those, on the client
card too.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path

from sqlalchemy import text

from channels.base import Address, Inbound
from dashboards import openapi
from dashboards.app import API_GROUPS
from tests.support.engine import eventually

ROLES_FILE = Path(__file__).resolve().parents[3] / "config" / "roles.toml"
KINDS = ("name", "phone", "email", "messenger", "address", "account_no", "balance")

#: What each role may see unmasked (config/roles.toml's mask, written out: the two must agree).
SEES = {
    "cc_operator": {"name", "phone", "address", "account_no", "balance"},
    "sc_operator": set(KINDS),
    "supervisor": set(KINDS),
    "marketer": set(),
    "analyst": {"balance"},
    "admin": set(),
}

VIBER_ID = "Vb7Qx2ZkT9aaBBccDDee=="
TELEGRAM_CHAT = "730012345"
MESSAGE_ID_TOKEN = "c0ffee42d00d"
EMAIL_THREAD = f"email:<{MESSAGE_ID_TOKEN}.kovalenko@mail.example.net>"
#: The client's raw personal data, by kind: none of these may reach a role that masks the kind.
RAW = {
    "name": ["Коваленко Оксана Миколаївна", "Коваленко"],
    "phone": ["380671112233", "380509998877", "380631234321"],
    "email": ["oksana.kovalenko@example.com"],
    "messenger": [VIBER_ID, "Vb7Qx2ZkT9", TELEGRAM_CHAT],
    "address": ["Хрещатик"],
    "account_no": ["2604119937", "56XS000000771234"],
    "balance": ["4321.77"],
}
TEXTS = {"viber": "Питання VIBER-1 про рахунок", "email": "Лист EMAIL-2 про лічильник",
         "telegram": "Запит TELEGRAM-3 про тариф"}


def _endpoints(client_id: int, number: str, conversation_id: int | None) -> dict[str, tuple[str, str, object]]:
    """Every endpoint that shows a client's personal data: name -> (its OpenAPI path, the path asked, the
    permission it needs)."""
    client, ticket = f"/api/v1/clients/{client_id}", f"/api/v1/tickets/{number}"
    read = ("tickets.read", "tickets.read_own")
    paths = {
        "client search": ("/api/v1/clients/search", "/api/v1/clients/search?phone=0671112233", "clients.search"),
        "client card": ("/api/v1/clients/{client_id}", client, "clients.search"),
        "client history": ("/api/v1/clients/{client_id}/history", f"{client}/history", "clients.search"),
        "client duplicates": ("/api/v1/clients/{client_id}/duplicates", f"{client}/duplicates", "clients.search"),
        "client readings": ("/api/v1/clients/{client_id}/readings", f"{client}/readings", "clients.search"),
        "client merges": ("/api/v1/clients/{client_id}/merges", f"{client}/merges", "clients.search"),
        "client timeline": ("/api/v1/informing/clients/{client_id}/timeline",
                            f"/api/v1/informing/clients/{client_id}/timeline", "clients.search"),
        "tickets": ("/api/v1/tickets", "/api/v1/tickets", read),
        "ticket": ("/api/v1/tickets/{number}", ticket, read),
        "ticket history": ("/api/v1/tickets/{number}/history", f"{ticket}/history", read),
        "ticket messages": ("/api/v1/tickets/{number}/messages", f"{ticket}/messages", read),
        "agent": ("/api/v1/agents/me", "/api/v1/agents/me", "desktop"),
        "wall snapshot": ("/api/v1/supervisor/snapshot", "/api/v1/supervisor/snapshot", "wall.view"),
        "wall stream": ("/api/v1/supervisor/stream", "/api/v1/supervisor/stream", "wall.view"),
        "wall stream replay": ("/api/v1/supervisor/stream", "/api/v1/supervisor/stream?last_event_id=0", "wall.view"),
        "desktop stream": ("/api/v1/agents/me/stream", "/api/v1/agents/me/stream", "desktop"),
        "desktop stream replay": ("/api/v1/agents/me/stream", "/api/v1/agents/me/stream?last_event_id=0", "desktop"),
        "actor view": ("/api/v1/supervisor/actors", "/api/v1/supervisor/actors", "actors.view"),
        "escalations": ("/api/v1/supervisor/escalations", "/api/v1/supervisor/escalations", "wall.view"),
        "notifications": ("/api/v1/notifications", "/api/v1/notifications", "wall.view"),
        "readings for review": ("/api/v1/readings/review", "/api/v1/readings/review", "wall.act"),
        "ticket export": ("/api/v1/exports/tickets.csv", "/api/v1/exports/tickets.csv", "reports.export"),
        "audit log": ("/api/v1/audit", f"/api/v1/audit?entity=client&entity_id={client_id}", "audit.read"),
        "conversation": ("/api/v1/conversations/{conversation_id}", f"/api/v1/conversations/{conversation_id}",
                         ("desktop", "conversations.any")),
    }
    if conversation_id is None:
        del paths["conversation"]
    return paths


#: Readings of the API that show no client's personal data (the caller's own, configuration, figures).
NOT_PERSONAL = {
    "/healthz", "/metrics", "/api/v1/openapi.json", "/api/v1/vocabulary", "/api/v1/i18n/{lang}", "/api/v1/me",
    "/api/v1/me/sessions", "/api/v1/admin/users", "/api/v1/admin/users/{user_id}/sessions", "/api/v1/admin/api-keys",
    "/api/v1/admin/roles", "/api/v1/transfer-targets", "/api/v1/agents/me/stats", "/api/v1/reports/summary",
    "/api/v1/supervisor/service-level", "/api/v1/supervisor/layout", "/api/v1/informing/templates",
    "/api/v1/informing/messages/{message_id}", "/api/v1/webchat/config",
    "/api/v1/webchat/stream",  # the visitor's own conversation, to the visitor
    "/api/v1/people",  # the centre's staff by name
    "/api/v1/conversation-tickets",  # ticket numbers
}
#: Shown per role by a test of their own: the passport (tests/integration/dashboards/test_client_passport.py)
#: and the XLSX export (the CSV export's row masker, a ZIP the matrix cannot search).
ELSEWHERE = {"/api/v1/clients/{client_id}/passport", "/api/v1/exports/tickets.xlsx"}
#: Not masked yet: parked items carry the raw payload byte for byte (what replay hands over again).
NOT_MASKED_YET = {"/api/v1/parked"}


#: Which kinds an endpoint shows at all (a role that may see the kind must find it there).
CARRIES = {
    "client search": {"name", "address", "account_no"},
    "client card": set(KINDS),
    "client history": {"phone"},
    "client duplicates": {"name", "email"},
    "ticket": {"name"},
    "ticket history": {"messenger"},
    "conversation": set(KINDS),
    "wall snapshot": set(),
    "ticket export": {"email", "messenger"},
    "audit log": {"phone"},
}


async def _read_stream(web, path: str, headers: dict[str, str]) -> str:
    """What a live stream sends until it has been quiet for a moment (or its first heartbeat)."""
    chunks: list[str] = []
    async with web.get(path, headers=headers) as response:
        assert response.status == 200, await response.text()
        while True:
            try:
                chunk = await asyncio.wait_for(response.content.readany(), 1.5)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk.decode())
            if "event: heartbeat" in "".join(chunks):
                break
    return "".join(chunks)


async def _seed_client(engine) -> int:
    async with engine.db.begin() as conn:
        client = (await conn.execute(text(
            "INSERT INTO clients (kind, full_name, segment, language) VALUES ('person', :n, 'regular', 'uk')"
            " RETURNING id"), {"n": RAW["name"][0]})).scalar_one()
        account = (await conn.execute(text(
            "INSERT INTO accounts (account_no, eic_code, service_address, tariff, balance)"
            " VALUES ('2604119937', '56XS000000771234', 'м. Київ, вул. Хрещатик, буд. 7', 'population', 4321.77)"
            " RETURNING id"))).scalar_one()
        await conn.execute(text("INSERT INTO account_roles VALUES (:a, :c, 'owner')"), {"a": account, "c": client})
        tenant = (await conn.execute(text(  # another person on the account: the card's related contact
            "INSERT INTO clients (kind, full_name, segment, language) VALUES ('person', 'Коваленко Петро', 'regular',"
            " 'uk') RETURNING id"))).scalar_one()
        await conn.execute(text("INSERT INTO account_roles VALUES (:a, :c, 'co_owner')"), {"a": account, "c": tenant})
        await conn.execute(text("INSERT INTO contact_points (client_id, kind, value, is_primary)"
                                " VALUES (:c, 'phone', '+380631234321', true)"), {"c": tenant})
        for kind, value in (("phone", "+380671112233"), ("email", RAW["email"][0]), ("viber", VIBER_ID),
                            ("telegram", TELEGRAM_CHAT)):
            await conn.execute(text("INSERT INTO contact_points (client_id, kind, value, is_primary)"
                                    " VALUES (:c, :k, :v, true)"), {"c": client, "k": kind, "v": value})
    return client


def _inbound(channel: str) -> Inbound:
    thread, sender = {"viber": (f"viber:{VIBER_ID}", Address("viber", VIBER_ID)),
                      "email": (EMAIL_THREAD, Address("email", RAW["email"][0], "Оксана Коваленко")),
                      "telegram": (f"telegram:{TELEGRAM_CHAT}", Address("telegram", TELEGRAM_CHAT))}[channel]
    email = channel == "email"
    return Inbound(channel=channel, thread_key=thread, dedupe_key=f"matrix:{channel}", sender=sender,
                   text=TEXTS[channel], subject="Рахунок" if email else None,
                   metadata={"message_id": EMAIL_THREAD.removeprefix("email:"), "references": []} if email else {})


async def _take_one(engine, web, agent) -> dict:
    """The agent comes available, accepts the offer waiting for them, and goes on a break."""
    await web.post("/api/v1/agents/me/state", json={"state": "available"}, headers=agent.headers)

    async def offered():
        offers = (await (await web.get("/api/v1/agents/me", headers=agent.headers)).json())["offers"]
        return offers[0] if offers else None

    offer = await eventually(offered, 15.0)
    accepted = await web.post(f"/api/v1/agents/me/offers/{offer['offer_id']}/accept", headers=agent.headers)
    assert accepted.status == 200, await accepted.text()
    await web.post("/api/v1/agents/me/state", json={"state": "break", "reason": "lunch"}, headers=agent.headers)
    return await accepted.json()


def _leaks(body: str, role: str) -> list[str]:
    return [f"{kind}: {value}" for kind in KINDS if kind not in SEES[role] for value in RAW[kind] if value in body]


def _missing(body: str, role: str, endpoint: str) -> list[str]:
    return [kind for kind in CARRIES.get(endpoint, set()) & SEES[role] if not any(v in body for v in RAW[kind])]


def test_every_reading_of_the_openapi_document_is_in_the_matrix_or_declared_free_of_personal_data():
    readings = {path for path, operations in openapi.document(API_GROUPS)["paths"].items() if "get" in operations}
    in_matrix = {template for template, _, _ in _endpoints(1, "26-1", 1).values()}
    assert readings - in_matrix - NOT_PERSONAL - ELSEWHERE - NOT_MASKED_YET == set()  # a new endpoint: classify it
    assert in_matrix | NOT_PERSONAL | ELSEWHERE | NOT_MASKED_YET <= readings


def test_the_declared_list_is_the_role_matrix_in_force():
    roles = tomllib.loads(ROLES_FILE.read_text())["roles"]
    assert {name: set(KINDS) - set(table["mask"]) for name, table in roles.items()} == SEES


async def test_every_role_sees_on_every_endpoint_only_the_personal_data_it_may(engine, web, login_as):
    client_id = await _seed_client(engine)
    owners = {"viber": await login_as("cc_operator"), "email": await login_as("cc_operator"),
              "telegram": await login_as("sc_operator")}
    views = {}
    for channel, agent in owners.items():
        await engine.inbox.intake.take(_inbound(channel))
        views[channel] = await _take_one(engine, web, agent)
        assert views[channel]["ticket"]["client_id"] == client_id, views[channel]["ticket"]
    async with engine.db.begin() as conn:  # a second card with the same e-mail: a duplicate candidate
        twin = (await conn.execute(text("INSERT INTO clients (kind, full_name, segment, language)"
                                        " VALUES ('person', :n, 'regular', 'uk') RETURNING id"), {"n": RAW["name"][0]})).scalar_one()
        await conn.execute(text("INSERT INTO contact_points (client_id, kind, value, is_primary) VALUES (:c, 'email', :v, true)"),
                           {"c": twin, "v": RAW["email"][0]})
    numbers = {channel: view["ticket"]["number"] for channel, view in views.items()}
    conversations = {channel: view["conversation"]["id"] for channel, view in views.items()}
    failures: list[str] = []
    for channel, role in (("viber", "cc_operator"), ("email", "cc_operator"), ("telegram", "sc_operator")):
        accepted = json.dumps(views[channel], ensure_ascii=False)  # what accepting an offer answers
        failures += [f"{role} offer accept shows {leak}" for leak in _leaks(accepted, role)]
    held = await web.post(f"/api/v1/conversations/{conversations['viber']}/status", json={"status": "on_hold"},
                          headers=owners["viber"].headers)
    if held.status != 200:
        failures.append(f"cc_operator status change answers {held.status}")
    failures += [f"cc_operator status change shows {leak}" for leak in _leaks(await held.text(), "cc_operator")]
    change = await web.post(f"/api/v1/clients/{client_id}/contact-points", headers=(await login_as("supervisor")).headers,
                            json={"kind": "phone", "value": "+380509998877", "version": 1})
    assert change.status in (200, 201), await change.text()

    readers = {"cc_operator": owners["viber"], "sc_operator": owners["telegram"],
               **{role: await login_as(role) for role in ("supervisor", "marketer", "analyst", "admin")}}
    for role, user in readers.items():
        me = await (await web.get("/api/v1/me", headers=user.headers)).json()
        permissions = set(me["permissions"])
        own = {"cc_operator": "viber", "sc_operator": "telegram"}.get(role, "viber")
        shown = conversations[own] if role in ("cc_operator", "sc_operator", "supervisor") else None
        for endpoint, (_, path, needs) in _endpoints(client_id, numbers[own], shown).items():
            allowed = bool(permissions.intersection((needs,) if isinstance(needs, str) else needs))
            if "stream" in endpoint:
                if not allowed:
                    continue
                body = await _read_stream(web, path, user.headers)
            else:
                response = await web.get(path, headers=user.headers)
                if response.status != (200 if allowed else 403):
                    failures.append(f"{role} {endpoint} answers {response.status}")
                if response.status != 200:
                    continue
                body = await response.text()
            failures += [f"{role} {endpoint} shows {leak}" for leak in _leaks(body, role)]
            failures += [f"{role} {endpoint} hides {kind} it may see" for kind in _missing(body, role, endpoint)]
            if MESSAGE_ID_TOKEN in body or '"thread_key"' in body or "thread_key" in body:
                failures.append(f"{role} {endpoint} shows an internal thread key")
            if endpoint == "ticket history":
                statuses = [e["data"] for e in json.loads(body)["events"] if e["kind"] == "status"]
                if not statuses or statuses[0].get("from") != "new":
                    failures.append(f"{role} {endpoint}: the status change reads {statuses[:1]}")
    assert not failures, "\n".join(failures)


async def test_an_operator_limited_to_own_tickets_sees_only_those_on_the_client_card(engine, web, login_as):
    client_id = await _seed_client(engine)
    mine, theirs = await login_as("cc_operator"), await login_as("cc_operator")
    await engine.inbox.intake.take(_inbound("viber"))
    own = await _take_one(engine, web, mine)
    await engine.inbox.intake.take(_inbound("email"))
    other = await _take_one(engine, web, theirs)
    number = other["ticket"]["number"]
    assert (await web.get(f"/api/v1/tickets/{number}", headers=mine.headers)).status == 404
    card = await (await web.get(f"/api/v1/clients/{client_id}", headers=mine.headers)).json()
    tickets = [t["number"] for t in card["open_tickets"] + card["past_tickets"]]
    assert tickets == [own["ticket"]["number"]]
    assert TEXTS["email"] not in json.dumps(card, ensure_ascii=False)
    assert [m["text"] for m in card["last_messages"]] == [TEXTS["viber"]]
    assert card["dashboard"]["open_tickets"] == 1
    timeline = await (await web.get(f"/api/v1/informing/clients/{client_id}/timeline", headers=mine.headers)).json()
    assert [item["text"] for item in timeline["items"]] == [TEXTS["viber"]]
    assert (await web.get(f"/api/v1/conversations/{other['conversation']['id']}", headers=mine.headers)).status == 403
    supervisor = await login_as("supervisor")
    full = await (await web.get(f"/api/v1/clients/{client_id}", headers=supervisor.headers)).json()
    assert sorted(t["number"] for t in full["open_tickets"]) == sorted([own["ticket"]["number"], number])
    view = await (await web.get(f"/api/v1/conversations/{own['conversation']['id']}", headers=mine.headers)).json()
    assert [t["number"] for t in view["card"]["open_tickets"]] == [own["ticket"]["number"]]
