"""The AMI session itself: login, ActionID matching, event lists amid live events, timeouts, EOF."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from channels.sandbox.pbx import AmiServer
from channels.voice.codec import AmiFrameError, AmiMessage
from channels.voice.connection import AmiActionTimeout, AmiAuthError, AmiConnection, AmiConnectionLost

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Script], Awaitable[int]]]:
    """A TCP peer that follows a script, for wire sequences the sandbox PBX never produces."""
    servers: list[asyncio.Server] = []

    async def serve(script: Script) -> int:
        server = await asyncio.start_server(script, "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield serve
    for server in servers:
        server.close()
        await server.wait_closed()


def session(port: int, events: list[AmiMessage], bad: list[AmiFrameError] | None = None) -> AmiConnection:
    return AmiConnection("127.0.0.1", port, on_event=events.append, on_bad_frame=(bad if bad is not None else []).append, action_timeout=2)


async def login_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
    writer.write(b"Asterisk Call Manager/2.10.6\r\n")
    login = await reader.readuntil(b"\r\n\r\n")
    action_id = next(line.split(": ", 1)[1] for line in login.decode().split("\r\n") if line.startswith("ActionID"))
    writer.write(f"Response: Success\r\nActionID: {action_id}\r\nMessage: Authentication accepted\r\n\r\n".encode())
    return action_id


async def test_login_and_actions_against_the_sandbox(pbx: AmiServer) -> None:
    events: list[AmiMessage] = []
    connection = session(pbx.port, events)
    await connection.open("switchboard", "sandbox", timeout=2)
    assert connection.greeting.startswith("Asterisk Call Manager/")
    first, second = await asyncio.gather(connection.action({"Action": "Ping"}), connection.action({"Action": "Ping"}))
    assert first.get("ping") == second.get("ping") == "Pong" and first.action_id != second.action_id
    unknown = await connection.action({"Action": "NoSuchThing"})
    assert unknown.name == "Error"
    assert [e.name for e in events] == ["FullyBooted"]
    connection.close()


async def test_a_refused_login_raises_auth_error(pbx: AmiServer) -> None:
    with pytest.raises(AmiAuthError, match="refused"):
        await session(pbx.port, []).open("switchboard", "wrong", timeout=2)


async def test_a_peer_that_is_not_ami_is_refused(scripted: Callable[[Script], Awaitable[int]]) -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    with pytest.raises(AmiConnectionLost, match="not AMI"):
        await session(await scripted(http), []).open("u", "p", timeout=2)


async def test_status_list_is_collected_while_live_events_keep_flowing(scripted: Callable[[Script], Awaitable[int]]) -> None:
    """pyst2 glues everything after 'Channel status will follow' into one message until a line says
    StatusComplete, losing the Newchannel sent in between; here it reaches the event handler."""

    async def pbx(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await login_ok(reader, writer)
        status = (await reader.readuntil(b"\r\n\r\n")).decode()
        action_id = status.split("ActionID: ", 1)[1].split("\r\n", 1)[0]
        writer.write(
            f"Response: Success\r\nActionID: {action_id}\r\nEventList: start\r\nMessage: Channel status will follow\r\n\r\n"
            f"Event: Status\r\nActionID: {action_id}\r\nChannel: PJSIP/kyivstar-00000001\r\nUniqueid: 1.1\r\n\r\n"
            "Event: Newchannel\r\nChannel: PJSIP/kyivstar-00000002\r\nUniqueid: 1.2\r\nLinkedid: 1.2\r\n\r\n"
            f"Event: Status\r\nActionID: {action_id}\r\nChannel: PJSIP/1001-00000003\r\nUniqueid: 1.3\r\n\r\n"
            f"Event: StatusComplete\r\nActionID: {action_id}\r\nEventList: Complete\r\nListItems: 2\r\n\r\n".encode()
        )
        await reader.read()

    events: list[AmiMessage] = []
    connection = session(await scripted(pbx), events)
    await connection.open("u", "p", timeout=2)
    listed = await connection.event_list({"Action": "Status"})
    assert [m.get("uniqueid") for m in listed] == ["1.1", "1.3"]
    assert [(e.name, e.get("uniqueid")) for e in events] == [("Newchannel", "1.2")]
    connection.close()


async def test_an_unanswered_action_times_out_instead_of_hanging(pbx: AmiServer) -> None:
    connection = session(pbx.port, [])
    await connection.open("switchboard", "sandbox", timeout=2)
    pbx.faults.ignore_pings = True
    with pytest.raises(AmiActionTimeout):
        await connection.action({"Action": "Ping"}, timeout=0.2)
    assert (await connection.action({"Action": "CoreShowChannels"})).name == "Success"
    connection.close()


async def test_eof_mid_message_ends_the_session_and_fails_waiting_actions(scripted: Callable[[Script], Awaitable[int]]) -> None:
    async def pbx(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await login_ok(reader, writer)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"Event: Newchannel\r\nChannel: PJSIP/kyivst")
        await writer.drain()
        writer.close()

    connection = session(await scripted(pbx), [])
    await connection.open("u", "p", timeout=2)
    with pytest.raises(AmiConnectionLost):
        await connection.action({"Action": "Ping"})
    assert isinstance(await connection.wait_closed(), AmiConnectionLost)
    assert not connection.is_open
