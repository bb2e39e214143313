"""Business-time arithmetic over calendars: weekends, holidays, several windows a day, DST, long targets."""

from __future__ import annotations

import random
import time as wallclock
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from shopdesk.logic.business_time import (
    MAX_CLOSED_DAYS,
    CalendarClosed,
    add_business_seconds,
    business_seconds_between,
    is_open,
    next_open,
)
from shopdesk.models.sla import BusinessHours, Window

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


def office(zone: str = "Europe/Berlin", windows: list[tuple[str, str]] | None = None, days=WORKDAYS,
           holidays: list | None = None) -> BusinessHours:
    windows = windows or [("09:00", "17:00")]
    return BusinessHours(time_zone=zone,
                         weekly={d: [{"start": s, "end": e} for s, e in windows] for d in days},
                         holidays=holidays or [])


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold)


def in_zone(moment: datetime, zone: ZoneInfo) -> tuple[int, ...]:
    """The wall-clock reading of an instant, for readable assertions."""
    wall = moment.astimezone(zone)
    return wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second


def brute_force_open_seconds(a: datetime, b: datetime, hours: BusinessHours, step: int = 60) -> int:
    """Independent oracle: step through real time and ask whether the wall-clock reading is in a window."""
    total, moment, end = 0, a.astimezone(UTC), b.astimezone(UTC)     # step in real time, not wall time
    while moment < end:
        wall = moment.astimezone(hours.zone)
        second_of_day = wall.hour * 3600 + wall.minute * 60 + wall.second
        if any(s <= second_of_day < e for s, e in hours.windows_on(wall.date())):
            total += step
        moment += timedelta(seconds=step)
    return total


# ------------------------------------------------------------------------------ weekends, holidays, windows

def test_given_friday_1700_when_adding_two_business_hours_then_due_monday_1100():
    hours = office()
    due = add_business_seconds(local(BERLIN, 2026, 5, 8, 17), 2 * HOUR, hours)
    assert in_zone(due, BERLIN) == (2026, 5, 11, 11, 0, 0)
    assert due.tzinfo is UTC


def test_given_friday_1600_when_adding_two_business_hours_then_one_hour_friday_and_one_hour_monday():
    due = add_business_seconds(local(BERLIN, 2026, 5, 8, 16), 2 * HOUR, office())
    assert in_zone(due, BERLIN) == (2026, 5, 11, 10, 0, 0)


def test_given_a_holiday_on_monday_when_adding_across_the_weekend_then_due_on_tuesday():
    hours = office(holidays=["2026-05-11"])
    due = add_business_seconds(local(BERLIN, 2026, 5, 8, 16), 2 * HOUR, hours)
    assert in_zone(due, BERLIN) == (2026, 5, 12, 10, 0, 0)
    assert business_seconds_between(local(BERLIN, 2026, 5, 9), local(BERLIN, 2026, 5, 12), hours) == 0


def test_given_a_lunch_break_when_adding_across_it_then_the_break_is_skipped():
    hours = office(windows=[("09:00", "12:30"), ("13:30", "17:00")])
    due = add_business_seconds(local(BERLIN, 2026, 5, 11, 12), 2 * HOUR, hours)
    assert in_zone(due, BERLIN) == (2026, 5, 11, 15, 0, 0)         # 30 minutes before lunch, 90 after
    assert business_seconds_between(local(BERLIN, 2026, 5, 11), local(BERLIN, 2026, 5, 12), hours) == 7 * HOUR


def test_given_a_start_during_lunch_when_adding_then_the_clock_starts_after_lunch():
    hours = office(windows=[("09:00", "12:30"), ("13:30", "17:00")])
    due = add_business_seconds(local(BERLIN, 2026, 5, 11, 12, 45), 30 * 60, hours)
    assert in_zone(due, BERLIN) == (2026, 5, 11, 14, 0, 0)


