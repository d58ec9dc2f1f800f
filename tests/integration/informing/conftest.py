"""The in-process engine with the e-mail channel (real Dovecot and a real SMTP relay) and the Viber bot
(against the Viber sandbox), and helpers to add clients and templates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import text

from actors.services import Services
from actors.system import LocalEngine
from channels.sandbox.mail import DovecotServer, SmtpCapture
from channels.sandbox.viber import ViberSandbox, ViberUser
from crm_core.message_templates import save_template
from routing.informing.templates import TemplateDraft
from tests.support.channels import channel_table

pytestmark = pytest.mark.integration
CONFIG = Path(__file__).resolve().parents[3] / "config" / "channels"

OUTAGE_TEMPLATE = {
    "name": "planned_outage", "topic": "service",
    "variables": [{"name": "street", "type": "text", "max_length": 40}, {"name": "day", "type": "date"}],
    "bodies": {
        "sms": {"text": "Планове відключення газу {{ day }}, вул. {{ street }}."},
        "viber": {"text": "Планове відключення газу {{ day }} на вул. {{ street }}.",
                  "button_text": "Деталі", "button_url": "https://gas.example.ua/outages"},
        "email": {"subject": "Планове відключення {{ day }}", "text": "Вул. {{ street }}: газу не буде {{ day }}.",
                  "html": "<p>Вул. <b>{{ street }}</b>: газу не буде {{ day }}.</p>"},
    },
}


@dataclass
class Informing:
    services: Services
    smtp: SmtpCapture
    viber: ViberSandbox

    async def client(self, name: str, *, email: str | None = None, viber: str | None = None,
                     phone: str = "+380501112233", segment: str = "regular") -> int:
        async with self.services.db.begin() as conn:
            client = (await conn.execute(text(
                "INSERT INTO clients (kind, full_name, segment, language) VALUES ('person', :n, :s, 'uk')"
                " RETURNING id"), {"n": name, "s": segment})).scalar_one()
            for kind, value in (("phone", phone), ("email", email), ("viber", viber)):
                if value:
                    await conn.execute(text("INSERT INTO contact_points (client_id, kind, value, is_primary)"
                                            " VALUES (:c, :k, :v, true)"), {"c": client, "k": kind, "v": value})
        return int(client)

    async def template(self, raw: dict = OUTAGE_TEMPLATE) -> None:
        await save_template(self.services.autocommit, TemplateDraft.from_mapping(raw), "admin", 3)

    def viber_user(self, user_id: str) -> ViberUser:
        user = ViberUser(id=user_id, name="Клієнт")
        self.viber._subscribe(user)
        return user


@pytest.fixture
async def informing(fresh_db_url, tmp_path) -> AsyncIterator[Informing]:
    if not DovecotServer.available():
        pytest.skip("Dovecot is not installed (apt-get install -y dovecot-imapd): e-mail channel tests skipped")
    dovecot, smtp, viber = DovecotServer(), SmtpCapture(), ViberSandbox()
    await dovecot.start()
    await smtp.start()
    await viber.start()
    email = channel_table("email", from_address=dovecot.user, imap={**dovecot.imap_settings(), "sent_mailbox": ""},
                          smtp=smtp.smtp_settings(), spool_dir=str(tmp_path / "spool"),
                          state_path=str(tmp_path / "uid.json"))
    viber_table = channel_table("viber", token=viber.account.token, api_url=viber.api_url,
                                state_path=str(tmp_path / "unsub.json"))
    local = LocalEngine(fresh_db_url, channels={"email": email, "viber": viber_table})
    services = await local.start()
    # Any hour of the day: the quiet-hours test sets its own sending hours.
    services.informing.settings = replace(services.informing.settings, sending_hours=None)
    try:
        yield Informing(services, smtp, viber)
    finally:
        await local.stop()
        await viber.stop()
        await smtp.stop()
        await dovecot.stop(remove=True)
