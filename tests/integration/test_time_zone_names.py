"""A time zone name that is no zone is the caller's mistake, whatever it is: a region (``Europe``, a folder of the
zone database), a name longer than a file name may be. Python's ``zoneinfo`` answers those with an ``OSError``
(``IsADirectoryError``, "File name too long"), not the ``ValueError`` or ``ZoneInfoNotFoundError`` of an unknown
name: every place that reads one answers it as an unknown zone (400, 422), never as a function error."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from pydantic import ValidationError

from shopdesk.analytics import reports, sql
from shopdesk.errors import BadRequest
from shopdesk.logic.expectations import format_eta
from shopdesk.models.sla import BusinessHours
from tests.support import http_event

NOT_ZONES = ["Europe", "America", "Etc", "x" * 300]
ADMIN = {"cognito:username": "root", "cognito:groups": "[admins]"}
WEEK = {"mon": [{"start": "09:00", "end": "17:00"}]}


@pytest.mark.parametrize("name", NOT_ZONES)
def test_a_name_that_is_no_zone_is_an_unknown_zone_wherever_it_is_read(name):
    with pytest.raises(BadRequest, match="tz is not a time zone"):
        reports.period("2026-11-02", "2026-11-09", name)
    with pytest.raises(BadRequest, match="tz is not a time zone"):
        reports.volume_forecast(None, datetime(2026, 11, 9, tzinfo=UTC), None, 7, name)   # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a time zone"):
        sql.Period(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC), name).check()
    with pytest.raises(ValidationError, match="unknown time zone"):
        BusinessHours.model_validate({"time_zone": name, "weekly": WEEK})
    now = datetime(2026, 11, 9, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="unknown time zone"):
        format_eta(now, now, "en", name)


@pytest.mark.parametrize("name", ["Europe", "Etc"])
def test_the_apis_answer_a_name_that_is_no_zone_as_a_problem_not_a_function_error(desk, name):
    # a supervisor's report in a "zone" of that name, an admin's calendar in it
    query = f"from=2026-11-02&to=2026-11-09&tz={quote(name)}"
    report = desk.invoke("reports_api", http_event("GET", "/reports/summary", None, {}, query=query, claims=ADMIN))
    assert report["statusCode"] == 400 and "time zone" in report["body"], report
    calendar = desk.invoke("admin_api", http_event(
        "PUT", "/admin/calendars/office", json.dumps({"time_zone": name, "weekly": WEEK}),
        {"content-type": "application/json"}, claims=ADMIN))
    assert calendar["statusCode"] == 422 and "unknown time zone" in calendar["body"], calendar
