"""JSON log lines: one object per line with time, level, logger and message (plus the access-log fields
of each request), so the log shipper needs no parsing rules."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from dashboards.context import PRINCIPAL


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"at": datetime.fromtimestamp(record.created, UTC).isoformat(), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        for key in ("method", "path", "status", "duration_ms", "remote", "user", "event"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


#: Paths of the channel intake: hundreds of requests a second, each one already recorded in the inbox, so
#: only their failures are logged at INFO (successes at DEBUG).
INTAKE_PATHS = ("/api/v1/inbound/", "/webhooks/")


class JsonAccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        quiet = response.status < 400 and request.path.startswith(INTAKE_PATHS)
        level = logging.DEBUG if quiet else logging.INFO
        if not self.logger.isEnabledFor(level):
            return
        who = request.get(PRINCIPAL)
        self.logger.log(level, "%s %s %s", request.method, request.path, response.status, extra={
            "method": request.method, "path": request.path, "status": response.status,
            "duration_ms": round(time * 1000, 2), "remote": request.remote, "user": who.id if who else None})


def configure(level: int = logging.INFO) -> None:
    """Send every log record of this process to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
