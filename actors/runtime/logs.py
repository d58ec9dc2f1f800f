"""Log lines of an actor process: JSON, one object per line, on stderr at INFO.

A Ray worker process starts with Python's defaults: no handler on the root logger, level WARNING, so
every INFO line of an actor (a skipped bounce, a parked item, a channel starting) is dropped before Ray
could forward it to the console of ``switchboard run``.  Each long-lived actor configures its process
with :func:`configure` at start-up; Ray forwards the worker's stderr to the driver's console."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

#: Extra fields a record may carry (the gateway's access log sets them).
EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "remote", "user", "event")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"at": datetime.fromtimestamp(record.created, UTC).isoformat(), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        for key in EXTRA_FIELDS:
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: int | str | None = None) -> None:
    """Send every log record of this process to stderr as JSON lines (level: ``SWITCHBOARD_LOG``, INFO)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("SWITCHBOARD_LOG", "INFO"))
