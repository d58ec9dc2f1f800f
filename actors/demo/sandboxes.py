"""Every channel's sandbox peer for the demo, together: started on 127.0.0.1 before the engine, the
channel tables built to point at them, their customers (and the web visitors) played at the rates of
config/demo.toml ``[traffic]``, and everything stopped again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actors.demo.peers import MailPeer, PbxPeer, SandboxPeer, TelegramPeer, ViberPeer
from crm_core.seed.demo import DemoCaller

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrafficRates:
    """New contacts (or customer actions, for the chatbots) per second on each channel."""

    calls: float = 0.3
    telegram: float = 0.5
    viber: float = 0.5
    email: float = 0.3
    web: float = 1.0

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> TrafficRates:
        defaults = cls()
        return cls(**{name: float(table.get(f"{name}_per_s", getattr(defaults, name)))
                      for name in cls.__dataclass_fields__})

    def of(self, channel: str) -> float:
        return self.calls if channel == "voice" else float(getattr(self, channel))


class SandboxPeers:
    """``await start()``, hand :meth:`channel_tables` to the engine, ``await play(...)``, ``await stop()``."""

    def __init__(self, channels: Mapping[str, Mapping[str, Any]], extensions: Sequence[str], desks: Sequence[str],
                 callers: Sequence[DemoCaller], run_dir: Path, run: int) -> None:
        """The PBX rings ``extensions`` (the sandbox agents'); ``desks`` are every agent's extension.
        ``run`` is the second this run started (see :data:`actors.demo.peers.IDS_PER_SECOND`)."""
        self.bases = {name: table for name, table in channels.items() if table.get("enabled", True)}
        self.extensions = list(extensions)
        self.desks = list(desks)
        self.callers = list(callers)
        self.run_dir = run_dir
        self.run = run
        self.peers: dict[str, SandboxPeer] = {}
        self.skipped: dict[str, str] = {}

    def _peer(self, name: str, base: Mapping[str, Any]) -> SandboxPeer | None:
        if name == "voice":
            return PbxPeer(base, self.extensions, self.desks, self.callers)
        if name == "telegram":
            return TelegramPeer(base, self.callers, self.run)
        if name == "viber":
            return ViberPeer(base, self.callers, self.run, self.run_dir)
        if name == "email":
            if not MailPeer.available():
                self.skipped[name] = "Dovecot is not installed (apt-get install -y dovecot-imapd)"
                return None
            return MailPeer(base, self.callers, self.run, self.run_dir)
        self.skipped[name] = "the demo has no sandbox peer for it"
        return None

    async def start(self) -> None:
        """Start a peer for every enabled channel; one that cannot start is skipped with a log line."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for name, base in self.bases.items():
            peer = None
            try:
                peer = self._peer(name, base)
                if peer is not None:
                    await peer.start()
                    self.peers[name] = peer
            except Exception as exc:
                self.skipped[name] = f"its sandbox did not start: {exc}"
                if peer is not None:
                    with contextlib.suppress(Exception):
                        await peer.stop()
            if name in self.skipped:
                log.warning("demo: %s channel skipped: %s", name, self.skipped[name])

    def channel_tables(self, gateway_url: str) -> dict[str, dict[str, Any]]:
        """The table of each channel whose peer runs, pointed at that peer (``engine.start(channels=...)``)."""
        return {name: peer.table(self.bases[name], gateway_url) for name, peer in self.peers.items()}

    async def play(self, rates: TrafficRates, dashboard_url: str, known_phones: Sequence[str],
                   duration_s: float | None = None) -> dict[str, int]:
        """Customers on every running channel, and web visitors through the HTTP API channel, until
        ``duration_s`` passes (or cancelled); returns how many contacts or actions each played."""
        from channels.sandbox.web import run_traffic

        plays: dict[str, Any] = {name: peer.traffic(rates.of(name), duration_s)
                                 for name, peer in self.peers.items() if rates.of(name) > 0}
        if rates.web > 0:
            plays["web"] = run_traffic(dashboard_url, rates.web, duration_s, known_phones=known_phones)
        tasks = {name: asyncio.create_task(play, name=f"demo-traffic-{name}") for name, play in plays.items()}
        try:
            counts = await asyncio.gather(*tasks.values())
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        return dict(zip(tasks, counts, strict=True))

    async def stop(self) -> None:
        for name, peer in self.peers.items():
            try:
                await peer.stop()
            except Exception:
                log.exception("demo: the %s sandbox did not stop cleanly", name)
        self.peers.clear()
        shutil.rmtree(self.run_dir, ignore_errors=True)
