"""A sandbox billing server that serves the billing contract (``contract.json``) over HTTP.

It bills the generated accounts 1..``accounts`` (the numbers :mod:`crm_core.seed` gives them), each
account's figures a fixed function of its id until a payment, a charge or a reading posted to the
sandbox changes it and appends to the change feed.  The feed keeps its last ``feed_size`` entries: a
cursor older than that answers 410, as a real feed that dropped its history would.  Controls under
``/sandbox/`` add latency, slow answers and outages on demand.

Run it with ``python -m crm_core.billing --port 8095 --accounts 1000000``.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from crm_core.seed.codes import account_id_of, account_number, eic_code

TARIFFS = ("Побутовий", "Побутовий (з опаленням)", "Бюджетний")
PAGE_LIMIT = 10_000
DAY_ZERO = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass
class BillingBook:
    """The sandbox's accounts: generated figures plus what was posted since."""

    accounts: int
    feed_size: int = 100_000
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)
    feed: collections.deque[dict[str, Any]] = field(default_factory=collections.deque)
    seq: int = 0
    latency: float = 0.0
    outage: bool = False
    readings: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> reading
    served: int = 0  # contract requests that reached the sandbox
    opened_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def account(self, account_id: int, *, detail: bool) -> dict[str, Any]:
        cents = (account_id * 7_919) % 400_000 - 100_000
        row: dict[str, Any] = {
            "account_no": account_number(account_id), "eic_code": eic_code(account_id),
            "balance": f"{Decimal(cents) / 100:.2f}",
            "as_of": (self.opened_at - timedelta(seconds=account_id % 3600)).isoformat(),
            "tariff": TARIFFS[account_id % len(TARIFFS)]}
        row.update({k: v for k, v in self.changed.get(account_id, {}).items() if k in row})
        if detail:
            row.update(self._detail(account_id))
        return row

    def _detail(self, account_id: int) -> dict[str, Any]:
        serial = f"G{account_id:09d}"
        base = 1_000 + account_id % 5_000
        posted = self.changed.get(account_id, {})
        readings = [{"taken_at": (DAY_ZERO - timedelta(days=30 * n)).date().isoformat(), "value": base - 60 * n,
                     "source": "network_operator"} for n in range(3)]
        readings = posted.get("readings", []) + readings
        return {
            "charges": [{"period": (DAY_ZERO - timedelta(days=30 * n)).strftime("%Y-%m"), "service": "gas",
                         "amount": str(Decimal(30_000 + account_id % 90_000) / 100)} for n in range(3)],
            "payments": posted.get("payments", []) + [
                {"paid_at": (DAY_ZERO - timedelta(days=30 * n + 3)).isoformat(),
                 "amount": str(Decimal(25_000 + account_id % 80_000) / 100), "channel": "bank"} for n in range(3)],
            "equipment": [{"kind": "boiler", "model": "Vaillant ecoTEC", "serial": f"B{account_id:09d}"}],
            "meters": [{"serial": serial, "kind": "gas", "readings": readings}]}

    def find(self, account_no: str) -> int | None:
        account_id = account_id_of(account_no)
        return account_id if account_id is not None and 1 <= account_id <= self.accounts else None

    def change(self, account_id: int, kind: str, **values: Any) -> int:
        self.changed.setdefault(account_id, {}).update(values)
        self.seq += 1
        self.feed.append({"seq": self.seq, "account_no": account_number(account_id), "kind": kind,
                          "at": datetime.now(UTC).isoformat()})
        while len(self.feed) > self.feed_size:
            self.feed.popleft()
        return self.seq

    def pay(self, account_id: int, amount: Decimal) -> int:
        current = self.account(account_id, detail=True)
        payment = {"paid_at": datetime.now(UTC).isoformat(), "amount": str(amount), "channel": "sandbox"}
        return self.change(account_id, "payment", balance=str(Decimal(current["balance"]) + amount),
                           as_of=datetime.now(UTC).isoformat(),
                           payments=[payment, *self.changed.get(account_id, {}).get("payments", [])])


