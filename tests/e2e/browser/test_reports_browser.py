"""The Reports page shows the week's top contact reasons: a customer asks where their order is, the router names the
reason, the event lake counts it, and a supervisor sees it in a table with its change from last week."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from tests.e2e.browser.support import axe_violations, send_sms

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def _this_week(stack) -> tuple[datetime, str]:
    """The stack's now (other tests move its clock) and this week's period, as the page asks for it."""
    now = datetime.fromisoformat(stack.get("/_local/clock").json()["now"].replace("Z", "+00:00"))
    return now, f"from={now.date().isoformat()}&to={now.date().isoformat()}T23:59:59%2B00:00"


def test_the_reports_page_lists_the_weeks_top_contact_reasons(stack, open_inbox):
    now, period = _this_week(stack)
    send_sms(stack, f"+3163{uuid.uuid4().int % 10**7:07d}", "Hello, where is my order? It has not arrived yet.")

    def counted() -> bool:           # the router reads the message, the writer turns the change into events
        assert stack.post("/_local/analytics/flush").status == 200
        rows = stack.get(f"/reports/metrics?metric=topics&group_by=week&{period}", token=stack.token("alice")).json()
        return any(r["topic"] == "order_status" and r["conversations"] >= 1 for r in rows["items"])

    stack.wait_for(counted, timeout=30, interval=0.5)
    page = open_inbox("alice")
    page.clock.set_fixed_time(now)                  # the page's week is the stack's
    page.get_by_role("link", name="Reports").click()
    table = page.get_by_role("table", name="Top contact reasons")
    expect(table.get_by_role("row").filter(has_text="order status")).to_have_count(1)
    expect(table.get_by_role("columnheader", name="Change from last week")).to_be_visible()
    assert axe_violations(page) == []
    # and when she picks last week, the page says last week's days and shows what the API counts for them (other
    # tests on this stack may have put order questions there: the API's answer decides what the table must hold)
    monday = now.date() - timedelta(days=now.weekday() + 7)
    sunday = monday + timedelta(days=6)
    page.get_by_role("combobox", name="Period").select_option("last_week")
    day = lambda d: f"{d:%b} {d.day}, {d.year}"  # noqa: E731 (as the page writes a date in English)
    expect(page.get_by_text(f"From {day(monday)} to {day(sunday)}")).to_be_visible()
    last_week = stack.get(f"/reports/metrics?metric=topics&group_by=week&from={monday}&to={sunday + timedelta(days=1)}"
                          f"&tz=UTC", token=stack.token("alice")).json()["items"]
    asked = sum(1 for r in last_week if r["topic"] == "order_status" and r["conversations"] >= 1)
    expect(page.get_by_role("table", name="Top contact reasons").get_by_role("row").filter(has_text="order status")
           ).to_have_count(min(asked, 1))
    assert page.errors == []                        # type: ignore[attr-defined]


def test_a_reload_of_an_app_page_under_an_api_prefix_gives_the_app_back(stack, open_inbox):
    """``/reports`` is the app's page and ``/reports/...`` the reports API: a reload (a navigation, which accepts
    HTML) of the page gets the app, while the API's paths, known or not, stay the API's."""
    page = open_inbox("alice")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    assert page.errors == []                        # type: ignore[attr-defined]

    html = {"Accept": "text/html,application/xhtml+xml"}
    unknown = stack.get("/reports/no-such-report", headers={"Accept": "application/json"})
    assert unknown.status == 404 and unknown.json() == {"message": "Not Found"}
    known = stack.get("/reports/summary", headers=html)       # a route's own answer, even to a browser
    assert known.status == 401 and "json" in known.headers["content-type"]
    assert stack.get("/reports", headers={"Accept": "application/json"}).status == 404