def test_given_a_partial_day_override_when_adding_then_only_its_windows_count():
    # Given Christmas Eve (Thursday) open 09:00-12:00 only, Christmas Day closed, then the weekend
    hours = office(holidays=[{"date": "2026-12-24", "windows": [{"start": "09:00", "end": "12:00"}]},
                             "2026-12-25"])
    # When two hours are added at 11:00 on Christmas Eve
    due = add_business_seconds(local(BERLIN, 2026, 12, 24, 11), 2 * HOUR, hours)
    # Then one hour is used on the short day and one on Monday the 28th
    assert in_zone(due, BERLIN) == (2026, 12, 28, 10, 0, 0)
    assert business_seconds_between(local(BERLIN, 2026, 12, 24), local(BERLIN, 2026, 12, 25), hours) == 3 * HOUR


def test_given_an_override_on_a_weekend_when_adding_then_the_extra_saturday_is_open():
    hours = office(holidays=[{"date": "2026-05-09", "windows": [{"start": "10:00", "end": "11:00"}]}])
    due = add_business_seconds(local(BERLIN, 2026, 5, 8, 16, 30), 1 * HOUR, hours)
    assert in_zone(due, BERLIN) == (2026, 5, 9, 10, 30, 0)


def test_given_a_calendar_open_24_7_when_adding_then_business_time_is_elapsed_time_even_across_dst():
    hours = BusinessHours.always_open("Europe/Berlin")
    start = local(BERLIN, 2026, 3, 28, 12).astimezone(UTC)
    due = add_business_seconds(start, 24 * HOUR, hours)
    assert due == start + timedelta(hours=24)
    assert in_zone(due, BERLIN) == (2026, 3, 29, 13, 0, 0)       # the local day was 23 hours long
    assert business_seconds_between(start, due, hours) == 24 * HOUR
    assert next_open(start, hours) == start


