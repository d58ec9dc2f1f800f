"""The demo's guard stops a daemon the demo started (the mail sandbox's Dovecot) when the demo process dies
without cleaning up, and leaves it alone once the demo has stopped it and dismissed the guard."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEMO_PROCESS = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from actors.demo.guard import DaemonGuard
    guard = DaemonGuard()
    guard.start(Path(sys.argv[1]), [Path(sys.argv[2])])
    if sys.argv[3] == "dismiss":
        guard.stop()
    print("guarded", flush=True)
    time.sleep(60)
""")


@pytest.fixture
def daemon(tmp_path):
    """A process in its own session, like a daemonised Dovecot, with its pid in a pid file."""
    process = subprocess.Popen(["sleep", "120"], start_new_session=True)
    pid_file = tmp_path / "master.pid"
    pid_file.write_text(f"{process.pid}\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    yield process, pid_file, scratch
    process.kill()
    process.wait()


def run_demo_process(pid_file: Path, scratch: Path, mode: str) -> subprocess.Popen[str]:
    demo = subprocess.Popen([sys.executable, "-c", DEMO_PROCESS, str(pid_file), str(scratch), mode], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert demo.stdout is not None and demo.stdout.readline().strip() == "guarded"
    return demo


def wait_for_exit(process: subprocess.Popen, within_s: float) -> int | None:
    deadline = time.monotonic() + within_s
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return process.poll()


def test_a_killed_demo_takes_its_daemon_and_scratch_with_it(daemon):
    process, pid_file, scratch = daemon
    demo = run_demo_process(pid_file, scratch, "keep")
    demo.kill()
    demo.wait()
    assert wait_for_exit(process, 15.0) is not None, "the daemon outlived the demo"
    deadline = time.monotonic() + 5.0
    while scratch.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not scratch.exists()


def test_a_dismissed_guard_leaves_the_daemon_alone(daemon):
    process, pid_file, scratch = daemon
    demo = run_demo_process(pid_file, scratch, "dismiss")
    demo.kill()
    demo.wait()
    assert wait_for_exit(process, 2.0) is None
    assert scratch.exists()
