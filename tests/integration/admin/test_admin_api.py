"""The administration API (issue 18 §2): users created, changed, deactivated (their sessions end at once)
and imported from CSV; checks against the role matrix, the skills catalogue and the queues; the last
administrator and one's own administrator's role protected; every change audited; an agent's running
actor takes new skills and queues without a restart; API keys rotated and shown once."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.dashboards.conftest import PASSWORD
from tests.support.engine import eventually

STRONG = "Gorlivka-kotel-2026-vesna"


async def audit_of(engine, user_id: int) -> list[dict]:
    async with engine.db.connect() as conn:
        rows = (await conn.execute(text("SELECT actor, action, before, after FROM audit_log WHERE entity = 'user'"
                                        " AND entity_id = :i ORDER BY id"), {"i": str(user_id)})).all()
    return [dict(r._mapping) for r in rows]


async def test_an_administrator_creates_a_user_and_every_refusal_names_its_reason(engine, web, login_as):
    admin = await login_as("admin")
    new = {"login": "ikoval", "full_name": "Коваль Ірина", "role": "cc_operator", "password": STRONG,
           "skills": {"billing": 4, "lang_uk": 5}, "queues": ["general", "billing"], "capacity": {"chat": 2},
           "extension": "1201", "vicidial_user": "1201", "language": "uk"}
    for change, code in (({"role": "overlord"}, "unknown_role"), ({"skills": {"juggling": 3}}, "unknown_skill"),
                         ({"queues": ["nowhere"]}, "unknown_queue"), ({"password": "qwerty123456"}, "weak_password.common"),
                         ({"skills": {"billing": 9}}, "invalid_field")):
        response = await web.post("/api/v1/admin/users", json={**new, **change}, headers=admin.headers)
        assert response.status == 400 and (await response.json())["error"] == code, change
    created = await web.post("/api/v1/admin/users", json=new, headers=admin.headers)
    assert created.status == 201, await created.text()
    user = await created.json()
    assert user["queues"] == {"names": ["general", "billing"]} and user["skills"] == {"billing": 4, "lang_uk": 5}
    again = await web.post("/api/v1/admin/users", json=new, headers=admin.headers)
    assert again.status == 409 and (await again.json())["error"] == "login_taken"
    assert (await web.post("/api/v1/auth/login", json={"login": "ikoval", "password": STRONG})).status == 200

    operator = await login_as("cc_operator")
    assert (await web.post("/api/v1/admin/users", json=new, headers=operator.headers)).status == 403
    entries = await audit_of(engine, user["id"])
    assert [(e["actor"], e["action"]) for e in entries] == [(f"user:{admin.id}", "user.created")]
    assert entries[0]["after"]["role"] == "cc_operator" and "password" not in entries[0]["after"]


async def test_a_deactivated_users_sessions_end_at_once(engine, web, login_as):
    admin = await login_as("admin")
    operator = await login_as("cc_operator")
    assert (await web.get("/api/v1/me", headers=operator.headers)).status == 200  # its session is cached now
    response = await web.post(f"/api/v1/admin/users/{operator.id}/deactivate", headers=admin.headers)
    assert response.status == 200 and (await response.json())["changed"] is True
    assert (await web.get("/api/v1/me", headers=operator.headers)).status == 401
    assert (await web.post("/api/v1/auth/login", json={"login": operator.login, "password": PASSWORD})).status == 401
    async with engine.db.connect() as conn:
        left = (await conn.execute(text("SELECT count(*) FROM user_sessions WHERE user_id = :u"),
                                   {"u": operator.id})).scalar_one()
    assert left == 0
    assert (await web.post(f"/api/v1/admin/users/{operator.id}/activate", headers=admin.headers)).status == 200
    assert (await web.post("/api/v1/auth/login", json={"login": operator.login, "password": PASSWORD})).status == 200
    actions = [e["action"] for e in await audit_of(engine, operator.id)]
    assert actions == ["user.deactivated", "user.activated"]


async def test_a_password_reset_ends_the_users_sessions(engine, web, login_as):
    admin = await login_as("admin")
    operator = await login_as("cc_operator")
    assert (await web.get("/api/v1/me", headers=operator.headers)).status == 200
    short = await web.post(f"/api/v1/admin/users/{operator.id}/password", json={"password": "short"},
                           headers=admin.headers)
    assert short.status == 400 and (await short.json())["error"] == "weak_password.too_short"
    assert (await web.post(f"/api/v1/admin/users/{operator.id}/password", json={"password": STRONG},
                           headers=admin.headers)).status == 204
    assert (await web.get("/api/v1/me", headers=operator.headers)).status == 401
    assert (await web.post("/api/v1/auth/login", json={"login": operator.login, "password": STRONG})).status == 200


async def test_an_administrator_keeps_their_own_admin_role(engine, web, login_as):
    admin = await login_as("admin")
    for path, kwargs in ((f"/api/v1/admin/users/{admin.id}", {"json": {"role": "supervisor"}}),
                         (f"/api/v1/admin/users/{admin.id}/deactivate", {})):
        method = web.patch if "json" in kwargs else web.post
        response = await method(path, headers=admin.headers, **kwargs)
        assert response.status == 409 and (await response.json())["error"] == "own_admin_role"
    assert (await web.get("/api/v1/me", headers=admin.headers)).status == 200


async def test_new_skills_and_queues_reach_the_running_agent_actor(engine, web, login_as):
    admin = await login_as("admin")
    operator = await login_as("cc_operator", queues=("general",))
    before = await (await web.get("/api/v1/agents/me", headers=operator.headers)).json()
    assert before["queues"] == ["general"] and "gas_safety" not in before["skills"]
    response = await web.patch(f"/api/v1/admin/users/{operator.id}", json={
        "skills": {"gas_safety": 5, "lang_uk": 5}, "queues": ["technical", "escalations"], "capacity": {"chat": 4}},
        headers=admin.headers)
    assert response.status == 200, await response.text()

    async def changed():
        view = await (await web.get("/api/v1/agents/me", headers=operator.headers)).json()
        return view if view["queues"] == ["technical", "escalations"] else None

    view = await eventually(changed)
    assert view["skills"] == {"gas_safety": 5, "lang_uk": 5} and view["capacity"]["chat"] == 4
    entries = await audit_of(engine, operator.id)
    assert entries[-1]["action"] == "user.updated"
    assert entries[-1]["before"]["queues"] == {"names": ["general"]}
    assert entries[-1]["after"]["queues"] == {"names": ["technical", "escalations"]}


CSV = """login,full_name,role,skills,queues,capacity,extension,vicidial_user,language
op100,Олійник Петро,cc_operator,billing:4;lang_uk:5,general;billing,voice:1;chat:3,1300,1300,uk
op101,Гнатюк Ольга,sc_operator,complaints:3,general,,1301,,en
op102,Бойко Іван,overlord,billing:4,general,,,,
op103,Сидоренко Анна,cc_operator,juggling:2,general,,,,
op104,Мороз Олег,cc_operator,billing:2,nowhere,,,,
sup100,Лисенко Марта,supervisor,,,,,,
"""


async def test_csv_import_refuses_bad_rows_and_imports_the_rest_once(engine, web, login_as):
    admin = await login_as("admin")
    headers = {**admin.headers, "Content-Type": "text/csv"}
    response = await web.post("/api/v1/admin/users/import", data=CSV.encode(), headers=headers)
    assert response.status == 200, await response.text()
    report = await response.json()
    assert report["imported"] == 3 and report["existing"] == 0
    assert [(r["line"], r["login"], r["reason"]) for r in report["refused"]] == [
        (4, "op102", "unknown_role"), (5, "op103", "unknown_skill"), (6, "op104", "unknown_queue")]

    listed = {u["login"]: u for u in (await (await web.get("/api/v1/admin/users", headers=admin.headers)).json())["users"]}
    assert listed["op100"]["skills"] == {"billing": 4, "lang_uk": 5}
    assert listed["op100"]["capacity"] == {"voice": 1, "chat": 3} and listed["op100"]["queues"] == {"names": ["general", "billing"]}
    # an imported user has no password until one is set
    assert (await web.post("/api/v1/auth/login", json={"login": "op100", "password": ""})).status in (400, 401)
    again = await (await web.post("/api/v1/admin/users/import", data=CSV.encode(), headers=headers)).json()
    assert again["imported"] == 0 and again["existing"] == 3
    bad = await web.post("/api/v1/admin/users/import", data=b"name,surname\nx,y\n", headers=headers)
    assert bad.status == 400 and (await bad.json())["error"] == "invalid_csv"


async def test_api_keys_are_rotated_through_the_api_and_shown_once(engine, web, login_as):
    admin = await login_as("admin")
    body = {"thread": "t-key", "dedupe_key": "k-1", "from": {"kind": "app", "value": "dev-1"}, "text": "Лічильник"}
    rotated = await web.post("/api/v1/admin/api-keys/mobile_app/rotate", headers=admin.headers)
    assert rotated.status == 201 and rotated.headers["Cache-Control"] == "no-store"
    key = (await rotated.json())["key"]
    assert (await web.post("/api/v1/inbound/mobile_app", json=body, headers={"X-Api-Key": "sandbox-app-key"})).status == 401
    assert (await web.post("/api/v1/inbound/mobile_app", json=body, headers={"X-Api-Key": key})).status == 202
    listed = await (await web.get("/api/v1/admin/api-keys", headers=admin.headers)).text()
    assert key not in listed and "mobile_app" in listed
    supervisor = await login_as("supervisor")
    assert (await web.post("/api/v1/admin/api-keys/mobile_app/rotate", headers=supervisor.headers)).status == 403
