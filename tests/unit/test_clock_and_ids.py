"""The one clock and the time-sortable ids built on it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shopdesk import clock
from shopdesk.ids import new_id

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


# ------------------------------------------------------------------------------ clock

@pytest.mark.parametrize(("moment", "text"), [
    (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05.000Z"),
    (datetime(2026, 1, 2, 3, 4, 5, 7000, tzinfo=UTC), "2026-01-02T03:04:05.007Z"),
    (datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC), "2026-01-02T03:04:05.999Z"),
    (datetime(2026, 12, 31, 23, 59, 59, 120000, tzinfo=UTC), "2026-12-31T23:59:59.120Z"),
])
def test_iso_is_fixed_width_utc_with_milliseconds(moment, text):
    assert clock.iso(moment) == text
    assert ISO.match(clock.iso(moment))


def test_iso_converts_other_time_zones_to_utc():
    amsterdam = timezone(timedelta(hours=2))
    assert clock.iso(datetime(2026, 6, 1, 12, 0, 0, 250000, tzinfo=amsterdam)) == "2026-06-01T10:00:00.250Z"


def test_iso_strings_sort_like_the_times_they_name():
    # Given times that sort differently as naive strings (1 ms vs 10 ms vs 100 ms, across a second)
    base = datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC)
    moments = [base + timedelta(milliseconds=ms) for ms in (1000, 100, 10, 1, 0, 999, 86_400_000)]
    # Then sorting the strings gives the same order as sorting the times
    assert sorted(clock.iso(m) for m in moments) == [clock.iso(m) for m in sorted(moments)]


def test_iso_round_trips_through_parse_iso_to_the_millisecond():
    moment = datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)
    parsed = clock.parse_iso(clock.iso(moment))
    assert parsed == moment.replace(microsecond=891000)
    assert parsed.tzinfo is not None and parsed.utcoffset() == timedelta(0)


def test_now_is_timezone_aware_utc():
    assert clock.now().utcoffset() == timedelta(0)
    assert ISO.match(clock.now_iso())


def test_set_offset_moves_now_by_that_many_seconds():
    # Given the clock's reading
    before = clock.now()
    # When it is moved four hours ahead
    clock.set_offset(4 * 3600)
    moved = clock.now()
    # Then now() is four hours later (give or take the time the test takes) and offset() says so
    assert timedelta(hours=4) <= moved - before < timedelta(hours=4, seconds=5)
    assert clock.offset() == 4 * 3600
    # And moving it back restores real time
    clock.set_offset(0)
    assert clock.now() - before < timedelta(seconds=5)



def test_api_moments_are_fixed_width_so_a_whole_second_sorts_with_its_fractions():
    # Given a model an API answers with, holding a moment on the whole second and moments just after it
    from pydantic import BaseModel

    class Out(BaseModel):
        at: clock.Instant
        maybe: clock.Instant | None = None

    base = datetime(2026, 12, 3, 17, 30, 14, tzinfo=UTC)
    moments = [base + timedelta(milliseconds=ms) for ms in (397, 0, 218, 1000)]
    # When they are answered as JSON
    texts = [Out(at=m).model_dump(mode="json")["at"] for m in moments]
    # Then each carries all six digits, and the strings sort like the moments
    assert texts[1] == "2026-12-03T17:30:14.000000Z"
    assert sorted(texts) == [Out(at=m).model_dump(mode="json")["at"] for m in sorted(moments)]
    # And the document still says what the field is; None stays None; Python mode keeps the datetime
    schema = Out.model_json_schema(mode="serialization")["properties"]["at"]
    assert schema == {"format": "date-time", "title": "At", "type": "string"}
    assert Out(at=base).model_dump(mode="json")["maybe"] is None and Out(at=base).model_dump()["at"] == base


# ------------------------------------------------------------------------------ ids

CROCKFORD = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def test_new_id_is_prefix_and_26_crockford_characters():
    value = new_id("c_")
    assert value.startswith("c_")
    assert CROCKFORD.match(value[len("c_"):])


def test_new_ids_are_unique():
    values = {new_id("m_") for _ in range(5000)}
    assert len(values) == 5000


def test_new_ids_sort_by_the_clock_time_they_were_made():
    # Given ids made at clock times an hour apart, out of real order
    made = []
    for offset in (3600, -3600, 0, 7200, 1):
        clock.set_offset(offset)
        made.append((offset, new_id("c_")))
    # Then sorting the ids sorts them by the (moved) clock
    assert [offset for offset, _ in sorted(made, key=lambda pair: pair[1])] == [-3600, 0, 1, 3600, 7200]


def test_new_id_encodes_the_clock_milliseconds_in_its_first_ten_characters():
    clock.set_offset(0)
    before = int(clock.now().timestamp() * 1000)
    value = new_id("x")[1:]
    after = int(clock.now().timestamp() * 1000)
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    millis = 0
    for char in value[:10]:
        millis = millis * 32 + alphabet.index(char)
    assert before <= millis <= after
