"""``switchboard run`` stops cleanly on SIGTERM, as systemd, Docker and Kubernetes stop a service: it
exits 0 and leaves no Ray process and no embedded PostgreSQL of its own behind."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
START_S = 240.0
STOP_S = 120.0


def _postmaster_pid(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    return int(pid_file.read_text().splitlines()[0])


@pytest.fixture
def data_dir():
    """Outside pytest's own temporary root: a pytest session starting meanwhile makes that root private
    again, and the embedded PostgreSQL runs as a user of its own when the suite runs as root."""
    directory = Path(tempfile.mkdtemp(prefix="switchboard-life-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_sigterm_stops_run_with_its_ray_processes_and_embedded_postgresql(tmp_path, data_dir):
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    engine_toml = config / "engine.toml"
    engine_toml.write_text(engine_toml.read_text(encoding="utf-8").replace("port = 8080", "port = 0"),
                           encoding="utf-8")
    for channel in (config / "channels").glob("*.toml"):  # no peers to reach in this test
        channel.write_text(channel.read_text(encoding="utf-8").replace("enabled = true", "enabled = false"),
                           encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "SWITCHBOARD_TEST_SERVER_URL", "RAY_ADDRESS")}
    env["SWITCHBOARD_DATA"] = str(data_dir)
    # a production start needs the enabled channels' secrets (none of them a published demo value)
    env.update({"SWITCHBOARD_AMI_SECRET": secrets.token_hex(8), "SWITCHBOARD_VICIDIAL_API_PASS": secrets.token_hex(8)})
    process = subprocess.Popen([sys.executable, "-m", "actors.cli", "--config", str(config), "run"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        deadline = time.monotonic() + START_S
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("Switchboard is running"):
                break
            assert time.monotonic() < deadline, "".join(output)
        else:
            raise AssertionError("switchboard run ended before serving:\n" + "".join(output))
        ours = psutil.Process(process.pid).children(recursive=True)
        assert any("raylet" in " ".join(child.cmdline()) for child in ours), [c.cmdline() for c in ours]
        postmaster = _postmaster_pid(data_dir / "pgdata")
        assert postmaster is not None and psutil.pid_exists(postmaster)

        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=STOP_S)
        output.append(rest)
        assert process.returncode == 0, "".join(output)
        _, alive = psutil.wait_procs(ours, timeout=30)
        assert not alive, f"left running: {[p.cmdline() for p in alive]}"
        assert not _running(postmaster), "the embedded PostgreSQL was left running"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        _stop_postgres_left(data_dir / "pgdata")


def _stop_postgres_left(pgdata: Path) -> None:
    pid = _postmaster_pid(pgdata)
    if pid is not None and _running(pid):
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
