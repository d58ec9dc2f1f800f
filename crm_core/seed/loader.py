"""Loading generated clients and accounts into PostgreSQL with COPY.

One transaction: take the seeding lock, continue after the highest ids already there, stream chunks of
COPY text (a producer thread generates the next chunk while the current one is copied, so memory stays
bounded at any size), then advance the identity sequences.  A big load drops the secondary indexes first
and builds them again at the end (much faster than updating them row by row); since DDL is
transactional, a failed load leaves the database as it was, indexes included.  ANALYZE follows.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
from tqdm import tqdm

from crm_core.database import libpq_dsn
from crm_core.seed.generator import ChunkGenerator, ChunkRows

log = logging.getLogger(__name__)

SEED_LOCK_KEY = 0x5EED_C0DE
CHUNK_ACCOUNTS = 20_000
REBUILD_INDEXES_FROM = 100_000  # accounts in one load; and at least half of what is there already
SEEDED_TABLES = ("clients", "accounts", "account_roles", "contact_points")

_COPY = {
    "clients": "COPY clients (id, kind, full_name, segment, language) FROM STDIN",
    "accounts": ("COPY accounts (id, account_no, eic_code, service_address, tariff, balance, balance_as_of)"
                 " FROM STDIN"),
    "account_roles": "COPY account_roles (account_id, client_id, role) FROM STDIN",
    "contact_points": "COPY contact_points (client_id, kind, value, is_primary) FROM STDIN",
}


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What one seeding run added."""

    accounts: int
    clients: int
    account_roles: int
    contact_points: int
    first_account_id: int
    first_client_id: int
    seconds: float
    rebuilt_indexes: tuple[str, ...]


def seed(url: str, accounts: int = 1_000_000, *, progress: bool = True, seed: int = 1,
         chunk_accounts: int = CHUNK_ACCOUNTS, rebuild_indexes: bool | None = None) -> SeedReport:
    """Add ``accounts`` generated accounts with their clients and contact points to the database at
    ``url`` (migrated already).  Appends after whatever is there; the same ``seed`` on the same
    starting ids gives the same rows.  ``rebuild_indexes`` (default: for a big load, at least
    ``REBUILD_INDEXES_FROM`` accounts and half of what is there) drops the secondary indexes (trigram
    GIN, unique and lookup btrees; primary keys stay) for the load and builds them again after it."""
    if accounts < 0 or chunk_accounts <= 0:
        raise ValueError("accounts must be >= 0 and chunk_accounts > 0")
    started = time.perf_counter()
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEED_LOCK_KEY,))
            _fast_load_settings(conn)
            first_client_id = _next_id(conn, "clients")
            first_account_id = _next_id(conn, "accounts")
            existing_accounts = first_account_id - 1
            if rebuild_indexes is None:
                rebuild_indexes = accounts >= REBUILD_INDEXES_FROM and accounts * 2 >= existing_accounts
            rebuild = _drop_secondary_indexes(conn) if rebuild_indexes else []
            generator = ChunkGenerator(seed, first_client_id)
            counts = dict.fromkeys(SEEDED_TABLES, 0)
            with tqdm(total=accounts, unit="acc", unit_scale=True, disable=not progress,
                      desc="seeding accounts") as bar:
                for rows in _chunks_ahead(generator, first_account_id, accounts, chunk_accounts):
                    _copy_chunk(conn, rows, counts)
                    bar.update(len(rows.accounts))
            for name, definition in rebuild:
                if progress:
                    print(f"building index {name} ...", flush=True)
                conn.execute(definition)
            for table in ("clients", "accounts"):
                _advance_sequence(conn, table)
        if accounts:
            conn.execute("ANALYZE " + ", ".join(SEEDED_TABLES))
    return SeedReport(
        accounts=counts["accounts"], clients=counts["clients"], account_roles=counts["account_roles"],
        contact_points=counts["contact_points"], first_account_id=first_account_id,
        first_client_id=first_client_id, seconds=time.perf_counter() - started,
        rebuilt_indexes=tuple(name for name, _ in rebuild),
    )


def _fast_load_settings(conn: psycopg.Connection) -> None:
    conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
    conn.execute("SET LOCAL synchronous_commit = off")
    try:
        # The generated rows are consistent by construction; skipping the per-row foreign key checks
        # roughly halves the load time.  Needs a superuser; without one the checks just run.
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        log.info("not a superuser: foreign keys are checked row by row during the load")


def _next_id(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(
        f"SELECT greatest(coalesce(max(id), 0),"
        f" coalesce(pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')::regclass), 0))"
        f" FROM {table}").fetchone()
    assert row is not None
    return int(row[0]) + 1


def _advance_sequence(conn: psycopg.Connection, table: str) -> None:
    conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                 f" HAVING max(id) IS NOT NULL")


def _drop_secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Drop every index of the seeded tables but the primary keys; return (name, statement that makes
    it again).  Unique constraints come back as constraints, so a clash would fail the rebuild (and
    roll the whole load back) rather than pass unnoticed."""
    rows = conn.execute(
        "SELECT i.indexrelid::regclass::text, t.relname, c.conname, pg_get_indexdef(i.indexrelid),"
        " pg_get_constraintdef(c.oid)"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u'"
        " WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace"
        " AND NOT i.indisprimary ORDER BY t.relname, 1",
        (list(SEEDED_TABLES),)).fetchall()
    rebuild: list[tuple[str, str]] = []
    for index_name, table, constraint, index_def, constraint_def in rows:
        if constraint:
            conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"')
            rebuild.append((str(constraint), f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" {constraint_def}'))
        else:
            conn.execute(f"DROP INDEX {index_name}")
            rebuild.append((str(index_name), str(index_def)))
    return rebuild


def _chunks_ahead(generator: ChunkGenerator, first_account_id: int, accounts: int,
                  chunk_accounts: int) -> Iterator[ChunkRows]:
    """Chunks generated by a producer thread, at most two ahead of the consumer."""
    ready: queue.Queue[ChunkRows | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def offer(item: ChunkRows | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for offset in range(0, accounts, chunk_accounts):
                rows = generator.chunk(first_account_id + offset, min(chunk_accounts, accounts - offset))
                if not offer(rows):
                    return
            offer(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            offer(exc)

    producer = threading.Thread(target=produce, name="seed-generator", daemon=True)
    producer.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()


def _copy_chunk(conn: psycopg.Connection, rows: ChunkRows, counts: dict[str, int]) -> None:
    with conn.cursor() as cur:
        for table in SEEDED_TABLES:
            lines: list[str] = getattr(rows, table)
            if not lines:
                continue
            with cur.copy(_COPY[table]) as copy:
                copy.write("".join(lines))
            counts[table] += len(lines)
