"""What the screen tests share: the window size people work at, a check that a page does not scroll
sideways, screenshots into the test's directory, and contacts posted through the web-chat API."""

from __future__ import annotations

import base64
from pathlib import Path

from aiohttp import ClientSession

SITE_KEY = {"X-Api-Key": "sandbox-webchat-key"}
NO_SIDEWAYS_SCROLL = ("document.documentElement.scrollWidth <= window.innerWidth"
                      " && document.documentElement.scrollWidth <= document.documentElement.clientWidth")
"""No horizontal scroll: the page is no wider than the window, nor than its width beside the vertical scroll bar."""


async def window(browser, width: int = 1366, height: int = 768) -> None:
    await browser.send("Emulation.setDeviceMetricsOverride",
                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


async def screenshot(browser, directory: Path, name: str) -> Path:
    shot = await browser.send("Page.captureScreenshot", {"format": "png"})
    path = directory / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


async def post_chat(site, thread: str, text: str, phone: str, n: int = 1) -> None:
    async with ClientSession() as http:
        response = await http.post(site.make_url("/api/v1/inbound/site_chat"), headers=SITE_KEY, json={
            "thread": thread, "dedupe_key": f"{thread}-{n}", "from": {"kind": "phone", "value": phone}, "text": text})
        assert response.status == 202, await response.text()
