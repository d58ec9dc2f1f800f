"""A guard for what outlives the demo process: the mail sandbox's Dovecot runs as a daemon of its own, so
it does not die with us.  The guard is a tiny process in its own session that waits for the demo to be
gone — however it went: SIGKILL, or Ray ending the driver because its own processes got the
terminal's SIGTERM — then stops that Dovecot and removes the demo's scratch directories."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

_GUARD = """
import os, shutil, signal, sys, time
parent, pid_file, scratch = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
signal.signal(signal.SIGINT, signal.SIG_IGN)
while os.getppid() == parent:
    time.sleep(0.5)
try:
    with open(pid_file) as f:
        os.kill(int(f.read().strip()), signal.SIGTERM)
    time.sleep(2)
except (OSError, ValueError):
    pass
for path in scratch:
    shutil.rmtree(path, ignore_errors=True)
"""


class DaemonGuard:
    """``start(pid_file, scratch)`` once the daemon runs; ``stop()`` after stopping it ourselves."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, pid_file: Path, scratch: Sequence[Path] = ()) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _GUARD, str(os.getpid()), str(pid_file), *map(str, scratch)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
