"""E-mail one-click unsubscribe (RFC 8058, IC-07): every informing e-mail carries List-Unsubscribe with a
signed link and List-Unsubscribe-Post; a POST to the link opts the client out of e-mail (once, however
often it is posted), a forged token changes nothing, and the next e-mail is refused."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlparse

from aiohttp.test_utils import TestClient, TestServer

from crm_core.consent import consent_history
from dashboards.app import build_app
from tests.integration.informing.test_outbound_path import outage, settled


async def test_one_click_unsubscribe_from_the_header_of_a_sent_email(informing, tmp_path, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_DATA", str(tmp_path))
    services = informing.services
    web = TestClient(TestServer(build_app(services), host="127.0.0.1", port=0))
    await web.start_server()
    try:
        base = str(web.make_url("/api/v1/informing/unsubscribe"))
        services.informing.settings = replace(services.informing.settings, unsubscribe_url=base,
                                              unsubscribe_secret=b"test-secret-not-for-production")
        await informing.template()
        client = await informing.client("Лариса", email="larysa@ukr.net")
        await settled(informing, (await services.informing.submit(outage(client, "u-1", chain=("email",)))).message_id)
        (mail,) = informing.smtp.messages
        link = mail.message["List-Unsubscribe"].strip("<>")
        assert link.startswith(base + "/") and mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        path = urlparse(link).path
        for _ in range(2):  # a mail client may post twice
            response = await web.post(path, data="List-Unsubscribe=One-Click",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert response.status == 200, await response.text()
        forged = path.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA"
        assert (await web.post(forged.replace(f"/{client}.", f"/{client + 1}."))).status == 404
        history = await consent_history(services.autocommit, client)
        assert [(h["channel"], h["topic"], h["opted_in"], h["source"]) for h in history] == [
            ("email", "*", False, "one_click_unsubscribe")]
        after = await settled(informing, (await services.informing.submit(outage(client, "u-2", chain=("email",)))).message_id)
        assert (after["state"], after["reason"]) == ("refused", "email: opted_out")
        assert len(informing.smtp.messages) == 1
    finally:
        await web.close()
