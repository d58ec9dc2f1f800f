"""A private Dovecot IMAP server for tests, benchmarks and the demo, started without root's help.

It writes a ~30-line config into its own directory (own ``base_dir``, ``ssl = no``, a static passdb
and userdb, no chroot for the login process), listens on 127.0.0.1 on a free port, and keeps the mail
in a Maildir under the same directory.  Run as root, the login process runs as ``dovenull`` and the
mail as ``dovecot`` (Dovecot refuses to serve mail as uid 0); otherwise everything runs as the caller.

Needs Debian's ``dovecot-imapd`` (``apt-get install -y dovecot-imapd``); :meth:`DovecotServer.available`
says whether it is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import tempfile
from pathlib import Path

import aioimaplib

_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")

_CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
instance_name = {instance}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {base}/dovecot.log
default_internal_user = {internal_user}
default_login_user = {login_user}
mail_location = maildir:{base}/mail/%n
mail_fsync = never
first_valid_uid = {mail_uid}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={base}/mail/%n
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DovecotServer:
    """``await start()``, ``append(mailbox, raw)``, ``await stop()``; ``imap_settings()`` for the channel."""

    def __init__(self, user: str = "support@example.com", password: str = "sandbox-secret") -> None:
        self.user = user
        self.password = password
        self.port = 0
        self.base: Path | None = None
        self._appender: aioimaplib.IMAP4 | None = None
        self._append_lock = asyncio.Lock()

    @staticmethod
    def binary() -> str | None:
        return shutil.which("dovecot") or next(
            (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None
        )

    @classmethod
    def available(cls) -> bool:
        """True when Dovecot and its IMAP server are installed."""
        return cls.binary() is not None and Path("/usr/lib/dovecot/imap").exists()

    @property
    def config_path(self) -> Path:
        assert self.base is not None, "start() first"
        return self.base / "dovecot.conf"

    def _users(self) -> dict[str, str | int]:
        if os.geteuid() == 0:
            mail = pwd.getpwnam("dovecot")
            return {"internal_user": "root", "login_user": "dovenull", "mail_uid": mail.pw_uid, "mail_gid": mail.pw_gid}
        me = pwd.getpwuid(os.geteuid())
        return {"internal_user": me.pw_name, "login_user": me.pw_name, "mail_uid": me.pw_uid, "mail_gid": me.pw_gid}

    def _write_config(self) -> None:
        assert self.base is not None
        users = self._users()
        (self.base / "mail").mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(self.base / "mail", int(users["mail_uid"]), int(users["mail_gid"]))
        self.config_path.write_text(
            _CONFIG.format(base=self.base, instance=f"sb-{self.base.name}", port=self.port,
                           password=self.password, **users)
        )

    async def start(self) -> None:
        """Start the server (or restart it on the same port and mail after :meth:`stop`)."""
        binary = self.binary()
        if binary is None:
            raise RuntimeError("Dovecot is not installed (apt-get install -y dovecot-imapd)")
        if self.base is None:
            self.base = Path(tempfile.mkdtemp(prefix="sb-dovecot-"))
            self.base.chmod(0o755)  # the login and mail users must reach their sockets and Maildir
            self.port = _free_port()
            self._write_config()
        assert self.base is not None
        # The daemon keeps its inherited descriptors open, so its output goes to a file, not a pipe.
        startup_log = self.base / "startup.log"
        with startup_log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(binary, "-c", str(self.config_path), stdout=out, stderr=out)
            await proc.wait()
        if proc.returncode != 0:
            raise RuntimeError(f"dovecot failed to start: {startup_log.read_text(errors='replace').strip()}")
        await self._wait_listening()

    async def _wait_listening(self, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                greeting = await asyncio.wait_for(reader.readline(), 2.0)
                writer.close()
                if greeting.startswith(b"* OK"):
                    return
            except (OSError, TimeoutError):
                pass
            if loop.time() > deadline:
                raise RuntimeError(f"dovecot did not answer on 127.0.0.1:{self.port}; see {self.base}/dovecot.log")
            await asyncio.sleep(0.05)

    def _master_pid(self) -> int | None:
        assert self.base is not None
        try:
            return int((self.base / "run" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    async def stop(self, *, remove: bool = False) -> None:
        """Stop the server (every client connection drops); ``remove`` deletes its directory too."""
        await self._close_appender()
        pid = self._master_pid() if self.base is not None else None
        if pid is not None:
            children = self._children(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not await self._gone(pid, 3.0):
                for straggler in [pid, *children]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(straggler, signal.SIGKILL)
                await self._gone(pid, 2.0)
        if remove and self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    @staticmethod
    async def _gone(pid: int, timeout: float) -> bool:
        for _ in range(int(timeout / 0.025)):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            await asyncio.sleep(0.025)
        return False

    @staticmethod
    def _children(master: int) -> dict[int, str]:
        """``{pid: command}`` of the processes the master started (Linux ``/proc``)."""
        children: dict[int, str] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                if ppid == master:
                    children[int(stat.parent.name)] = stat.with_name("comm").read_text().strip()
            except (OSError, ValueError, IndexError):
                continue
        return children

    async def drop_connections(self) -> int:
        """Kill every client session, as a mailbox that drops connections does; returns how many."""
        master = self._master_pid()
        children = self._children(master) if master is not None else {}
        pids = [pid for pid, command in children.items() if command == "imap"]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    async def restart(self) -> None:
        """Drop every connection, stop, and start on the same port with the same mail."""
        await self.drop_connections()
        await self.stop()
        await self.start()

    def imap_settings(self, mailbox: str = "INBOX") -> dict[str, object]:
        """The ``[email.imap]`` table that points the channel at this server."""
        return {"host": "127.0.0.1", "port": self.port, "user": self.user, "password": self.password,
                "mailbox": mailbox, "tls": "off"}

    async def _client(self) -> aioimaplib.IMAP4:
        if self._appender is None or self._appender.protocol.transport is None or \
                self._appender.protocol.transport.is_closing():
            client = aioimaplib.IMAP4(host="127.0.0.1", port=self.port, timeout=30)
            await client.wait_hello_from_server()
            response = await client.login(self.user, self.password)
            if response.result != "OK":
                raise RuntimeError(f"sandbox login refused: {response.lines}")
            self._appender = client
        return self._appender

    async def append(self, mailbox: str, raw: bytes, flags: str | None = None) -> int:
        """APPEND ``raw`` to ``mailbox`` (created if missing) over IMAP; returns its UID."""
        async with self._append_lock:
            client = await self._client()
            response = await client.append(raw, mailbox=mailbox, flags=flags)
            if response.result != "OK" and mailbox != "INBOX":
                await client.create(mailbox)
                response = await client.append(raw, mailbox=mailbox, flags=flags)
            if response.result != "OK":
                raise RuntimeError(f"append to {mailbox} refused: {response.lines}")
            match = _APPENDUID.search(b" ".join(bytes(line) for line in response.lines))
            return int(match.group(2)) if match else 0

    async def fetch_flags(self, mailbox: str = "INBOX") -> dict[int, set[str]]:
        """``{uid: flags}`` of every message in ``mailbox``: what the channel flagged, seen from outside."""
        async with self._append_lock:
            client = await self._client()
            await client.select(mailbox)
            response = await client.uid("fetch", "1:*", "(UID FLAGS)")
            await client.close()
        flags: dict[int, set[str]] = {}
        for line in response.lines:
            match = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+)", bytes(line))
            if match:
                uid, listed = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
                flags[int(uid)] = set(listed.decode().split())
        return flags

    async def _close_appender(self) -> None:
        client, self._appender = self._appender, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), 2.0)
            if client.protocol.transport is not None:
                client.protocol.transport.close()
