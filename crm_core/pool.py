"""The CRM core actor pool: N Ray actors that answer client look-ups for the whole engine.

Each ``CrmWorker`` is an async Ray actor with its own small connection pool; it runs many look-ups at
once (one per pooled connection) and is restarted by Ray if its process dies.  ``CrmPool`` is the
client side: a picklable list of worker handles that sends each call to the worker with the fewest
calls in flight from this process (the first such worker, so light traffic stays on a warm one).  One
process starts the workers with ``CrmPool.start``; any other finds the same named workers with
``CrmPool.connect``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import ray
from ray.actor import ActorHandle
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_core.card import client_card
from crm_core.database import async_engine
from crm_core.driver_sql import AutocommitPool
from crm_core.identify import Identification, identify, identify_with_card
from crm_core.search import SearchQuery, SearchResult, search

T = TypeVar("T")
WORKER_NAME = "crm-worker-{index}"
DEFAULT_CONNECTIONS = 4


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class CrmWorker:
    """One worker of the pool: an async Ray actor with its own connection pool."""

    def __init__(self, database_url: str, connections: int = DEFAULT_CONNECTIONS) -> None:
        # Autocommit: a look-up is one read, so no BEGIN/ROLLBACK round-trips around it.  No ping on
        # checkout either (another round-trip per look-up): a connection found dead is retried once.
        self._engine: AsyncEngine = async_engine(database_url, pool_size=connections, isolation_level="AUTOCOMMIT")
        # Identify and the card are statements sent to the driver: they borrow these connections one
        # statement at a time.
        self._autocommit = AutocommitPool(self._engine, connections=connections)
        self._served = 0

    async def _retried(self, work: Callable[[], Awaitable[T]]) -> T:
        """``work`` once more when its connection was found lost (the server restarted, say)."""
        self._served += 1
        for attempt in (1, 2):
            try:
                return await work()
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _with_connection(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async def connected() -> T:
            async with self._engine.connect() as conn:
                return await work(conn)

        return await self._retried(connected)

    async def identify(self, kind: str, value: str) -> Identification | None:
        return await self._retried(lambda: identify(self._autocommit, kind, value))

    async def identify_with_card(self, kind: str, value: str) -> tuple[Identification | None, dict[str, Any] | None]:
        return await self._retried(lambda: identify_with_card(self._autocommit, kind, value))

    async def search(self, query: SearchQuery) -> SearchResult:
        return await self._with_connection(lambda conn: search(conn, query))

    async def client_card(self, client_id: int, tickets_limit: int = 20,
                          messages_limit: int = 20) -> dict[str, Any] | None:
        return await self._retried(lambda: client_card(
            self._autocommit, client_id, tickets_limit=tickets_limit, messages_limit=messages_limit))

    async def stats(self) -> dict[str, int]:
        """Look-ups served since this worker (re)started, and database connections it holds."""
        return {"served": self._served, "connections": self._engine.pool.checkedout()}

    async def ready(self) -> bool:
        """True once the worker reaches the database (used to wait for a started pool)."""
        async with self._engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return True

    async def close(self) -> None:
        await self._autocommit.close()
        await self._engine.dispose()


class CrmPool:
    """Client of the CRM workers; safe to pickle into other actors (the handles travel with it)."""

    def __init__(self, workers: list[ActorHandle], namespace: str | None = None) -> None:
        if not workers:
            raise ValueError("a CRM pool needs at least one worker")
        self.workers = list(workers)
        self.namespace = namespace
        self._in_flight = [0] * len(self.workers)

    def __getstate__(self) -> dict[str, Any]:
        return {"workers": self.workers, "namespace": self.namespace}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["workers"], state["namespace"])  # type: ignore[misc]

    @classmethod
    def start(cls, n: int, database_url: str, namespace: str | None = None, *, detached: bool = False,
              connections: int = DEFAULT_CONNECTIONS) -> CrmPool:
        """Start (or find, if already running) workers ``crm-worker-0 .. n-1`` in ``namespace``."""
        if n < 1:
            raise ValueError("a CRM pool needs at least one worker")
        options: dict[str, Any] = {"get_if_exists": True, "namespace": namespace}
        if detached:
            options["lifetime"] = "detached"
        workers = [CrmWorker.options(name=WORKER_NAME.format(index=i), **options)
                   .remote(database_url, connections) for i in range(n)]
        return cls(workers, namespace)

    @classmethod
    def connect(cls, n: int, namespace: str | None = None) -> CrmPool:
        """The pool's running workers, found by name (raises ``ValueError`` if one is missing)."""
        return cls([ray.get_actor(WORKER_NAME.format(index=i), namespace=namespace) for i in range(n)], namespace)

    async def wait_ready(self) -> None:
        """Wait until every worker has started and reached the database."""
        for worker in self.workers:
            await worker.ready.remote()

    def _pick(self) -> int:
        # Fewest calls in flight; among equals the first worker, so light traffic keeps one worker (and
        # its database connections) warm while a burst spreads over all of them.
        return min(range(len(self.workers)), key=self._in_flight.__getitem__)

    async def _call(self, method: str, *args: Any) -> Any:
        index = self._pick()
        self._in_flight[index] += 1
        try:
            return await getattr(self.workers[index], method).remote(*args)
        finally:
            self._in_flight[index] -= 1

    async def identify(self, kind: str, value: str) -> Identification | None:
        return await self._call("identify", kind, value)

    async def identify_with_card(self, kind: str, value: str) -> tuple[Identification | None, dict[str, Any] | None]:
        return await self._call("identify_with_card", kind, value)

    async def search(self, query: SearchQuery) -> SearchResult:
        return await self._call("search", query)

    async def client_card(self, client_id: int, *, tickets_limit: int = 20,
                          messages_limit: int = 20) -> dict[str, Any] | None:
        return await self._call("client_card", client_id, tickets_limit, messages_limit)

    def shutdown(self) -> None:
        """Stop the workers (for tests and for a detached pool that is no longer wanted)."""
        for worker in self.workers:
            ray.kill(worker, no_restart=True)
