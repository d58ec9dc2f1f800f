"""The administration page in a real Chromium: users listed and created, the role matrix changed and saved
as a new version, a source's key rotated and shown once; Ukrainian by default."""

from __future__ import annotations

from sqlalchemy import text

from crm_core import api_keys


async def test_an_administrator_creates_a_user_changes_the_matrix_and_rotates_a_key(engine, site, browser, sign_in):
    await sign_in("admin")
    await browser.goto(str(site.make_url("/admin")))
    await browser.wait_for("document.querySelectorAll('#users tr').length > 1 && "
                           "document.querySelectorAll('#matrix input').length > 0 && "
                           "document.querySelectorAll('#keys button').length === 3")
    assert await browser.text("#menu-admin") == "Адміністрування"
    assert await browser.text("h2") == "Користувачі"

    await browser.fill("#new-user [name=login]", "ikoval")
    await browser.fill("#new-user [name=full_name]", "Коваль Ірина")
    await browser.fill("#new-user [name=password]", "Gorlivka-kotel-2026-vesna")
    await browser.js("document.querySelector('#new-role').value = 'cc_operator'")
    await browser.click("#new-user button")
    await browser.wait_for("[...document.querySelectorAll('#users td')].some(td => td.textContent === 'ikoval')")

    await browser.click("input[data-role='marketer'][data-key='wall.view']")
    await browser.click("#save-matrix")
    await browser.wait_for("document.querySelector('#matrix-version').textContent === '1'")
    async with engine.db.connect() as conn:
        saved = (await conn.execute(text("SELECT roles FROM role_matrix WHERE version = 1"))).scalar_one()
    assert "wall.view" in saved["marketer"]["permissions"]

    await browser.click("#keys button")
    await browser.wait_for("document.querySelector('#new-key').textContent.includes(': ')")
    key = (await browser.text("#new-key")).rsplit(": ", 1)[1]
    async with engine.db.connect() as conn:
        assert await api_keys.key_is_valid(conn, "site_chat", key)