def test_given_an_always_open_calendar_when_built_twice_then_it_is_the_same_calendar_as_a_full_weekly():
    explicit = BusinessHours(weekly={d: [{"start": "00:00", "end": "24:00"}]
                                     for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    assert explicit == BusinessHours.always_open()
    assert explicit.is_always_open


# ------------------------------------------------------------------------------ start inside / outside / edges

@pytest.mark.parametrize(("start", "expected"), [
    ((2026, 5, 11, 7, 0), (2026, 5, 11, 10, 0, 0)),      # before opening: counts from 09:00
    ((2026, 5, 11, 9, 0), (2026, 5, 11, 10, 0, 0)),      # at opening
    ((2026, 5, 11, 12, 15), (2026, 5, 11, 13, 15, 0)),   # inside
    ((2026, 5, 11, 16, 30), (2026, 5, 12, 9, 30, 0)),    # inside, spills to the next day
    ((2026, 5, 11, 17, 0), (2026, 5, 12, 10, 0, 0)),     # at closing: nothing left today
    ((2026, 5, 11, 22, 0), (2026, 5, 12, 10, 0, 0)),     # after closing
    ((2026, 5, 9, 12, 0), (2026, 5, 11, 10, 0, 0)),      # on a Saturday
])
def test_given_a_start_inside_or_outside_a_window_when_adding_an_hour_then_only_open_time_counts(start, expected):
    due = add_business_seconds(local(BERLIN, *start), HOUR, office())
    assert in_zone(due, BERLIN) == expected


def test_given_a_target_that_fills_the_window_exactly_when_adding_then_due_at_closing_not_next_opening():
    due = add_business_seconds(local(BERLIN, 2026, 5, 8, 15), 2 * HOUR, office())
    assert in_zone(due, BERLIN) == (2026, 5, 8, 17, 0, 0)


def test_given_zero_seconds_when_adding_then_the_start_itself():
    start = local(BERLIN, 2026, 5, 9, 12)
    assert add_business_seconds(start, 0, office()) == start


def test_given_a_one_second_target_when_adding_at_the_last_second_then_due_at_closing_and_after_it_next_day():
    hours = office()
    assert in_zone(add_business_seconds(local(BERLIN, 2026, 5, 11, 16, 59, 59), 1, hours), BERLIN) == \
        (2026, 5, 11, 17, 0, 0)
    assert in_zone(add_business_seconds(local(BERLIN, 2026, 5, 11, 17), 1, hours), BERLIN) == (2026, 5, 12, 9, 0, 1)


def test_given_fractional_seconds_when_adding_then_exact_to_the_microsecond():
    start = local(BERLIN, 2026, 5, 11, 16, 59, 59) + timedelta(microseconds=999_999)
    due = add_business_seconds(start, 0.000002, office())
    assert due.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 5, 12, 9, 0, 0, 1)


def test_given_a_three_week_target_when_adding_then_exact_and_fast():
    hours = office(holidays=["2026-05-14", "2026-05-25"])     # Ascension, Whit Monday
    start = local(BERLIN, 2026, 5, 8, 16)
    began = wallclock.perf_counter()
    due = add_business_seconds(start, 21 * 24 * HOUR, hours)   # 504 business hours = 63 working days
    elapsed = wallclock.perf_counter() - began
    # 1 hour on Fri 8 May, then 62 full working days and 7 hours, skipping two holidays
    assert in_zone(due, BERLIN) == (2026, 8, 7, 16, 0, 0)
    assert business_seconds_between(start, due, hours) == 21 * 24 * HOUR
    assert elapsed < 0.25


def test_given_midnight_spanning_windows_when_adding_then_they_join_without_a_gap():
    hours = BusinessHours(time_zone="Europe/Berlin", weekly={"mon": [{"start": "22:00", "end": "24:00"}],
                                                             "tue": [{"start": "00:00", "end": "06:00"}]})
    due = add_business_seconds(local(BERLIN, 2026, 5, 11, 23), 2 * HOUR, hours)
    assert in_zone(due, BERLIN) == (2026, 5, 12, 1, 0, 0)
    assert business_seconds_between(local(BERLIN, 2026, 5, 11, 22), local(BERLIN, 2026, 5, 12, 6), hours) == 8 * HOUR
    assert next_open(local(BERLIN, 2026, 5, 12, 0), hours) == local(BERLIN, 2026, 5, 12, 0)
    assert is_open(local(BERLIN, 2026, 5, 11, 23, 59, 59), hours)
    assert not is_open(local(BERLIN, 2026, 5, 12, 6), hours)


# ------------------------------------------------------------------------------ DST

def test_given_berlin_spring_forward_weekend_when_adding_across_it_then_monday_wall_clock_is_right():
    due = add_business_seconds(local(BERLIN, 2026, 3, 27, 16), 2 * HOUR, office())
    assert in_zone(due, BERLIN) == (2026, 3, 30, 10, 0, 0)
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)       # CEST, UTC+2 (it was UTC+1 on Friday)


def test_given_berlin_fall_back_weekend_when_adding_across_it_then_monday_wall_clock_is_right():
    due = add_business_seconds(local(BERLIN, 2026, 10, 23, 16), 2 * HOUR, office())
    assert in_zone(due, BERLIN) == (2026, 10, 26, 10, 0, 0)
    assert due == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_given_new_york_spring_forward_weekend_when_adding_across_it_then_monday_wall_clock_is_right():
    hours = office("America/New_York")
    due = add_business_seconds(local(NEW_YORK, 2026, 3, 6, 16), 2 * HOUR, hours)
    assert in_zone(due, NEW_YORK) == (2026, 3, 9, 10, 0, 0)
    assert due == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_given_new_york_fall_back_weekend_when_adding_across_it_then_monday_wall_clock_is_right():
    due = add_business_seconds(local(NEW_YORK, 2026, 10, 30, 16), 2 * HOUR, office("America/New_York"))
    assert in_zone(due, NEW_YORK) == (2026, 11, 2, 10, 0, 0)
    assert due == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "day", "window", "open_hours"), [
    # spring forward: the skipped hour never happens, so a window over it is shortened ...
    ("Europe/Berlin", (2026, 3, 29), ("00:00", "06:00"), 5),
    ("Europe/Berlin", (2026, 3, 29), ("02:30", "05:00"), 2),
    ("America/New_York", (2026, 3, 8), ("01:00", "03:00"), 1),
    # ... and a window entirely inside it does not open at all
    ("Europe/Berlin", (2026, 3, 29), ("02:00", "03:00"), 0),
    ("America/New_York", (2026, 3, 8), ("02:15", "02:45"), 0),
    # fall back: the repeated hour happens twice and is open both times (each real second once)
    ("Europe/Berlin", (2026, 10, 25), ("00:00", "06:00"), 7),
    ("Europe/Berlin", (2026, 10, 25), ("02:00", "03:00"), 2),
    ("America/New_York", (2026, 11, 1), ("01:00", "03:00"), 3),
    ("America/New_York", (2026, 11, 1), ("00:00", "24:00"), 25),
    ("America/New_York", (2026, 3, 8), ("00:00", "24:00"), 23),
])
def test_given_a_dst_change_inside_a_window_when_measuring_the_day_then_real_open_seconds_are_counted(
        zone, day, window, open_hours):
    tz = ZoneInfo(zone)
    hours = BusinessHours(time_zone=zone, weekly={"sun": [{"start": window[0], "end": window[1]}]})
    day_start, day_end = local(tz, *day), local(tz, *day) + timedelta(days=1)   # wall midnights
    measured = business_seconds_between(day_start.astimezone(UTC), day_end.astimezone(UTC), hours)
    assert measured == open_hours * HOUR
    assert measured == brute_force_open_seconds(day_start.astimezone(UTC), day_end.astimezone(UTC), hours)


