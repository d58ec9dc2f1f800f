"""The role matrix edited through the API (issue 18 §2): validated, versioned in the database, audited,
in force at the next request without a restart (also in a gateway started later); the administrator's
role cannot lose the administration."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from dashboards.app import build_app
from tests.support.engine import eventually


async def test_a_new_matrix_version_is_in_force_at_once_and_audited(engine, web, login_as):
    admin = await login_as("admin")
    operator = await login_as("cc_operator")
    assert (await web.get("/api/v1/clients/search?name=Шевченко", headers=operator.headers)).status == 200
    matrix = await (await web.get("/api/v1/admin/roles", headers=admin.headers)).json()
    assert matrix["version"] == 0 and "admin.roles" in matrix["permissions"]
    roles = matrix["roles"]
    roles["cc_operator"]["permissions"].remove("clients.search")
    roles["cc_operator"]["mask"] = ["phone"]
    saved = await web.put("/api/v1/admin/roles", json={"version": 0, "roles": roles}, headers=admin.headers)
    assert saved.status == 200, await saved.text()
    assert (await saved.json())["version"] == 1

    refused = await web.get("/api/v1/clients/search?name=Шевченко", headers=operator.headers)
    assert refused.status == 403
    me = await (await web.get("/api/v1/me", headers=operator.headers)).json()
    assert me["mask"] == ["phone"] and "clients.search" not in me["permissions"]

    stale = await web.put("/api/v1/admin/roles", json={"version": 0, "roles": roles}, headers=admin.headers)
    assert stale.status == 409 and (await stale.json())["error"] == "stale_role_matrix"

    async with engine.db.connect() as conn:
        entry = (await conn.execute(text("SELECT actor, before, after FROM audit_log WHERE entity = 'role_matrix'"))).one()
    assert entry.actor == f"user:{admin.id}" and set(entry.after["roles"]) == {"cc_operator"}
    assert "clients.search" in entry.before["roles"]["cc_operator"]["permissions"]
    assert entry.after["roles"]["cc_operator"]["mask"] == ["phone"]

    later = TestClient(TestServer(build_app(engine), host="127.0.0.1", port=0))  # another gateway, started later
    await later.start_server()
    try:
        async def loaded():
            response = await later.get("/api/v1/admin/roles", headers=admin.headers)
            return (await response.json())["version"] == 1

        await eventually(loaded)
    finally:
        await later.close()


async def test_a_bad_matrix_is_refused_with_the_reason(engine, web, login_as):
    admin = await login_as("admin")
    roles = (await (await web.get("/api/v1/admin/roles", headers=admin.headers)).json())["roles"]
    cases = (
        ({**roles, "admin": {"permissions": ["wall.view"], "mask": []}}, "keeps"),
        ({**roles, "cc_operator": {"permissions": ["fly"], "mask": []}}, "unknown permissions"),
        ({**roles, "marketer": {"permissions": [], "mask": ["shoe_size"]}}, "unknown mask fields"),
        ({**roles, "wizard": {"permissions": [], "mask": []}}, "roles.toml"),
    )
    for bad, reason in cases:
        response = await web.put("/api/v1/admin/roles", json={"version": 0, "roles": bad}, headers=admin.headers)
        body = await response.json()
        assert response.status == 400 and body["error"] == "invalid_role_matrix" and reason in body["detail"], body
    supervisor = await login_as("supervisor")
    assert (await web.put("/api/v1/admin/roles", json={"version": 0, "roles": roles},
                          headers=supervisor.headers)).status == 403
