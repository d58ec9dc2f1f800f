"""The contact policy (IC-07, IC-08): stop lists always refuse; consent per client × channel × topic, the
newest record holding; an emergency passes an opt-out by policy but never a stop list entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.informing.config import InformingSettings
from routing.informing.policy import ConsentRecord, ContactPolicy, Recipient, StopEntry, TopicPolicy

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
TOPICS = {"service": TopicPolicy("service"), "marketing": TopicPolicy("marketing", consent_by_default=False),
          "emergency": TopicPolicy("emergency", passes_opt_out=True)}
OLENA = Recipient(1, "vip", "phone", "+380671234567")


def consent(topic: str, opted_in: bool, minutes: int, channel: str = "sms") -> ConsentRecord:
    return ConsentRecord(1, channel, topic, opted_in, NOW + timedelta(minutes=minutes))


def test_defaults_per_topic_and_the_newest_record_holds():
    assert ContactPolicy(TOPICS, [], []).decide(OLENA, "sms", "service").allowed
    assert ContactPolicy(TOPICS, [], []).decide(OLENA, "sms", "marketing").reason == "no_consent"
    policy = ContactPolicy(TOPICS, [consent("marketing", True, 1), consent("*", False, 2)], [])
    assert policy.decide(OLENA, "sms", "marketing").reason == "opted_out"
    assert policy.decide(OLENA, "email", "marketing").reason == "no_consent"  # consent is per channel
    later = ContactPolicy(TOPICS, [consent("*", False, 1), consent("marketing", True, 2)], [])
    assert later.decide(OLENA, "sms", "marketing").allowed


@pytest.mark.parametrize("entry", [StopEntry("client", "1", "marketing"), StopEntry("phone", "+380671234567", "*"),
                                   StopEntry("segment", "vip", "marketing")])
def test_a_stop_list_entry_refuses_even_with_consent(entry):
    policy = ContactPolicy(TOPICS, [consent("marketing", True, 1)], [entry])
    assert policy.decide(OLENA, "sms", "marketing").reason == "stop_list"


def test_an_emergency_passes_an_opt_out_but_never_a_stop_list_entry_for_its_type():
    opted_out = ContactPolicy(TOPICS, [consent("*", False, 1)], [])
    assert opted_out.decide(OLENA, "sms", "emergency").allowed
    assert opted_out.decide(OLENA, "sms", "emergency").reason == "passed_opt_out"
    assert opted_out.decide(OLENA, "sms", "service").reason == "opted_out"
    stopped = ContactPolicy(TOPICS, [], [StopEntry("client", "1", "emergency")])
    assert stopped.decide(OLENA, "sms", "emergency").reason == "stop_list"
    assert stopped.decide(OLENA, "sms", "service").allowed  # an entry is for its message type


def test_chains_by_template_then_topic_then_default_and_bad_chains_refused():
    settings = InformingSettings.from_mapping({"default_chain": ["sms"], "chains": {
        "topics": {"marketing": ["email", "viber", "sms"]}, "templates": {"bill": ["email"]}}})
    assert settings.chain_for("bill", "marketing") == ("email",)
    assert settings.chain_for("promo", "marketing") == ("email", "viber", "sms")
    assert settings.chain_for("other", "service") == ("sms",)
    assert settings.chain_for("bill", "marketing", ("viber",)) == ("viber",)
    with pytest.raises(ValueError, match="chain"):
        InformingSettings.from_mapping({"default_chain": ["pigeon"]})


def test_the_shipped_configuration_reads():
    from pathlib import Path

    from actors.informing.settings import load_informing

    settings = load_informing(Path(__file__).resolve().parents[3] / "config")
    assert settings.topics["emergency"].passes_opt_out and not settings.topics["marketing"].consent_by_default
    assert settings.chain_for("any", "emergency")[0] == "sms"


def test_unsubscribe_tokens_are_signed_for_one_client_and_channel():
    from routing.informing.unsubscribe import BadToken, make_token, read_token

    token = make_token(b"secret", 42, "email")
    assert read_token(b"secret", token).client_id == 42
    for bad in (token.replace("42.", "43.", 1), make_token(b"other", 42, "email"), "garbage", "42.email"):
        with pytest.raises(BadToken):
            read_token(b"secret", bad)


def test_rate_limits_per_minute_and_hour_are_read_and_must_be_positive():
    settings = InformingSettings.from_mapping({"rate_limits": {"sms": {"per_minute": 10, "per_hour": 100}}})
    assert settings.rate_limits == {"sms": ((10, 60.0), (100, 3600.0))}
    with pytest.raises(ValueError, match="rate limits"):
        InformingSettings.from_mapping({"rate_limits": {"sms": {"per_minute": 0}}})