def build_app(book: BillingBook) -> web.Application:
    app = web.Application(middlewares=[_conditions(book)])
    app.router.add_get("/v1/accounts", _list(book))
    app.router.add_get("/v1/accounts/{account_no}", _one(book))
    app.router.add_get("/v1/changes", _changes(book))
    app.router.add_post("/v1/readings", _reading(book))
    app.router.add_post("/sandbox/conditions", _set_conditions(book))
    app.router.add_post("/sandbox/payments", _payment(book))
    return app


def _conditions(book: BillingBook) -> Any:
    @web.middleware
    async def conditions(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/v1/"):
            book.served += 1
            if book.outage:
                return web.json_response({"error": "unavailable"}, status=503)
            if book.latency:
                await asyncio.sleep(book.latency)
        return await handler(request)

    return conditions


def _list(book: BillingBook) -> Any:
    async def handler(request: web.Request) -> web.Response:
        after = int(request.query.get("cursor") or 0)
        limit = min(int(request.query.get("limit") or PAGE_LIMIT), PAGE_LIMIT)
        last = min(book.accounts, after + limit)
        items = [book.account(i, detail=False) for i in range(after + 1, last + 1)]
        return web.json_response({"items": items, "next_cursor": str(last) if last < book.accounts else None,
                                  "feed_seq": book.seq})

    return handler


def _one(book: BillingBook) -> Any:
    async def handler(request: web.Request) -> web.Response:
        account_id = book.find(request.match_info["account_no"])
        if account_id is None:
            return web.json_response({"error": "unknown_account"}, status=404)
        return web.json_response(book.account(account_id, detail=True))

    return handler


def _changes(book: BillingBook) -> Any:
    async def handler(request: web.Request) -> web.Response:
        after = int(request.query.get("after") or 0)
        oldest = book.feed[0]["seq"] if book.feed else book.seq + 1
        if after < oldest - 1:
            return web.json_response({"error": "cursor_expired", "oldest_seq": oldest}, status=410)
        limit = min(int(request.query.get("limit") or PAGE_LIMIT), PAGE_LIMIT)
        changes = [c for c in book.feed if c["seq"] > after][:limit]
        return web.json_response({"changes": changes, "last_seq": book.seq})

    return handler


def _reading(book: BillingBook) -> Any:
    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        key = str(body.get("idempotency_key") or "")
        if key in book.readings:
            return web.json_response(book.readings[key], status=200)
        account_id = book.find(str(body.get("account_no", "")))
        if account_id is None or not key:
            return web.json_response({"error": "unknown_account" if key else "idempotency_key"}, status=422)
        reading = {"taken_at": body.get("taken_at"), "value": body.get("value"), "source": body.get("source")}
        earlier = book.changed.get(account_id, {}).get("readings", [])
        book.change(account_id, "reading", readings=[reading, *earlier])
        book.readings[key] = {**reading, "accepted": True}
        return web.json_response(book.readings[key], status=201)

    return handler


def _set_conditions(book: BillingBook) -> Any:
    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        book.latency = float(body.get("latency_ms", book.latency * 1000)) / 1000
        book.outage = bool(body.get("outage", book.outage))
        if "feed_size" in body:
            book.feed_size = int(body["feed_size"])
        return web.json_response({"latency_ms": book.latency * 1000, "outage": book.outage})

    return handler


def _payment(book: BillingBook) -> Any:
    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        account_id = book.find(str(body.get("account_no", "")))
        if account_id is None:
            return web.json_response({"error": "unknown_account"}, status=404)
        return web.json_response({"seq": book.pay(account_id, Decimal(str(body["amount"])))})

    return handler


async def serve(book: BillingBook, host: str, port: int) -> web.AppRunner:
    """Serve ``book`` on ``host:port`` until the returned runner's ``cleanup()``."""
    runner = web.AppRunner(build_app(book))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
