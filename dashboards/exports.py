"""Ticket exports, CSV and XLSX, streamed: rows leave the database through a server-side cursor and
go to the client batch by batch, so a million tickets need no more memory than one batch."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from crm_core.tickets_query import EXPORT_COLUMNS, TicketFilter, stream_tickets
from dashboards.context import gateway
from dashboards.masking import mask
from dashboards.reply_shapes import TICKET
from dashboards.xlsx_stream import XlsxStream

Masker = Callable[[list[tuple[Any, ...]]], list[tuple[Any, ...]]]


def row_masker(fields: frozenset[str]) -> Masker:
    """Masks the personal data a ticket row carries (its sender, by its channel) for the role."""
    if not fields:
        return lambda rows: rows

    def masked(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(mask(dict(zip(EXPORT_COLUMNS, row, strict=True)), TICKET, fields).values()) for row in rows]

    return masked


def _csv_chunk(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[v.isoformat() if isinstance(v, datetime) else v for v in row] for row in rows])
    return buffer.getvalue().encode()


async def _start(request: web.Request, content_type: str, extension: str) -> web.StreamResponse:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response = web.StreamResponse(headers={
        "Content-Type": content_type, "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="tickets-{stamp}.{extension}"'})
    response.enable_chunked_encoding()
    await response.prepare(request)
    return response


async def export_csv(request: web.Request, flt: TicketFilter, mask_rows: Masker) -> web.StreamResponse:
    gw = gateway(request)
    async with gw.services.db.connect() as conn:
        batches = stream_tickets(conn, flt, gw.settings.limits.export_batch_rows)
        first = await anext(batches, None)  # a failing query is still a clean error answer here
        response = await _start(request, "text/csv; charset=utf-8", "csv")
        await response.write("\ufeff".encode() + _csv_chunk([EXPORT_COLUMNS]))
        batch = first
        while batch is not None:
            await response.write(await asyncio.to_thread(_csv_chunk, mask_rows(batch)))
            batch = await anext(batches, None)
    await response.write_eof()
    return response


async def export_xlsx(request: web.Request, flt: TicketFilter, mask_rows: Masker) -> web.StreamResponse:
    gw = gateway(request)
    book = XlsxStream(EXPORT_COLUMNS, sheet_title="Tickets")
    async with gw.services.db.connect() as conn:
        batches = stream_tickets(conn, flt, gw.settings.limits.export_batch_rows)
        batch = await anext(batches, None)
        response = await _start(request, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
        while batch is not None:
            rows = [tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in row) for row in mask_rows(batch)]
            chunk = await asyncio.to_thread(book.rows, rows)
            if chunk:
                await response.write(chunk)
            batch = await anext(batches, None)
    await response.write(await asyncio.to_thread(book.close))
    await response.write_eof()
    return response
