"""Snooze presets computed from a calendar (shopdesk.logic.snooze.preset_time)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopdesk.logic.snooze import SnoozePreset, preset_time
from shopdesk.models.sla import BusinessHours

OFFICE = BusinessHours.model_validate({
    "time_zone": "Europe/Berlin",
    "weekly": {day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-25"],
})


def berlin(text: str) -> datetime:
    """A Berlin wall-clock time in December (UTC+1) as a UTC instant."""
    local = datetime.fromisoformat(text)
    return local.replace(tzinfo=UTC) - (datetime(2000, 1, 1, 1, tzinfo=UTC) - datetime(2000, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("now,preset,expected", [
    # later today: three hours on, but not past today's close while the office is open later today
    ("2026-12-02T10:00", SnoozePreset.LATER_TODAY, "2026-12-02T13:00"),
    ("2026-12-02T15:30", SnoozePreset.LATER_TODAY, "2026-12-02T17:00"),
    ("2026-12-02T08:00", SnoozePreset.LATER_TODAY, "2026-12-02T11:00"),
    # no open time left today: three hours on
    ("2026-12-02T18:00", SnoozePreset.LATER_TODAY, "2026-12-02T21:00"),
    # tomorrow morning: the next business day's opening
    ("2026-12-02T10:00", SnoozePreset.TOMORROW_MORNING, "2026-12-03T09:00"),
    ("2026-12-04T16:00", SnoozePreset.TOMORROW_MORNING, "2026-12-07T09:00"),      # Friday -> Monday
    ("2026-12-24T11:00", SnoozePreset.TOMORROW_MORNING, "2026-12-28T09:00"),      # over a holiday and a weekend
    ("2026-12-03T00:30", SnoozePreset.TOMORROW_MORNING, "2026-12-04T09:00"),      # after midnight: the next day
    # next week: the opening of next week's first business day
    ("2026-12-02T10:00", SnoozePreset.NEXT_WEEK, "2026-12-07T09:00"),             # Wednesday
    ("2026-12-06T10:00", SnoozePreset.NEXT_WEEK, "2026-12-07T09:00"),             # Sunday
    ("2026-12-07T10:00", SnoozePreset.NEXT_WEEK, "2026-12-14T09:00"),             # Monday: the one after
])
def test_presets_follow_the_business_calendar_in_its_zone(now, preset, expected):
    assert preset_time(preset, berlin(now), OFFICE) == berlin(expected)


def test_a_calendar_open_around_the_clock_uses_three_hours_and_nine_in_the_morning():
    hours = BusinessHours.model_validate({"time_zone": "America/New_York",
                                          "weekly": {d: [{"start": "00:00", "end": "24:00"}]
                                                     for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
    assert hours.is_always_open
    now = datetime(2026, 12, 2, 22, 0, tzinfo=UTC)          # 17:00 in New York (UTC-5), a Wednesday
    assert preset_time(SnoozePreset.LATER_TODAY, now, hours) == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    assert preset_time(SnoozePreset.TOMORROW_MORNING, now, hours) == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    assert preset_time(SnoozePreset.NEXT_WEEK, now, hours) == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def test_every_preset_is_in_the_future():
    for hour in range(24):
        now = berlin(f"2026-12-04T{hour:02d}:15")
        for preset in SnoozePreset:
            assert preset_time(preset, now, OFFICE) > now, (hour, preset)
