"""The one clock every function reads.

In AWS it is the system clock. The local stack and the tests move it with ``set_offset`` so SLA
deadlines can be reached without waiting; nothing else in the code calls ``time`` or ``datetime.now``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

_offset_seconds = 0.0


def set_offset(seconds: float) -> None:
    """Shift the clock by ``seconds`` from the system clock (local stack and tests only)."""
    global _offset_seconds
    _offset_seconds = float(seconds)


def offset() -> float:
    return _offset_seconds


def zone(name: str) -> ZoneInfo:
    """The IANA zone of this name; ValueError ("unknown time zone") for any name that is none. ``zoneinfo`` reads a
    name as a path in the zone database: a region (``Europe``, a folder there) or a name longer than a file name may
    be is an OSError to it, not the ZoneInfoNotFoundError of an unknown one, and a caller's mistake all the same."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def now() -> datetime:
    """The current time, UTC, timezone-aware."""
    return datetime.fromtimestamp(time.time() + _offset_seconds, UTC)


def iso(moment: datetime) -> str:
    """Fixed-width ISO 8601 UTC with milliseconds, so strings sort like the times they name."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def now_iso() -> str:
    return iso(now())


def iso_micro(moment: datetime) -> str:
    """Fixed-width ISO 8601 UTC with microseconds: what the APIs answer (``2026-03-02T15:15:01.000000Z``)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# A moment in a model that an API answers with. Pydantic's own JSON drops the fraction when it is zero
# (``…15:01Z`` beside ``…15:01.218000Z``), so a client sorting the strings put a whole second out of order.
Instant = Annotated[datetime, PlainSerializer(iso_micro, return_type=str, when_used="json"),
                    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")]

# The times a caller may name: from the start of 2000 to the end of 2100, UTC. Nothing the desk keeps is older than
# 2000, and nothing it does needs a time after 2100 (a snooze, a search of the audit trail); the reports cover the same
# years. Inside it every time converts to UTC and writes as the fixed-width ISO string the desk stores and sorts by;
# at the calendar's edge (9999-12-31T23:59:59-01:00) Python's conversion overflows.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)          # exclusive
RANGE = "2000-01-01T00:00:00Z to before 2101-01-01T00:00:00Z"       # in words


def in_range(moment: datetime) -> bool:
    """Whether an aware ``moment`` is between ``EARLIEST`` and ``LATEST`` (``LATEST`` itself is not)."""
    try:
        return EARLIEST <= moment.astimezone(UTC) < LATEST
    except OverflowError:           # in UTC it would be before year 1 or after 9999
        return False


def _in_range(moment: datetime) -> datetime:
    if not in_range(moment):
        raise PydanticCustomError("datetime_range", f"Input should be a time from {RANGE}")
    return moment


# A moment a caller gives (a query parameter, a body's field). It must name its zone or offset (``Z``, ``+01:00``):
# one without is refused (422, ``timezone_aware``) before it is compared with the aware times the desk keeps, which
# Python refuses with a TypeError. One outside ``EARLIEST``..``LATEST`` is refused too (422, ``datetime_range``).
AwareInstant = Annotated[AwareDatetime, AfterValidator(_in_range),
                         PlainSerializer(iso_micro, return_type=str, when_used="json"),
                         WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")]
