"""Aggregator delivery and seen reports -> DeliveryUpdate, and the send request's shape (pure parts)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.base import ChannelError
from channels.viber_business import build
from channels.viber_business.channel import destination_digits
from channels.viber_business.reports import MalformedReport, parse_time, updates_from_report

DELIVERED = {"results": [{"bulkId": "b1", "messageId": "m1", "to": "380671234567",
                          "sentAt": "2026-12-07T14:13:20.789+0000", "doneAt": "2026-12-07T14:13:21.127+0000",
                          "messageCount": 1, "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5,
                                                        "name": "DELIVERED_TO_HANDSET"},
                          "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR"}, "channel": "VIBER"}]}


def test_delivered_seen_failed_and_pending():
    [delivered] = updates_from_report(DELIVERED)
    assert (delivered.external_id, delivered.state) == ("m1", "delivered")
    assert delivered.occurred_at == datetime(2026, 12, 7, 14, 13, 21, 127000, tzinfo=UTC)
    [seen] = updates_from_report({"results": [{"messageId": "m1", "seenAt": "2026-12-07T14:20:00Z"}]})
    assert seen.state == "read"
    failed = {"results": [{"messageId": "m2", "status": {"groupName": "EXPIRED", "name": "EXPIRED_EXPIRED"},
                           "error": {"name": "EC_TTL_EXPIRED", "description": "Validity period expired"}}]}
    assert [(u.state, u.reason) for u in updates_from_report(failed)] == [
        ("failed", "EC_TTL_EXPIRED: Validity period expired")]
    pending = {"results": [{"messageId": "m3", "status": {"groupName": "PENDING"}}]}
    assert updates_from_report(pending) == []


def test_malformed_reports_are_refused():
    for body in ([], {"results": "x"}, {"results": [{"to": "1"}]}, {"results": [{"messageId": "m"}]}):
        with pytest.raises(MalformedReport):
            updates_from_report(body)
    with pytest.raises(MalformedReport):
        parse_time("yesterday")


def test_times_and_numbers():
    assert parse_time("2026-12-07T14:13:21+0200") == datetime(2026, 12, 7, 12, 13, 21, tzinfo=UTC)
    assert destination_digits("+380 (67) 123-45-67") == destination_digits("0671234567") == "380671234567"
    with pytest.raises(ChannelError):
        destination_digits("+38067123")


def test_the_request_names_sender_label_validity_and_webhooks():
    channel = build({"api_key": "k", "sender": "GasService", "callback_secret": "s",
                     "public_webhook_url": "https://cc.example/webhooks/viber_business"})
    [message] = channel.api.message_body("380671234567", "key-1", "Текст", "PROMOTION")["messages"]
    assert message["destinations"] == [{"to": "380671234567", "messageId": "key-1"}]
    assert message["options"] == {"label": "PROMOTION", "validityPeriod": {"amount": 1440, "timeUnit": "MINUTES"}}
    assert message["webhooks"]["seen"]["url"] == "https://cc.example/webhooks/viber_business"
