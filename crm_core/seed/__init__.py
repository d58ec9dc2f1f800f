"""Realistic test data for the CRM core: clients, accounts, roles and contact points of a gas utility.

``seed(url, accounts)`` appends generated data (COPY, streaming, any size); ``seed_demo_callers(url)``
makes sure the few well-known demo clients exist; ``main(argv)`` is ``switchboard seed``.
"""

from __future__ import annotations

import argparse
import logging

from crm_core.seed.demo import DemoCaller, seed_demo_callers
from crm_core.seed.loader import SeedReport, seed

__all__ = ["DemoCaller", "SeedReport", "main", "seed", "seed_demo_callers"]


def main(argv: list[str]) -> int:
    """``switchboard seed [--accounts N] [--database-url URL] [--seed S] [--no-demo] [--quiet]``."""
    parser = argparse.ArgumentParser(prog="switchboard seed",
                                     description="Add generated clients and accounts to the CRM database.")
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts to add (default 1,000,000)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: DATABASE_URL or the embedded server)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--no-demo", action="store_true", help="do not add the demo callers")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.accounts < 0:
        parser.error("--accounts must be >= 0")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from crm_core.database import migrate, resolve_url

    url = args.database_url or resolve_url()
    migrate(url)
    report = seed(url, args.accounts, progress=not args.quiet, seed=args.seed)
    print(f"added {report.accounts} accounts, {report.clients} clients, {report.account_roles} roles,"
          f" {report.contact_points} contact points in {report.seconds:.1f} s")
    if not args.no_demo:
        for caller in seed_demo_callers(url):
            contacts = ", ".join(v for v in (*caller.phones, caller.email, caller.telegram, caller.viber) if v)
            print(f"demo caller {caller.key}: client {caller.client_id} {caller.full_name}: {contacts};"
                  f" accounts {', '.join(caller.account_numbers)}")
    return 0
