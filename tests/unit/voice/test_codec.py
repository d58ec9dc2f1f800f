"""AMI framing: incremental decoding, bad input, and the traffic pyst2's own parser gets wrong."""

from __future__ import annotations

import pytest
from asterisk.manager import ManagerMsg

from channels.voice.actions import composer
from channels.voice.codec import AmiDecoder, AmiFrameError, AmiGreeting, AmiMessage, encode_action

GREETING = b"Asterisk Call Manager/5.0.1\r\n"
NEWCHANNEL = (
    b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/kyivstar-00000019\r\nChannelState: 4\r\n"
    b"ChannelStateDesc: Ring\r\nCallerIDNum: 0671234567\r\nCallerIDName: <unknown>\r\nExten: 0442900000\r\n"
    b"Uniqueid: 1770888509.40\r\nLinkedid: 1770888509.40\r\n\r\n"
)
# Asterisk 12+ with `channelvars = VICIDIAL_campaign,CALLERID(name)` in manager.conf.
CHANVARIABLE = (
    b"Event: Hangup\r\nChannel: PJSIP/kyivstar-00000019\r\nUniqueid: 1770888509.40\r\nLinkedid: 1770888509.40\r\n"
    b"ChanVariable: VICIDIAL_campaign=KYIV\r\nChanVariable: CALLERID(name)=Y7152252510000822239\r\n"
    b"Cause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
)


def decode_all(data: bytes, chunk: int) -> list:
    decoder = AmiDecoder()
    out = []
    for start in range(0, len(data), chunk):
        out.extend(decoder.feed(data[start : start + chunk]))
    return out


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 10_000])
def test_messages_come_out_whole_however_the_bytes_are_split(chunk: int) -> None:
    items = decode_all(GREETING + NEWCHANNEL + CHANVARIABLE + NEWCHANNEL, chunk)
    assert isinstance(items[0], AmiGreeting) and items[0].is_asterisk
    assert [m.name for m in items[1:]] == ["Newchannel", "Hangup", "Newchannel"]
    first = items[1]
    assert first.get("uniqueid") == "1770888509.40" and first.get("calleridnum") == "0671234567"
    assert first.get("accountcode", "none") == "none"


def test_chanvariable_headers_are_parsed_where_pyst2_crashes() -> None:
    hangup = AmiDecoder(expect_greeting=False).feed(CHANVARIABLE)[0]
    assert isinstance(hangup, AmiMessage)
    assert hangup.channel_variables() == {"VICIDIAL_campaign": "KYIV", "CALLERID(name)": "Y7152252510000822239"}
    assert hangup.get("cause-txt") == "Normal Clearing"
    lines = [line + "\r\n" for line in CHANVARIABLE.decode().split("\r\n") if line]
    with pytest.raises(AttributeError):
        ManagerMsg(lines)  # pyst2 0.5.1 calls dict.has_key: its message thread dies on this event


def test_asterisk11_chanvariable_with_channel_name_is_read_too() -> None:
    data = b"Event: Newstate\r\nUniqueid: 1.2\r\nChanVariable(SIP/101-0001): VICIDIAL_campaign=KYIV\r\n\r\n"
    message = AmiDecoder(expect_greeting=False).feed(data)[0]
    assert message.channel_variables() == {"VICIDIAL_campaign": "KYIV"}


def test_garbage_between_messages_is_reported_with_its_bytes_and_decoding_goes_on() -> None:
    garbage = b"\x00\xff\xfe garbage without headers\r\n\x01\x02\r\n\r\n"
    items = AmiDecoder(expect_greeting=False).feed(NEWCHANNEL + garbage + NEWCHANNEL)
    assert [type(i).__name__ for i in items] == ["AmiMessage", "AmiFrameError", "AmiMessage"]
    assert b"garbage without headers" in items[1].raw


def test_an_oversized_frame_is_dropped_and_the_next_message_still_decodes() -> None:
    decoder = AmiDecoder(max_frame=1024, expect_greeting=False)
    huge = b"Event: UserEvent\r\nUserEvent: Huge\r\nData: " + b"x" * 5000
    items = decoder.feed(huge[:3000]) + decoder.feed(huge[3000:] + b"\r\n\r\n" + NEWCHANNEL)
    errors = [i for i in items if isinstance(i, AmiFrameError)]
    assert errors and "exceeds" in errors[0].reason and errors[0].raw.startswith(b"Event: UserEvent")
    assert [i.name for i in items if isinstance(i, AmiMessage)] == ["Newchannel"]


def test_a_cut_message_stays_pending_until_its_end_arrives() -> None:
    decoder = AmiDecoder(expect_greeting=False)
    assert decoder.feed(NEWCHANNEL[:40]) == []
    assert decoder.pending == NEWCHANNEL[:40]
    assert [m.name for m in decoder.feed(NEWCHANNEL[40:])] == ["Newchannel"]


def test_repeated_headers_keep_every_value() -> None:
    message = AmiDecoder(expect_greeting=False).feed(b"Response: Success\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n")[0]
    assert message.values("variable") == ["A=1", "B=2"]


def test_encoding_refuses_header_injection() -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        encode_action({"Action": "Redirect", "Channel": "PJSIP/101\r\nAction: Hangup"})
    assert encode_action({"Action": "Originate", "Variable": ["A=1", "B=2"]}) == (
        b"Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"
    )


def test_pyst2_composes_actions_without_leaking_headers_between_calls() -> None:
    redirect = composer.redirect("PJSIP/kyivstar-00000019", "1001", priority="1", context="agents")
    assert redirect == {"Action": "Redirect", "Channel": "PJSIP/kyivstar-00000019", "Exten": "1001", "Priority": "1", "Context": "agents"}
    ping = composer.send_action(Action="Ping")
    assert ping == {"Action": "Ping"}
    originate = composer.originate("PJSIP/1001", "0671234567", context="out", run_async=True, variables={"T": "42"})
    assert originate["Async"] == "yes" and originate["Variable"] == ["T=42"] and "ActionID" not in originate
