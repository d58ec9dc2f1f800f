"""The access log: every request at INFO, except accepted channel intake (hundreds a second, each one
already in the inbox), which drops to DEBUG; intake failures stay at INFO."""

import logging

import pytest
from aiohttp.test_utils import make_mocked_request
from aiohttp.web import Response

from dashboards.json_logs import JsonAccessLogger


@pytest.mark.parametrize(("path", "status", "level"), [
    ("/api/v1/inbound/mobile_app", 202, logging.DEBUG),
    ("/webhooks/viber", 200, logging.DEBUG),
    ("/api/v1/inbound/mobile_app", 401, logging.INFO),
    ("/webhooks/viber", 403, logging.INFO),
    ("/api/v1/tickets", 200, logging.INFO),
])
def test_access_log_level_follows_path_and_status(caplog, path, status, level):
    logger = logging.getLogger("test.access")
    caplog.set_level(logging.DEBUG, logger="test.access")
    JsonAccessLogger(logger, "").log(make_mocked_request("POST", path), Response(status=status), 0.01)
    [record] = caplog.records
    assert record.levelno == level
    assert (record.path, record.status) == (path, status)


def test_quiet_intake_costs_nothing_when_debug_is_off(caplog):
    logger = logging.getLogger("test.access.quiet")
    caplog.set_level(logging.INFO, logger="test.access.quiet")
    JsonAccessLogger(logger, "").log(make_mocked_request("POST", "/api/v1/inbound/web"), Response(status=202), 0.01)
    assert caplog.records == []