def test_given_a_window_inside_the_skipped_hour_when_looking_for_the_next_opening_then_it_is_next_week():
    hours = BusinessHours(time_zone="Europe/Berlin", weekly={"sun": [{"start": "02:00", "end": "03:00"}]})
    opening = next_open(local(BERLIN, 2026, 3, 29, 0), hours)
    assert in_zone(opening, BERLIN) == (2026, 4, 5, 2, 0, 0)


def test_given_a_window_starting_in_the_skipped_hour_when_looking_for_the_opening_then_it_is_the_jump():
    hours = BusinessHours(time_zone="Europe/Berlin", weekly={"sun": [{"start": "02:30", "end": "05:00"}]})
    opening = next_open(local(BERLIN, 2026, 3, 29, 0), hours)
    assert opening == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)          # 03:00 CEST, the first instant after 02:00
    assert in_zone(opening, BERLIN) == (2026, 3, 29, 3, 0, 0)


def test_given_the_repeated_hour_when_adding_through_it_then_both_passes_count_as_real_time():
    hours = BusinessHours(time_zone="Europe/Berlin", weekly={"sun": [{"start": "00:00", "end": "06:00"}]})
    start = local(BERLIN, 2026, 10, 25, 0)                             # 00:00 CEST
    due = add_business_seconds(start, 6 * HOUR, hours)
    assert due - start == timedelta(hours=6)
    assert in_zone(due, BERLIN) == (2026, 10, 25, 5, 0, 0)             # 05:00 CET: an hour was repeated
    # and a start during the second pass of 02:30 counts from that real instant
    second_pass = local(BERLIN, 2026, 10, 25, 2, 30, fold=1)
    assert add_business_seconds(second_pass, HOUR, hours) == second_pass.astimezone(UTC) + timedelta(hours=1)
    first_pass = local(BERLIN, 2026, 10, 25, 2, 30, fold=0)
    assert business_seconds_between(first_pass, second_pass, hours) == HOUR


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"])
def test_given_a_year_with_dst_changes_when_measured_day_by_day_then_it_matches_a_brute_force_count(zone):
    # Given a calendar with windows around the usual change hours, several a day, on every day of the week
    hours = BusinessHours(time_zone=zone, weekly={
        d: [{"start": "00:30", "end": "02:15"}, {"start": "02:45", "end": "03:30"}, {"start": "09:00", "end": "17:00"},
            {"start": "23:00", "end": "24:00"}]
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    tz = ZoneInfo(zone)
    # When every day around the transitions of 2026 is measured
    for month, day in ((3, 8), (3, 29), (4, 5), (10, 4), (10, 25), (11, 1)):
        a = local(tz, 2026, month, day).astimezone(UTC) - timedelta(hours=3)
        b = a + timedelta(hours=30)
        # Then the walk agrees with stepping minute by minute
        assert business_seconds_between(a, b, hours) == brute_force_open_seconds(a, b, hours), (month, day)


# ------------------------------------------------------------------------------ inverse and additivity

CALENDARS = {
    "berlin office with lunch and holidays": office(windows=[("08:00", "12:00"), ("12:45", "17:30")],
                                                    holidays=["2026-04-03", "2026-04-06", "2026-12-25",
                                                              {"date": "2026-12-24",
                                                               "windows": [{"start": "09:00", "end": "12:00"}]}]),
    "new york office": office("America/New_York"),
    "night shift across midnight": BusinessHours(time_zone="America/New_York", weekly={
        "sat": [{"start": "20:00", "end": "24:00"}], "sun": [{"start": "00:00", "end": "04:00"}],
        "wed": [{"start": "01:30", "end": "02:30"}]}),
    "24/7 in berlin": BusinessHours.always_open("Europe/Berlin"),
}


@pytest.mark.parametrize("name", list(CALENDARS))
def test_given_many_random_starts_when_adding_then_business_seconds_between_gives_the_amount_back(name):
    hours = CALENDARS[name]
    rng = random.Random(20260504)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(300):
        start = base + timedelta(seconds=rng.randrange(365 * 86400), microseconds=rng.randrange(1_000_000))
        amount = rng.choice([1, 59, 3600, 7200, 8 * 3600, 3 * 86400, 21 * 86400]) + rng.randrange(1_000_000) / 1e6
        due = add_business_seconds(start, amount, hours)
        assert due > start
        assert business_seconds_between(start, due, hours) == pytest.approx(amount, abs=1e-6)
        # due is the earliest such instant: a microsecond earlier, the amount is not yet used
        assert business_seconds_between(start, due - timedelta(microseconds=1), hours) < amount


@pytest.mark.parametrize("name", list(CALENDARS))
def test_given_three_instants_when_measuring_then_open_seconds_add_up(name):
    hours = CALENDARS[name]
    rng = random.Random(7)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(100):
        a, b, c = sorted(base + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(3))
        total = business_seconds_between(a, c, hours)
        assert total == business_seconds_between(a, b, hours) + business_seconds_between(b, c, hours)
        assert total <= (c - a).total_seconds()


def test_given_the_end_before_the_start_when_measuring_then_zero():
    assert business_seconds_between(local(BERLIN, 2026, 5, 12), local(BERLIN, 2026, 5, 11), office()) == 0


def test_given_next_open_when_open_then_now_and_when_closed_then_the_next_window():
    hours = office(windows=[("09:00", "12:30"), ("13:30", "17:00")])
    inside = local(BERLIN, 2026, 5, 11, 10)
    assert next_open(inside, hours) == inside
    assert in_zone(next_open(local(BERLIN, 2026, 5, 11, 12, 30), hours), BERLIN) == (2026, 5, 11, 13, 30, 0)
    assert in_zone(next_open(local(BERLIN, 2026, 5, 8, 17), hours), BERLIN) == (2026, 5, 11, 9, 0, 0)


# ------------------------------------------------------------------------------ calendars without open time

def test_given_a_calendar_with_no_windows_when_built_then_a_clear_validation_error():
    with pytest.raises(ValidationError, match="no open time at all"):
        BusinessHours(time_zone="Europe/Berlin", weekly={"mon": []})


def test_given_a_calendar_whose_every_open_day_is_a_holiday_when_adding_then_calendar_closed_is_raised():
    mondays = [date(2026, 5, 11) + timedelta(weeks=w) for w in range(120)]
    hours = office(days=("mon",), holidays=mondays)
    began = wallclock.perf_counter()
    with pytest.raises(CalendarClosed, match=f"no open time in the {MAX_CLOSED_DAYS} days"):
        add_business_seconds(local(BERLIN, 2026, 5, 9), 60, hours)
    with pytest.raises(CalendarClosed):
        next_open(local(BERLIN, 2026, 5, 9), hours)
    assert wallclock.perf_counter() - began < 1
    # measuring a span is still fine: it is simply closed
    assert business_seconds_between(local(BERLIN, 2026, 5, 9), local(BERLIN, 2027, 5, 9), hours) == 0


def test_given_a_calendar_open_only_on_a_past_override_when_adding_then_calendar_closed_is_raised():
    hours = BusinessHours(holidays=[{"date": "2020-01-01", "windows": [{"start": "09:00", "end": "10:00"}]}])
    with pytest.raises(CalendarClosed):
        add_business_seconds(datetime(2026, 1, 1, tzinfo=UTC), 1, hours)


# ------------------------------------------------------------------------------ bad input and validation

def test_given_a_naive_start_when_adding_then_a_clear_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_seconds(datetime(2026, 5, 11, 9), 60, office())


def test_given_negative_seconds_when_adding_then_a_clear_error():
    with pytest.raises(ValueError, match="must not be negative"):
        add_business_seconds(local(BERLIN, 2026, 5, 11, 9), -1, office())


@pytest.mark.parametrize(("data", "message"), [
    ({"time_zone": "Europe/Atlantis", "weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}},
     "unknown time zone 'Europe/Atlantis'"),
    ({"weekly": {"mon": [{"start": "17:00", "end": "09:00"}]}}, "must start before it ends"),
    ({"weekly": {"mon": [{"start": "09:00", "end": "12:30"}, {"start": "12:00", "end": "17:00"}]}},
     "must be sorted and must not overlap: 09:00-12:30 then 12:00-17:00"),
    ({"weekly": {"mon": [{"start": "13:00", "end": "17:00"}, {"start": "09:00", "end": "12:00"}]}},
     "must be sorted"),
    ({"weekly": {"mon": [{"start": "24:00", "end": "24:00"}]}}, "only allowed as an end"),
    ({"weekly": {"mon": [{"start": "09:75", "end": "17:00"}]}}, "not a time of day"),
    ({"weekly": {"mon": [{"start": "nine", "end": "17:00"}]}}, "expected a time like '09:00'"),
    ({"weekly": {"funday": [{"start": "09:00", "end": "17:00"}]}}, "unknown weekday 'funday'"),
    ({"weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}, "holidays": ["2026-12-25", "2026-12-25"]},
     "2026-12-25 is listed twice"),
    ({"weekly": {"mon": [{"start": "09:00", "end": "17:00"}]},
      "holidays": [{"date": "2026-12-24", "windows": [{"start": "11:00", "end": "12:00"},
                                                      {"start": "09:00", "end": "10:00"}]}]},
     "windows on 2026-12-24 must be sorted"),
])
def test_given_an_invalid_calendar_when_validated_then_the_error_says_what_is_wrong(data, message):
    with pytest.raises(ValidationError, match=message):
        BusinessHours.model_validate(data)


def test_given_full_weekday_names_and_short_times_when_validated_then_normalised_and_round_trips():
    hours = BusinessHours.model_validate({"time_zone": "Europe/Berlin",
                                          "weekly": {"Monday": [{"start": "9:00", "end": "24:00"}]},
                                          "holidays": ["2026-12-25", {"date": "2026-12-24", "windows": []}]})
    dumped = hours.model_dump(mode="json")
    assert dumped["weekly"] == {"mon": [{"start": "09:00", "end": "24:00"}]}
    assert dumped["holidays"] == ["2026-12-25", {"date": "2026-12-24", "windows": []}]
    again = BusinessHours.model_validate_json(hours.model_dump_json())
    assert again == hours
    assert again.windows_on(date(2026, 12, 21)) == ((9 * HOUR, 24 * HOUR),)
    assert again.windows_on(date(2026, 12, 24)) == ()


def test_given_a_copy_with_other_windows_when_used_then_the_new_windows_apply():
    hours = office()
    later = hours.model_copy(update={"weekly": {"mon": [Window(start="12:00", end="13:00")]}})
    assert later.windows_on(date(2026, 5, 11)) == ((12 * HOUR, 13 * HOUR),)
    assert hours.windows_on(date(2026, 5, 11)) == ((9 * HOUR, 17 * HOUR),)
