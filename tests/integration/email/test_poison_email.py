"""Nothing poisons a mailbox (issue 14, part 2): a mail the store keeps refusing, among normal mail, is
parked with its item and flagged like the others, so the UID position moves on and the mail behind it is
stored.  Runs against a real Dovecot (CI installs dovecot-imapd; skipped with the reason elsewhere)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from actors.system import LocalEngine
from crm_core import parked as parked_store
from tests.support.channels import channel_table
from tests.support.engine import eventually
from tests.support.poison import REFUSED, inbox_items, parked_rows, refuse_marked_items

pytestmark = pytest.mark.integration


def mail(subject: str, sender: str = "olena@example.com", **headers: str) -> tuple[str, bytes]:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "support@example.com", subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(f"{subject}: прошу перевірити показники.")
    return message["Message-ID"], message.as_bytes()


async def test_a_mail_the_store_refuses_is_parked_and_the_mailbox_moves_on(dovecot, smtp, fresh_db_url, tmp_path):
    table = {**channel_table("email"), "from_address": dovecot.user, "spool_dir": str(tmp_path / "spool"),
             "state_path": str(tmp_path / "uid-state.json"), "smtp": smtp.smtp_settings(),
             "imap": {**dovecot.imap_settings(), "reconnect_initial_s": 0.1,
                      "reconnect_max_s": 0.5, "command_timeout_s": 10}}
    local = LocalEngine(fresh_db_url, channels={"email": table})
    services = await local.start()
    try:
        await refuse_marked_items(services.db)
        sent = [mail("Перший лист"), mail(f"Другий {REFUSED}"), mail("Третій лист"),
                mail("Я у відпустці", Auto_Submitted="auto-replied")]
        for _, raw in sent:
            await dovecot.append("INBOX", raw)

        async def stored_around():
            ids = {payload["metadata"].get("message_id") for payload in (await inbox_items(services.db)).values()}
            return {sent[0][0], sent[2][0], sent[3][0]} <= ids and sent[1][0] not in ids

        await eventually(stored_around, timeout_s=30)
        parked = await eventually(lambda: parked_rows(services.db))
        assert [(p["channel"], p["form"]) for p in parked] == [("email", "inbound")]
        assert REFUSED in bytes(parked[0]["raw"]).decode()

        async def all_flagged():
            flags = await dovecot.fetch_flags()
            return len(flags) == 4 and all("$Switchboard" in f for f in flags.values())

        await eventually(all_flagged, timeout_s=10)
        async with services.db.connect() as conn:  # the auto-reply: stored, skipped on purpose, counted
            skipped = await parked_store.skipped_totals(conn)
        assert skipped == {("email", "auto_reply"): 1}
    finally:
        await local.stop()
