"""A headless Chromium driven over the Chrome DevTools Protocol, with aiohttp's WebSocket client.

Chromium starts with a fresh profile and ``--remote-debugging-port=0``; the port it picked is read from
``DevToolsActivePort`` in the profile directory.  One page target is attached in flat mode, so every
command carries its ``sessionId``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Browser:
    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.process: subprocess.Popen[bytes] | None = None
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.reader: asyncio.Task[None] | None = None
        self.session_id: str | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen([chromium_path(), *FLAGS, f"--user-data-dir={self.profile}",
                                         "--remote-debugging-port=0", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and len(port_file.read_text().splitlines()) >= 2:
                break
            await asyncio.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        self.http = aiohttp.ClientSession()
        self.ws = await self.http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        self.reader = asyncio.create_task(self._read())
        target = await self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = await self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                                   session=False)
        self.session_id = attached["sessionId"]
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send("Network.enable")

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            future = self.pending.pop(data.get("id"), None)
            if future is not None and not future.done():
                if "error" in data:
                    future.set_exception(RuntimeError(data["error"]))
                else:
                    future.set_result(data.get("result", {}))

    async def send(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> Any:
        message_id = next(self.ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[message_id] = future
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session_id
        await self.ws.send_str(json.dumps(message))
        return await asyncio.wait_for(future, 30)

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})
        await self.wait_for("document.readyState === 'complete'")

    async def js(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                      "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout_s: float = 15.0) -> Any:
        """Poll a JavaScript expression in the page until it is truthy (in JavaScript's sense)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                value = await self.js(f"!!({expression})")
            except AssertionError:
                value = None
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"not reached in the page: {expression}")
            await asyncio.sleep(0.05)

    async def text(self, selector: str) -> str:
        return await self.js(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''")

    async def click(self, selector: str) -> None:
        await self.wait_for(f"document.querySelector({json.dumps(selector)})")
        await self.js(f"document.querySelector({json.dumps(selector)}).click()")

    async def fill(self, selector: str, value: str) -> None:
        await self.wait_for(f"document.querySelector({json.dumps(selector)})")
        await self.js(f"(n => {{ n.value = {json.dumps(value)}; n.dispatchEvent(new Event('input')); }})"
                      f"(document.querySelector({json.dumps(selector)}))")

    async def offline(self, offline: bool) -> None:
        await self.send("Network.emulateNetworkConditions", {"offline": offline, "latency": 0,
                                                             "downloadThroughput": -1, "uploadThroughput": -1})

    async def close(self) -> None:
        """The browser first (its end closes the DevTools socket, so nothing waits on a close handshake
        with a busy browser), then the client side."""
        if self.reader is not None:
            self.reader.cancel()
        if self.process is not None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
        if self.ws is not None:
            await self.ws.close()
        if self.http is not None:
            await self.http.close()
