"""The Reports page shows the forecast and the staffing plan: a customer writes, the clock moves a week and a day
on (a forecast learns from whole weeks of the lake's history), and a supervisor sees the next days' expected
conversations and, per hour, the agents needed beside the agents usually online, with inputs to change."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from playwright.sync_api import expect
from tests.e2e.browser.support import axe_violations, send_sms

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_inboxes")]


def test_the_reports_page_shows_the_forecast_and_the_staffing_plan(stack, open_inbox):
    # Given a conversation in the lake, and more than a week since it
    send_sms(stack, f"+3164{uuid.uuid4().int % 10**7:07d}", "Hello, can I still change my delivery address?")

    def lake_has_history() -> bool:
        assert stack.post("/_local/analytics/flush").status == 200
        now = stack.get("/_local/clock").json()["now"][:10]
        got = stack.get(f"/reports/metrics?metric=conversations&from={now}&to={now}T23:59:59%2B00:00",
                        token=stack.token("alice")).json()
        return bool(got["items"]) and got["items"][0]["value"] >= 1

    stack.wait_for(lake_has_history, timeout=30, interval=0.5)
    stack.advance(8 * 86400)

    def forecast_ready() -> bool:
        assert stack.post("/_local/analytics/flush").status == 200
        return stack.get("/reports/forecast?days=7", token=stack.token("alice")).status == 200

    stack.wait_for(forecast_ready, timeout=30, interval=0.5)
    now = datetime.fromisoformat(stack.get("/_local/clock").json()["now"].replace("Z", "+00:00"))

    # When a supervisor opens the Reports page
    page = open_inbox("alice")
    page.clock.set_fixed_time(now)
    page.get_by_role("link", name="Reports").click()

    # Then the forecast has a bar per day of the next seven days' hours (the first and last days may be part
    # days, in the page's zone), told in words too, and the hours in a table
    zone = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")

    def days_of(days: int) -> int:
        got = stack.get(f"/reports/forecast?days={days}&tz={zone}", token=stack.token("alice")).json()
        return len({item["hour"][:10] for item in got["items"]})

    per_day = page.get_by_role("list", name="Conversations expected per day")
    expect(per_day.get_by_role("listitem")).to_have_count(days_of(7))
    expect(page.locator("#forecast-summary")).to_contain_text("conversations expected over 7 days")
    page.get_by_text("Hour by hour").click()
    expect(page.get_by_role("table", name="Forecast · Hour by hour").get_by_role("row")).to_have_count(7 * 24 + 1)
    # and fourteen days when asked
    page.get_by_label("Next").select_option("14")
    expect(per_day.get_by_role("listitem")).to_have_count(days_of(14))

    # and the staffing plan sets the agents needed beside those usually online, for the inputs asked
    plan = page.get_by_role("table", name="Staffing plan")
    expect(plan.get_by_role("columnheader", name="Agents needed")).to_be_visible()
    expect(plan.get_by_role("columnheader", name="Usually online")).to_be_visible()
    expect(page.locator("#staffing-summary")).to_contain_text("staffed hours have fewer agents usually online")
    with page.expect_response(lambda r: "/reports/staffing" in r.url and "concurrency=1" in r.url) as asked:
        page.get_by_label("Conversations an agent holds at once").fill("1")
        page.get_by_role("button", name="Plan").click()
    assert asked.value.status == 200 and "handle_seconds=600" in asked.value.url
    page.get_by_label("Answered within the target (%)").fill("100")
    page.get_by_role("button", name="Plan").click()
    expect(page.get_by_role("alert").filter(has_text="goal between 0 and 100")).to_be_visible()
    page.get_by_text("Hour by hour").click()        # folded again: axe reads a smaller page
    page.get_by_label("Next").select_option("7")
    expect(per_day.get_by_role("listitem")).to_have_count(days_of(7))
    assert axe_violations(page) == []
    assert page.errors == []                        # type: ignore[attr-defined]
