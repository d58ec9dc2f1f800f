"""``python -m crm_core.billing`` serves the sandbox billing (see :mod:`crm_core.billing.sandbox`)."""

from __future__ import annotations

import argparse

from aiohttp import web

from crm_core.billing.sandbox import BillingBook, build_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Sandbox billing server speaking the billing contract")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--accounts", type=int, default=1_000_000, help="bill accounts 1..N")
    args = parser.parse_args()
    web.run_app(build_app(BillingBook(args.accounts)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
