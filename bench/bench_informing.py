"""The informing service, in process, against the e-mail channel (Dovecot for IMAP, the SMTP capture
relay as the peer that receives):

1. event -> message submitted: events at a steady rate, each stored in the outbox, claimed by the client
   senders, checked and submitted over SMTP; from the event to the relay's acceptance (the outbox's
   ``sent`` event).  Baseline in the same run: a bare insert of a row + a send through the same channel
   to the same relay, in a loop at the same rate.
2. contact policy check per message: the batch's consents and stop lists loaded in one round trip and
   decided for each message, beside one bare send of a message through the channel.
3. quiet window end -> held messages submitted: messages held until one instant; from it until the last
   is accepted by the relay.  Baseline: the same number sent back to back through the channel.

``python -m bench.bench_informing [--rate 200] [--seconds 5] [--held 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from actors.system import LocalEngine
from bench.common import bench_database_url, empty_contact_tables, percentile
from channels.base import Address, Outbound
from channels.sandbox.mail import DovecotServer, SmtpCapture
from crm_core import driver_sql
from crm_core.consent import policy_facts
from crm_core.database import libpq_dsn
from crm_core.message_templates import save_template
from crm_core.outbox import OutboundMessage
from routing.informing.policy import ContactPolicy, Recipient
from routing.informing.templates import TemplateDraft

CONFIG = Path(__file__).resolve().parent.parent / "config"
TEMPLATE = {"name": "bench_debt", "topic": "service", "variables": [{"name": "amount", "type": "money"}],
            "bodies": {"email": {"subject": "Нагадування про борг", "text": "Ваш борг {{ amount }} грн."}}}


async def _clients(db, count: int) -> list[int]:
    rows = await driver_sql.fetch_all(db, """
        WITH c AS (INSERT INTO clients (kind, full_name, segment, language)
                   SELECT 'person', 'Клієнт ' || n, 'regular', 'uk' FROM generate_series(1, %s) n RETURNING id),
             p AS (INSERT INTO contact_points (client_id, kind, value, is_primary)
                   SELECT id, 'email', 'bench' || id || '@ukr.net', true FROM c)
        SELECT id FROM c""", (count,))
    return [r["id"] for r in rows]


async def _latencies(db, since_id: int) -> list[float]:
    rows = await driver_sql.fetch_all(db, """
        SELECT extract(epoch FROM e.occurred_at - o.created_at) AS s FROM outbox_messages o
        JOIN outbox_events e ON e.message_id = o.id AND e.state = 'sent' WHERE o.id > %s""", (since_id,))
    return [float(r["s"]) for r in rows]


async def _paced(count: int, rate: float, action) -> None:
    started = time.perf_counter()
    tasks = []
    for n in range(count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(action(n)))
    await asyncio.gather(*tasks)


async def _wait_sent(db, since_id: int, count: int, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = await driver_sql.fetch_value(db, "SELECT count(*) FROM outbox_messages WHERE id > %s AND state = 'sent'",
                                            (since_id,))
        if done >= count:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"only {done} of {count} messages sent in {timeout_s} s")


async def run(rate: float, seconds: float, held: int) -> None:
    url = bench_database_url(database="switchboard_bench_informing")  # its own: the schema head differs by branch
    # Clients stay (the consent history that names them is append-only); each run adds its own.
    empty_contact_tables(url, "outbox_events", "outbox_messages", "message_templates")
    dovecot, smtp = DovecotServer(), SmtpCapture()
    await dovecot.start()
    await smtp.start()
    spool = tempfile.mkdtemp()
    email = {**tomllib.loads((CONFIG / "channels" / "email.toml").read_text())["email"],
             "from_address": dovecot.user, "imap": {**dovecot.imap_settings(), "sent_mailbox": ""},
             "smtp": smtp.smtp_settings(), "spool_dir": spool + "/att", "state_path": spool + "/uid.json"}
    engine = LocalEngine(url, channels={"email": email})
    services = await engine.start()
    db = services.autocommit
    services.informing.settings = replace(services.informing.settings, sending_hours=None)  # any hour
    try:
        await save_template(db, TemplateDraft.from_mapping(TEMPLATE), "bench", 3)
        count = int(rate * seconds)
        clients = await _clients(db, count + held)
        channel = services.channels

        # 1. event -> submitted, beside a bare insert + send loop
        since = await driver_sql.fetch_value(db, "SELECT coalesce(max(id), 0) FROM outbox_messages")
        await _paced(count, rate, lambda n: services.informing.submit(OutboundMessage(
            clients[n], "service", "bench_debt", {"amount": 100 + n}, "trigger", f"bench-{time.time_ns()}-{n}",
            chain=("email",))))
        await _wait_sent(db, since, count)
        ours = await _latencies(db, since)
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bench_bare_sends (id bigserial PRIMARY KEY, client_id bigint, body text)")
        bare: list[float] = []
        bare_db = driver_sql.AutocommitPool(services.db, connections=8, wait_s=60)

        async def bare_send(n: int) -> None:
            started = time.perf_counter()
            await driver_sql.execute(bare_db, "INSERT INTO bench_bare_sends (client_id, body) VALUES (%s, %s)",
                                     (clients[n], f"Ваш борг {100 + n},00 грн."))
            await channel.send(Outbound("email", f"email:bare-{n}", Address("email", f"bench{clients[n]}@ukr.net"),
                                        f"Ваш борг {100 + n},00 грн.", f"bare-{time.time_ns()}-{n}",
                                        subject="Нагадування про борг"))
            bare.append(time.perf_counter() - started)

        await _paced(count, rate, bare_send)
        await bare_db.close()
        for label, values in (("outbox -> senders -> SMTP", ours), ("baseline insert + send", bare)):
            print(f"event->submitted  {label:<28} {rate:.0f}/s x {seconds:.0f} s  p50 {percentile(values, 0.5) * 1000:7.1f} ms"
                  f"  p99 {percentile(values, 0.99) * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms  (n={len(values)})")

        # 2. contact policy check per message, beside one bare send
        addresses = [f"bench{c}@ukr.net" for c in clients[:50]]
        rounds = 40
        started = time.perf_counter()
        for _ in range(rounds):
            consents, stops, segments = await policy_facts(db, clients[:50], addresses)
            policy = ContactPolicy(services.informing.settings.topics, consents, stops)
            for client, address in zip(clients[:50], addresses, strict=True):
                policy.decide(Recipient(client, segments.get(client, ""), "email", address), "email", "service")
        check = (time.perf_counter() - started) / (rounds * 50)
        started = time.perf_counter()
        for n in range(50):
            await channel.send(Outbound("email", f"email:cost-{n}", Address("email", addresses[n]), "x",
                                        f"cost-{time.time_ns()}-{n}", subject="x"))
        send = (time.perf_counter() - started) / 50
        print(f"policy check      batched 50, per message       {check * 1000:7.3f} ms")
        print(f"policy check      baseline one bare send        {send * 1000:7.3f} ms")

        # 3. quiet window end -> held messages submitted
        since = await driver_sql.fetch_value(db, "SELECT coalesce(max(id), 0) FROM outbox_messages")
        window_end = datetime.now(UTC) + timedelta(seconds=3)
        for n in range(held):
            await services.informing.submit(OutboundMessage(
                clients[count + n], "service", "bench_debt", {"amount": n}, "trigger", f"held-{time.time_ns()}-{n}",
                chain=("email",)))
        await driver_sql.execute(db, "UPDATE outbox_messages SET state = 'held', due_at = %s, reason = 'quiet_hours'"
                                     " WHERE id > %s", (window_end, since))
        await _wait_sent(db, since, held)
        last = await driver_sql.fetch_value(db, "SELECT max(e.occurred_at) FROM outbox_events e JOIN outbox_messages o"
                                                " ON o.id = e.message_id WHERE o.id > %s AND e.state = 'sent'", (since,))
        released = (last - window_end).total_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(channel.send(Outbound("email", f"email:burst-{n}", Address("email", addresses[n % 50]),
                                                     "x", f"burst-{time.time_ns()}-{n}", subject="x"))
                               for n in range(held)))
        burst = time.perf_counter() - started
        print(f"quiet window end  {held} held -> all submitted    {released * 1000:7.0f} ms")
        print(f"quiet window end  baseline {held} sends at once    {burst * 1000:7.0f} ms")
    finally:
        await engine.stop()
        await smtp.stop()
        await dovecot.stop(remove=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of the event run")
    parser.add_argument("--held", type=int, default=200, help="messages held until the window ends")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not DovecotServer.available():
        print("informing bench skipped: Dovecot is not installed (apt-get install -y dovecot-imapd)")
        return
    asyncio.run(run(args.rate, args.seconds, args.held))


if __name__ == "__main__":
    main()
