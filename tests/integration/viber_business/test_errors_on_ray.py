"""The errors the SMS and Viber Business channels raise survive the Ray boundary (channel actor ->
gateway / sender actor), with their status and reason."""

from __future__ import annotations

import pytest
import ray

from channels.base import ChannelError, WebhookRejected
from channels.sms.link import LinkLost


@pytest.fixture(scope="module")
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR", namespace="errors-test")
    yield
    if started:
        ray.shutdown()


@ray.remote
def raising(kind: str) -> None:
    from channels.viber_business import build

    if kind == "forged":
        channel = build({"api_key": "k", "sender": "GasService", "callback_secret": "s"})
        channel.handle_webhook({"X-Signature": "0" * 64}, b"{}")
    if kind == "lost":
        raise LinkLost("connection lost (reset by peer)")
    raise ChannelError("sms: the SMSC refused part 1 of 2: Invalid destination address (0x0B)")


def test_channel_errors_cross_ray_with_their_status_and_reason(local_ray):
    with pytest.raises(WebhookRejected) as forged:
        ray.get(raising.remote("forged"))
    assert forged.value.status == 403 and forged.value.reason == "X-Signature missing or wrong"
    with pytest.raises(LinkLost, match="reset by peer"):
        ray.get(raising.remote("lost"))
    with pytest.raises(ChannelError, match="0x0B"):
        ray.get(raising.remote("refused"))
