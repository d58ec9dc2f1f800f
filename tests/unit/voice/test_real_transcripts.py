"""Real AMI traffic from Asterisk 11 and 18 servers (tests/fixtures/ami; each file names its source)."""

from __future__ import annotations

from datetime import UTC, datetime

from channels.voice.codec import AmiDecoder, AmiMessage
from channels.voice.settings import VoiceSettings
from channels.voice.tracker import CallTracker
from tests.unit.voice.transcripts import messages, replay, transcript

# The captures are calls between internal extensions (1986 -> 21); count them as client calls here.
ALL_CALLS = {"internal_number_max_digits": 0}


def kinds(items) -> list[tuple[str, str | None]]:  # noqa: ANN001
    return [(i.metadata["call_event"], i.metadata["agent"]) for i in items]


def test_answered_call_on_asterisk18() -> None:
    items = replay(transcript("asterisk18_answered_outbound.txt"), **ALL_CALLS)
    assert kinds(items) == [("started", None), ("ringing", "21"), ("answered", "21"), ("hangup", "21")]
    started, hangup = items[0], items[-1]
    assert started.thread_key == "voice:1770888509.40" and started.metadata["asterisk_channel"] == "PJSIP/1986-00000019"
    assert started.sender.value == "1986" and started.sender.display_name == "Martin"
    assert hangup.metadata["hangup_cause"] == "16" and hangup.metadata["hangup_cause_txt"] == "Normal Clearing"
    assert hangup.metadata["abandoned"] is False
    assert len({i.dedupe_key for i in items}) == len(items)


def test_caller_hangs_up_while_ringing_on_asterisk18() -> None:
    items = replay(transcript("asterisk18_unanswered_cancel.txt"), **ALL_CALLS)
    assert kinds(items) == [("started", None), ("ringing", "21"), ("hangup", None)]
    assert items[-1].metadata["abandoned"] is True and items[-1].metadata["hangup_cause"] == "127"


def test_hunt_group_nobody_answers_on_asterisk18() -> None:
    items = replay(transcript("asterisk18_unanswered_huntgroup.txt"), **ALL_CALLS)
    rung = [a for k, a in kinds(items) if k == "ringing"]
    missed = [a for k, a in kinds(items) if k == "agent_no_answer"]
    assert rung == missed == ["11", "12", "21", "41", "42", "51"]
    assert kinds(items)[0] == ("started", None) and items[-1].metadata["abandoned"] is True
    assert sum(1 for k, _ in kinds(items) if k == "hangup") == 1


def test_asterisk11_originate_without_linkedid_is_one_call() -> None:
    items = replay(transcript("asterisk11_originate_xivo.txt"), **ALL_CALLS)
    assert [k for k, _ in kinds(items)].count("started") == 1
    assert ("ringing", "ddddd") in kinds(items) and ("answered", "ddddd") in kinds(items)
    assert kinds(items)[-1][0] == "hangup" and items[-1].metadata["abandoned"] is False
    assert {i.thread_key for i in items} == {"voice:1414510600.1"}


def test_internal_calls_are_not_tickets() -> None:
    assert replay(transcript("asterisk18_answered_outbound.txt")) == []


def test_only_events_that_matter_reach_the_sink() -> None:
    data = transcript("asterisk11_originate_xivo.txt")
    assert len(messages(data)) > 700
    assert len(replay(data, **ALL_CALLS)) < 10


def test_skipping_chatter_unparsed_changes_nothing() -> None:
    for name in ("asterisk11_originate_xivo.txt", "asterisk18_unanswered_huntgroup.txt"):
        data = transcript(name)
        emitted: list = []
        tracker = CallTracker(VoiceSettings(**ALL_CALLS), emitted.append, clock=lambda: datetime(2026, 11, 22, tzinfo=UTC))
        decoder = AmiDecoder(expect_greeting=False, wanted=tracker.wants)
        for message in decoder.feed(data):
            if isinstance(message, AmiMessage):
                tracker.handle(message)
        assert decoder.skipped > 0
        assert [(i.dedupe_key, i.metadata) for i in emitted] == [(i.dedupe_key, i.metadata) for i in replay(data, **ALL_CALLS)]
