"""The supervisor wall's layout: defaults per role, saved per user in the database, so a second gateway
over the same database serves what the first one saved."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from dashboards.app import build_app

LAYOUT = "/api/v1/supervisor/layout"
ARRANGED = [{"kind": "escalations", "filters": {}}, {"kind": "agents", "filters": {"queue": "billing"}}]


async def test_a_layout_saved_on_one_gateway_is_served_by_another(engine, web, login_as):
    supervisor = await login_as("supervisor")
    colleague = await login_as("supervisor")
    first = await web.get(LAYOUT, headers=supervisor.headers)
    assert first.status == 200
    body = await first.json()
    assert [w["kind"] for w in body["widgets"]] == ["queues", "agents", "tickets", "escalations"]
    assert body["available"] == ["queues", "agents", "tickets", "escalations", "actors"]

    for _ in range(2):  # saving the same layout twice leaves one
        saved = await web.put(LAYOUT, json={"widgets": ARRANGED}, headers=supervisor.headers)
        assert saved.status == 200 and (await saved.json())["widgets"] == ARRANGED

    second = TestClient(TestServer(build_app(engine), host="127.0.0.1", port=0))
    await second.start_server()
    try:
        served = await second.get(LAYOUT, headers=supervisor.headers)
        assert (await served.json())["widgets"] == ARRANGED
        untouched = await second.get(LAYOUT, headers=colleague.headers)
        assert [w["kind"] for w in (await untouched.json())["widgets"]] == ["queues", "agents", "tickets",
                                                                             "escalations"]
    finally:
        await second.close()
    async with engine.db.connect() as conn:
        rows = (await conn.execute(text("SELECT user_id, key, value FROM user_preferences"))).all()
    assert [tuple(r) for r in rows] == [(supervisor.id, "wall.layout.supervisor", ARRANGED)]


async def test_a_bad_layout_is_refused_and_the_saved_one_kept(engine, web, login_as):
    analyst = await login_as("analyst")
    assert (await web.put(LAYOUT, json={"widgets": ARRANGED}, headers=analyst.headers)).status == 200
    for widgets in ([{"kind": "weather", "filters": {}}], [{"kind": "agents", "filters": {"colour": "red"}}],
                    [{"kind": "agents", "filters": {}, "x": 1}], [{"kind": "agents"}] * 21):
        refused = await web.put(LAYOUT, json={"widgets": widgets}, headers=analyst.headers)
        assert refused.status == 400, widgets
        assert (await refused.json()).get("field") == "widgets"
    assert (await (await web.get(LAYOUT, headers=analyst.headers)).json())["widgets"] == ARRANGED
