"""The ``switchboard`` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from actors import admin_cli


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """SIGTERM (systemd, Docker, Kubernetes) stops the engine as Ctrl-C does, so it shuts down cleanly."""
    signal.signal(signal.SIGTERM, _interrupt)


def _run(args: argparse.Namespace) -> int:
    from crm_core.database import embedded_servers_of_this_command

    with embedded_servers_of_this_command():
        return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    from actors.production_guard import preflight
    from actors.system import RayEngine

    stop_on_sigterm()
    engine: RayEngine | None = None
    try:
        engine = RayEngine(args.config)
        if not preflight(args.config, engine.database_url):
            return 2
        url = engine.start()
        stop_on_sigterm()  # again: Ray's start sets a handler of its own that exits with status 15
        print(f"Switchboard is running: {url}", flush=True)
        asyncio.run(asyncio.Event().wait())
    except (KeyboardInterrupt, SystemExit):  # SystemExit: Ray's handler, for a SIGTERM during the start
        print("Switchboard is stopping", flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one does not cut the shutdown short
        if engine is not None:
            engine.stop()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from actors.demo import run_demo
    from crm_core.database import embedded_servers_of_this_command

    stop_on_sigterm()
    with embedded_servers_of_this_command():
        try:
            with contextlib.suppress(KeyboardInterrupt):
                run_demo(args.config, duration_s=args.duration)
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from crm_core.database import migrate, resolve_url

    migrate(resolve_url())
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("SWITCHBOARD_LOG", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = {"seed": "crm_core.seed:main", "simulate": "routing.simulation:main"}
    if argv and argv[0] in passthrough:
        import importlib

        module, _, function = passthrough[argv[0]].partition(":")
        return int(getattr(importlib.import_module(module), function)(argv[1:]) or 0)
    parser = argparse.ArgumentParser(prog="switchboard", description="Omnichannel contact-centre engine")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default: config/)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the engine and the dashboards").set_defaults(func=_run)
    demo = commands.add_parser("demo", help="seed, start the engine with sandbox traffic and agents")
    demo.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    demo.set_defaults(func=_demo)
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=_migrate)
    commands.add_parser("seed", help="generate clients and accounts: seed --accounts N")
    admin_cli.register(commands)
    commands.add_parser("simulate", help="service level a staffing and workflow would give")
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
