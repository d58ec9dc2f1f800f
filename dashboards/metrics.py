"""Prometheus metrics of the gateway: requests by route and status, latency, open event streams, how far
the gateway's relay has followed the event hub, and what the intake skipped: webhooks refused, and the
parked items (dead letters) waiting for a replay, counted from the database at each scrape, whichever
process parked them."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from crm_core import parked as parked_store
from dashboards.contact_centre_metrics import ContactCentreMetrics
from dashboards.context import gateway

log = logging.getLogger(__name__)

PARKED_COUNT_TIMEOUT_S = 2.0


class SkippedItems(Collector):
    """``switchboard_intake_skipped_total{channel, reason}``: items stored but skipped on purpose, whichever
    process took them; the running totals live in the database and are read at each scrape."""

    def __init__(self) -> None:
        self.totals: dict[tuple[str, str], int] = {}

    def collect(self) -> list[CounterMetricFamily]:
        family = CounterMetricFamily("switchboard_intake_skipped", "Items stored but skipped on purpose "
                                     "(bounces, auto-replies, malformed mail kept raw)", labels=("channel", "reason"))
        for (channel, reason), total in sorted(self.totals.items()):
            family.add_metric((channel, reason), total)
        return [family]


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("switchboard_http_requests", "HTTP requests answered",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("switchboard_http_request_seconds", "Time to answer an HTTP request",
                                 ("route",), registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.streams = Gauge("switchboard_event_streams", "Open server-sent event streams", registry=self.registry)
        self.relay_seq = Gauge("switchboard_relay_seq", "Newest event seq the gateway has relayed",
                               registry=self.registry)
        self.events = Counter("switchboard_events_relayed", "Events relayed from the hub", registry=self.registry)
        self.logins = Counter("switchboard_logins", "Login attempts", ("outcome",), registry=self.registry)
        self.inbound = Counter("switchboard_api_inbound", "Items received on the generic API channel",
                               ("source", "outcome"), registry=self.registry)
        self.contact_centre = ContactCentreMetrics(self.registry)
        self.webhooks_refused = Counter("switchboard_webhooks_refused", "Webhook requests refused, nothing stored",
                                        ("channel", "status"), registry=self.registry)
        self.skipped = SkippedItems()
        self.registry.register(self.skipped)
        self.parked = Gauge("switchboard_parked_items", "Inbound items parked (dead letters) waiting for a replay",
                            ("channel",), registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _route_name(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


@web.middleware
async def measure(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics = gateway(request).metrics
        route = _route_name(request)
        metrics.requests.labels(request.method, route, str(status)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)


async def count_intake(request: web.Request) -> None:
    gw = gateway(request)
    try:
        async with asyncio.timeout(PARKED_COUNT_TIMEOUT_S), gw.services.db.connect() as conn:
            waiting = await parked_store.waiting_by_channel(conn)
            gw.metrics.skipped.totals = await parked_store.skipped_totals(conn)
    except Exception as exc:  # noqa: BLE001 - the other metrics are served without this one
        log.warning("metrics: parked and skipped items not counted (%s)", exc)
        return
    for channel in {labels[0] for labels in _label_sets(gw.metrics.parked)} - set(waiting):
        gw.metrics.parked.labels(channel).set(0)
    for channel, count in waiting.items():
        gw.metrics.parked.labels(channel).set(count)


def _label_sets(gauge: Gauge) -> list[tuple[str, ...]]:
    return [tuple(sample.labels.values()) for metric in gauge.collect() for sample in metric.samples]


async def metrics_endpoint(request: web.Request) -> web.Response:
    await gateway(request).metrics.contact_centre.refresh(gateway(request).services)
    await count_intake(request)
    body = gateway(request).metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
