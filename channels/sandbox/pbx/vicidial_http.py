"""A stand-in for VICIdial's web APIs, answering in VICIdial's own plain-text formats.

``/vicidial/non_agent_api.php?function=recording_lookup`` lists the recordings the sandbox PBX made
(``start_time|user|recording_id|lead_id|location``, docs/NON-AGENT_API.txt);
``/agc/api.php?function=external_dial`` places a manual dial from a logged-in agent's session
(docs/AGENT_API.txt) by asking the PBX to play an ``M`` call.
"""

from __future__ import annotations

import random
import time

from aiohttp import web

from channels.sandbox.pbx.server import AmiServer


class VicidialApiServer:
    def __init__(self, pbx: AmiServer, *, user: str = "apiuser", password: str = "apipass", agents: set[str] | None = None) -> None:
        self.pbx = pbx
        self.user = user
        self.password = password
        self.logged_in_agents = agents if agents is not None else set()
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/vicidial/non_agent_api.php", self._non_agent_api)
        app.router.add_get("/agc/api.php", self._agent_api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _authorised(self, q: dict[str, str]) -> bool:
        return q.get("user") == self.user and q.get("pass") == self.password

    async def _non_agent_api(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        function = q.get("function", "")
        if function != "recording_lookup":
            return _text(f"ERROR: function not supported by this sandbox - {function}")
        if not self._authorised(q):
            return _text(f"ERROR: recording_lookup USER DOES NOT HAVE PERMISSION TO GET RECORDING INFO - {q.get('user', '')}|0")
        lead, uniqueid, agent, date = q.get("lead_id", ""), q.get("uniqueid", ""), q.get("agent_user", ""), q.get("date", "")
        if not (lead or uniqueid or agent):
            return _text(f"ERROR: recording_lookup INVALID SEARCH PARAMETERS - {q.get('user')}|{agent}|{lead}|{date}|")
        rows = [
            r for r in self.pbx.recordings
            if (not lead or r["lead_id"] == lead) and (not uniqueid or r["uniqueid"] == uniqueid)
            and (not agent or r["user"] == agent) and (not date or r["start_time"].startswith(date))
        ]
        if not rows:
            return _text(f"ERROR: recording_lookup NO RECORDINGS FOUND - {q.get('user')}|{agent}|{lead}|{date}|")
        return _text("".join(f"{r['start_time']}|{r['user']}|{r['recording_id']}|{r['lead_id']}|{r['location']}\n" for r in rows))

    async def _agent_api(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        if q.get("function") != "external_dial":
            return _text(f"ERROR: function not supported by this sandbox - {q.get('function', '')}")
        if not self._authorised(q):
            return _text(f"ERROR: no user found - {q.get('user', '')}")
        agent, value, code = q.get("agent_user", ""), q.get("value", ""), q.get("phone_code", "")
        if agent not in self.logged_in_agents:
            return _text(f"ERROR: agent_user is not logged in - {agent}")
        if not value.isdigit() or not 6 <= len(value) <= 16:
            return _text(f"ERROR: phone number is not valid - {agent}|{value}||")
        lead_id = random.randint(1000, 9_999_999)
        self.pbx.vicidial_manual_dial(agent, "0" + value if code == "380" else value, lead_id)
        fields = [value, agent, code, q.get("search", ""), q.get("preview", ""), q.get("focus", ""), "", str(int(time.time())), "", "", "", ""]
        return _text("SUCCESS: external_dial function set - " + "|".join(fields))


def _text(body: str) -> web.Response:
    return web.Response(text=body if body.endswith("\n") else body + "\n", content_type="text/html")
