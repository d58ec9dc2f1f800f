"""Reports over any period with filters (channel, type, category, queue, agent) and the streamed ticket
exports (CSV, XLSX; no row limit)."""

from __future__ import annotations

from aiohttp import web

from crm_core import reports
from dashboards import exports, security_events
from dashboards.api import ApiRoutes, json_response
from dashboards.context import gateway, principal
from dashboards.errors import bad_request
from dashboards.filters import period, ticket_filter
from dashboards.routes.tickets import TICKET_FILTERS, own_only
from dashboards.service_level import queue_service_levels

routes = ApiRoutes("reports")

REPORT_QUERY = {"from": "start (date or ISO time), default 30 days ago", "to": "end (a date includes that day)",
                "channel": "channels", "type": "types", "category": "categories", "queue": "queues",
                "agent_id": "agent ids", "bucket": "hour | day | week | month (time series)"}


@routes.route("GET", "/api/v1/reports/summary", "Counts, first response, resolution, SLA %, FCR, AHT, ASA, "
              "abandonment, top categories, agent load and a time series for the period",
              permission="reports.view", query=REPORT_QUERY)
async def summary(request: web.Request) -> web.Response:
    gw = gateway(request)
    query = request.query
    start, end = period(query)
    flt = ticket_filter(query, gw.services.settings.tickets)
    bucket = query.get("bucket") or ("hour" if (end - start).days <= 2 else "day")
    if bucket not in reports.BUCKETS:
        raise bad_request("invalid_filter", f"bucket: one of {list(reports.BUCKETS)}", field="bucket")

    async with gw.services.db.connect() as conn:
        report = await reports.period_report(conn, flt, start, end, bucket)
    levels = await queue_service_levels(gw.services, start, end)
    return json_response({"from": start, "to": end, "bucket": bucket, **report,
                          "service_level": [level.as_json() for level in levels]})


async def personal_data_export(request: web.Request, kind: str) -> None:
    """An export of tickets (clients' personal data, masked as the role says) is a security event."""
    who = principal(request)
    await security_events.record(request, "export.personal_data", entity_id=who.id, format=kind,
                                 filters=dict(request.query), masked=sorted(who.role.mask))


@routes.route("GET", "/api/v1/exports/tickets.csv", "Every matching ticket as CSV, streamed",
              permission="reports.export", query=TICKET_FILTERS, produces="text/csv")
async def export_csv(request: web.Request) -> web.StreamResponse:
    who = principal(request)
    flt = ticket_filter(request.query, gateway(request).services.settings.tickets, **own_only(who))
    await personal_data_export(request, "csv")
    return await exports.export_csv(request, flt, exports.row_masker(who.role.mask))


@routes.route("GET", "/api/v1/exports/tickets.xlsx", "Every matching ticket as XLSX, streamed",
              permission="reports.export", query=TICKET_FILTERS,
              produces="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
async def export_xlsx(request: web.Request) -> web.StreamResponse:
    who = principal(request)
    flt = ticket_filter(request.query, gateway(request).services.settings.tickets, **own_only(who))
    await personal_data_export(request, "xlsx")
    return await exports.export_xlsx(request, flt, exports.row_masker(who.role.mask))
