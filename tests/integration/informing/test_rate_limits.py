"""Rate limits per channel (IC-05): a message over the channel's limit is held in the outbox with the
reason, never dropped, and the channel is tried again when the bucket has room."""

from __future__ import annotations

from actors.informing.rate_limits import ChannelRateLimits
from crm_core.outbox import message_row
from tests.integration.informing.test_outbound_path import outage, settled
from tests.support.engine import eventually


async def test_over_the_limit_is_held_not_dropped(informing):
    writer = informing.services.informing
    writer.rate_limits = ChannelRateLimits({"email": ((2, 60.0),)})
    await informing.template()
    clients = [await informing.client(f"Клієнт {n}", email=f"rate{n}@ukr.net") for n in range(3)]
    ids = []
    for n, client in enumerate(clients):
        ids.append((await writer.submit(outage(client, f"rate-{n}", chain=("email",)))).message_id)
        if n < 2:
            assert (await settled(informing, ids[-1]))["state"] == "sent"

    async def held():
        row = await message_row(informing.services.autocommit, ids[2])
        return row if row["state"] == "held" else None

    row = await eventually(held, 10.0)
    assert (row["reason"], row["channel"], row["chain_pos"]) == ("rate_limit:email", "email", 0)
    assert len(informing.smtp.messages) == 2
