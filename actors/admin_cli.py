"""``switchboard users`` and ``switchboard api-keys``: the first administrator and scripted
administration, on the engine's database (the same changes, checks and audit entries as the
administration pages).

    switchboard users add --role admin --full-name "Коваль Ірина" ikoval      # asks for the password
    echo "$PASSWORD" | switchboard users passwd --password-stdin ikoval
    switchboard users disable ikoval
    switchboard users list
    switchboard api-keys add site_chat        # prints the new key once
    switchboard api-keys rotate site_chat     # a new key; the old ones stop working at once
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from crm_core.password_policy import PasswordPolicy


def register(commands: Any) -> None:
    """Add the ``users`` and ``api-keys`` commands to the ``switchboard`` parser's sub-commands."""
    people = commands.add_parser("users", help="add, change, disable and list users")
    actions = people.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="a new user (asks for the password)")
    add.add_argument("login")
    add.add_argument("--full-name", required=True)
    add.add_argument("--role", required=True)
    add.add_argument("--extension", default=None, help="telephone extension / VICIdial user")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd = actions.add_parser("passwd", help="set a user's password (their sessions end)")
    passwd.add_argument("login")
    passwd.add_argument("--password-stdin", action="store_true")
    for name, text in (("disable", "deactivate a user (their sessions end)"), ("enable", "activate a user again")):
        actions.add_parser(name, help=text).add_argument("login")
    actions.add_parser("list", help="every user, as JSON lines")
    people.set_defaults(func=_users)

    keys = commands.add_parser("api-keys", help="keys of the inbound API sources")
    key_actions = keys.add_subparsers(dest="action", required=True)
    for name, text in (("add", "a new key for a source (printed once)"),
                       ("rotate", "a new key; the source's earlier keys stop working"),
                       ("disable", "every key of the source stops working")):
        key_actions.add_parser(name, help=text).add_argument("source")
    key_actions.add_parser("list", help="every key (never the key itself), as JSON lines")
    keys.set_defaults(func=_api_keys)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"[:64]


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("the passwords differ")
    return first


def _on_database(config_dir: Path | None, work: Callable[[Any], Awaitable[int]]) -> int:
    from actors.settings import Settings
    from crm_core.database import async_engine, migrate, resolve_url
    from crm_core.user_admin import AdminRefused

    url = resolve_url(Settings.load(config_dir).engine.data_dir)
    migrate(url)

    async def run() -> int:
        engine = async_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except AdminRefused as exc:
        print(f"refused: {exc.detail} ({exc.code})", file=sys.stderr)
        return 1


def _roles(config_dir: Path | None) -> tuple[str, ...]:
    from actors.settings import Settings
    from dashboards.settings import DashboardSettings

    return tuple(DashboardSettings.load(Settings.load(config_dir).config_dir).roles)


def _users(args: argparse.Namespace) -> int:
    from crm_core import user_admin, users

    policy = PasswordPolicy()
    password = _password(args) if args.action in ("add", "passwd") else ""
    if args.action == "add" and args.role not in (roles := _roles(args.config)):
        print(f"refused: unknown role {args.role}; one of {', '.join(roles)}", file=sys.stderr)
        return 1

    async def work(conn: Any) -> int:
        if args.action == "list":
            for user in await users.list_users(conn):
                print(json.dumps(user, ensure_ascii=False, default=str))
            return 0
        if args.action == "add":
            user_id = await user_admin.add_user(conn, _actor(), login=args.login, full_name=args.full_name,
                                                role=args.role, password=password, policy=policy,
                                                extension=args.extension)
            print(f"user {args.login} created (id {user_id})")
            return 0
        user_id = await user_admin.user_id_of(conn, args.login)
        if args.action == "passwd":
            await user_admin.reset_password(conn, _actor(), user_id, password, policy)
            print(f"password of {args.login} changed; their sessions ended")
        else:
            changed = await user_admin.set_active(conn, _actor(), user_id, args.action == "enable")
            print(f"user {args.login} {args.action}d" if changed else f"user {args.login} was {args.action}d already")
        return 0

    return _on_database(args.config, work)


def _api_keys(args: argparse.Namespace) -> int:
    from actors.settings import Settings
    from crm_core import api_keys
    from dashboards.settings import DashboardSettings

    sources = DashboardSettings.load(Settings.load(args.config).config_dir).sources
    if args.action != "list" and args.source not in sources:
        print(f"refused: unknown source {args.source}; one of {', '.join(sources)} (config/dashboards.toml)",
              file=sys.stderr)
        return 1

    async def work(conn: Any) -> int:
        if args.action == "list":
            for record in await api_keys.list_keys(conn):
                print(json.dumps(record.public(), default=str))
        elif args.action == "disable":
            print(f"{len(await api_keys.disable_keys(conn, args.source, _actor()))} key(s) of {args.source} disabled")
        else:
            make = api_keys.add_key if args.action == "add" else api_keys.rotate_key
            issued = await make(conn, args.source, _actor())
            print(f"new key of {args.source} (shown only now, keep it safe):\n{issued.key}")
        return 0

    return _on_database(args.config, work)
