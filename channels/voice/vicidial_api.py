"""VICIdial's HTTP APIs: recording_lookup (non_agent_api.php) and external_dial (agc/api.php).

Both answer in plain text (docs/NON-AGENT_API.txt, docs/AGENT_API.txt): an ``ERROR: ...`` line, a
``SUCCESS: ...`` line, or for recording_lookup one pipe-separated row per recording
(``start_time|user|recording_id|lead_id|location``; with ``duration=Y`` a duration column before
the location).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from channels.base import ChannelError
from channels.voice.settings import VoiceSettings


@dataclass(frozen=True, slots=True)
class RecordingRow:
    start_time: str
    user: str
    recording_id: str
    lead_id: str
    location: str
    duration: str | None = None


def parse_recording_lookup(body: str) -> list[RecordingRow]:
    """Rows of a recording_lookup answer; ``[]`` for NO RECORDINGS FOUND; other errors raise."""
    text = body.strip()
    if text.startswith("ERROR:"):
        if "NO RECORDINGS FOUND" in text:
            return []
        raise ChannelError(f"VICIdial recording_lookup: {text}")
    rows = []
    for line in text.splitlines():
        fields = line.strip().split("|")
        if len(fields) == 5:
            rows.append(RecordingRow(*fields))
        elif len(fields) == 6:
            start, user, recording_id, lead_id, duration, location = fields
            rows.append(RecordingRow(start, user, recording_id, lead_id, location, duration))
    return rows


class VicidialApi:
    def __init__(self, settings: VoiceSettings, *, timeout: float = 10.0) -> None:
        self._settings = settings
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _credentials(self) -> dict[str, str]:
        s = self._settings
        return {"source": s.vicidial_api_source, "user": s.vicidial_api_user, "pass": s.vicidial_api_pass}

    async def _get(self, url: str, params: dict[str, str]) -> str:
        if not url:
            raise ChannelError("VICIdial API URL is not configured")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.get(url, params=params) as response:
                body = await response.text()
                if response.status != 200:
                    raise ChannelError(f"VICIdial API {url} answered HTTP {response.status}: {body[:200]!r}")
                return body
        except aiohttp.ClientError as exc:
            raise ChannelError(f"VICIdial API {url} unreachable: {exc!r}") from exc

    async def recording_lookup(
        self, *, lead_id: str | None = None, uniqueid: str | None = None, date: str | None = None,
        agent_user: str | None = None,
    ) -> list[RecordingRow]:
        params = {**self._credentials(), "function": "recording_lookup", "stage": "pipe", "header": "NO"}
        for key, value in (("lead_id", lead_id), ("uniqueid", uniqueid), ("date", date), ("agent_user", agent_user)):
            if value:
                params[key] = value
        return parse_recording_lookup(await self._get(self._settings.vicidial_non_agent_api_url, params))

    async def external_dial(self, agent_user: str, number: str, *, phone_code: str, lead_id: str | None = None) -> str:
        """Ask VICIdial to dial ``number`` from ``agent_user``'s screen; returns the SUCCESS line."""
        params = {
            **self._credentials(), "function": "external_dial", "agent_user": agent_user, "value": number,
            "phone_code": phone_code, "search": "YES", "preview": "NO", "focus": "YES",
        }
        if lead_id:
            params["lead_id"] = lead_id
        body = (await self._get(self._settings.vicidial_agent_api_url, params)).strip()
        if not body.startswith("SUCCESS"):
            raise ChannelError(f"VICIdial external_dial for {agent_user}: {body}")
        return body

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
