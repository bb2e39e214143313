"""SLA policies and business-hours calendars, as a support lead configures them.

A calendar (``BusinessHours``) says when the team is open: a time zone, a weekly schedule with any number of
windows per day, whole-day holidays and partial-day overrides. A policy (``SlaPolicy``) holds the targets per
priority, the calendar they are measured in, the warning fraction, and the conditions (channel, customer tier,
team) that select it. ``choose_policy`` picks the one policy that applies to a conversation.

The arithmetic over a calendar (due instants, open seconds between two instants) is in
``shopdesk.logic.business_time``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from datetime import date, time
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from shopdesk import clock
from shopdesk.models.conversation import Priority

DAY_SECONDS = 86_400

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def index(self) -> int:
        """0 for Monday .. 6 for Sunday, like ``date.weekday()``."""
        return list(Weekday).index(self)


_WEEKDAY_NAMES = {
    **{d.value: d for d in Weekday},
    "monday": Weekday.MON, "tuesday": Weekday.TUE, "wednesday": Weekday.WED, "thursday": Weekday.THU,
    "friday": Weekday.FRI, "saturday": Weekday.SAT, "sunday": Weekday.SUN,
}


class NoMatchingPolicy(LookupError):
    """No SLA policy applies to a conversation (configure a default policy without conditions)."""


def _clock_seconds(value: Any, *, allow_24: bool) -> int:
    """``"09:00"`` / ``"09:00:30"`` / ``time(9)`` -> seconds since midnight; ``"24:00"`` only where allowed."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError("a window time is a wall-clock time in the calendar's zone; give it without a zone")
        return value.hour * 3600 + value.minute * 60 + value.second
    if not isinstance(value, str):
        raise ValueError(f"expected a time like '09:00', got {value!r}")
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f"expected a time like '09:00' or '17:30', got {value!r}")
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if minutes > 59 or seconds > 59:
        raise ValueError(f"{value!r} is not a time of day")
    total = hours * 3600 + minutes * 60 + seconds
    if total > DAY_SECONDS or (total == DAY_SECONDS and not allow_24) or hours > 24:
        hint = "" if allow_24 else " ('24:00' is only allowed as an end)"
        raise ValueError(f"{value!r} is not a time of day{hint}")
    return total


def _format_clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


class Window(BaseModel):
    """One opening window of a day, in the calendar's wall-clock time: ``[start, end)``.

    ``end`` may be ``"24:00"`` (midnight at the end of the day); a window that runs past midnight is written
    as two windows, ``22:00-24:00`` on one day and ``00:00-06:00`` on the next, which join without a gap.
    """

    model_config = ConfigDict(frozen=True)

    start: str
    end: str

    @model_validator(mode="before")
    @classmethod
    def _written_as_range(cls, value: Any) -> Any:
        """``"09:00-17:30"`` is the window's short form (``ConversationClocks.stored_json`` keeps windows so)."""
        if isinstance(value, str):
            start, dash, end = value.partition("-")
            if not dash:
                raise ValueError(f"a window is {{start, end}} or 'HH:MM-HH:MM', got {value!r}")
            return {"start": start.strip(), "end": end.strip()}
        return value

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> str:
        return _format_clock(_clock_seconds(value, allow_24=False))

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> str:
        return _format_clock(_clock_seconds(value, allow_24=True))

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start_seconds >= self.end_seconds:
            raise ValueError(f"a window must start before it ends: {self.start}-{self.end} "
                             "(split a window past midnight into ...-24:00 and 00:00-... on the next day)")
        return self

    @property
    def start_seconds(self) -> int:
        return _clock_seconds(self.start, allow_24=False)

    @property
    def end_seconds(self) -> int:
        return _clock_seconds(self.end, allow_24=True)

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


def _check_windows(windows: list[Window], where: str) -> list[Window]:
    for before, after in pairwise(windows):
        if after.start_seconds < before.end_seconds:
            raise ValueError(f"windows on {where} must be sorted and must not overlap: {before} then {after}")
    return windows


class DayOverride(BaseModel):
    """A date with its own windows (a short day before a holiday, an extra Saturday); no windows = closed."""

    model_config = ConfigDict(frozen=True)

    date: date
    windows: list[Window] = Field(default_factory=list)

    @model_validator(mode="after")
    def _windows(self) -> DayOverride:
        _check_windows(self.windows, self.date.isoformat())
        return self


Intervals = tuple[tuple[int, int], ...]   # (start, end) seconds since local midnight, sorted, disjoint


class CompiledHours:
    """A calendar prepared for arithmetic: plain tuples and dicts, looked up by proleptic ordinal."""

    __slots__ = ("always_open", "overrides", "weekly", "zone")

    def __init__(self, zone: ZoneInfo, weekly: tuple[Intervals, ...], overrides: dict[int, Intervals]) -> None:
        self.zone = zone
        self.weekly = weekly
        self.overrides = overrides
        self.always_open = not overrides and all(day == ((0, DAY_SECONDS),) for day in weekly)

    def windows_on_ordinal(self, ordinal: int) -> Intervals:
        found = self.overrides.get(ordinal)
        if found is not None:
            return found
        return self.weekly[(ordinal - 1) % 7]     # date.fromordinal(1) is a Monday


class BusinessHours(BaseModel):
    """When a team is open, in wall-clock time of one IANA time zone.

    ``weekly`` maps a weekday (``mon`` .. ``sun``) to its windows; a missing day is closed. ``holidays`` lists
    whole closed dates and partial-day overrides (``{"date": "2026-12-24", "windows": [...]}``); an override
    replaces the weekly windows of its date.

    DST: the calendar is open at every real instant whose wall-clock reading in ``time_zone`` falls in a
    window. A window (or the part of one) that does not exist on a spring-forward day is shortened; a wall-clock
    hour repeated on a fall-back day is open both times it happens, so each real second is counted once.
    """

    model_config = ConfigDict(frozen=True)

    time_zone: str = "UTC"
    weekly: dict[Weekday, list[Window]] = Field(default_factory=dict)
    holidays: list[date | DayOverride] = Field(default_factory=list)

    _compiled: CompiledHours | None = PrivateAttr(default=None)

    @field_validator("time_zone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        name = value.strip()
        try:
            clock.zone(name)
        except ValueError as exc:
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as 'Europe/Berlin'") from exc
        return name

    @field_validator("weekly", mode="before")
    @classmethod
    def _weekday_names(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        normalised: dict[Any, Any] = {}
        for key, windows in value.items():
            day = _WEEKDAY_NAMES.get(key.strip().lower()) if isinstance(key, str) else key
            if day is None:
                raise ValueError(f"unknown weekday {key!r}: use one of {', '.join(d.value for d in Weekday)}")
            if day in normalised:
                raise ValueError(f"weekday {day} is given twice")
            normalised[day] = windows
        return normalised

    @model_validator(mode="after")
    def _compile(self) -> BusinessHours:
        self._build()
        return self

    def _build(self) -> CompiledHours:
        for day, windows in self.weekly.items():
            _check_windows(windows, str(day))
        overrides: dict[int, Intervals] = {}
        for entry in self.holidays:
            day = entry.date if isinstance(entry, DayOverride) else entry
            if day.toordinal() in overrides:
                raise ValueError(f"{day.isoformat()} is listed twice in holidays")
            overrides[day.toordinal()] = (tuple((w.start_seconds, w.end_seconds) for w in entry.windows)
                                          if isinstance(entry, DayOverride) else ())
        weekly = tuple(tuple((w.start_seconds, w.end_seconds) for w in self.weekly.get(day, [])) for day in Weekday)
        if not any(weekly) and not any(overrides.values()):
            raise ValueError("business hours have no open time at all: give at least one window "
                             "(or use BusinessHours.always_open())")
        self._compiled = CompiledHours(ZoneInfo(self.time_zone), weekly, overrides)
        return self._compiled

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> BusinessHours:
        """Open 24 hours a day, 7 days a week (targets measured in plain elapsed time). One shared,
        already compiled calendar per time zone: nothing changes a calendar once made."""
        return _always_open(time_zone)

    def __eq__(self, other: object) -> bool:
        """Same calendar when the configured fields are equal (the compiled form is not compared)."""
        if not isinstance(other, BusinessHours):
            return NotImplemented
        return (self.time_zone, self.weekly, self.holidays) == (other.time_zone, other.weekly, other.holidays)

    def __hash__(self) -> int:
        compiled = self.compiled()
        return hash((self.time_zone, compiled.weekly, frozenset(compiled.overrides.items())))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> BusinessHours:
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._compiled = None        # rebuilt from the updated fields on first use
        return copy

    def compiled(self) -> CompiledHours:
        """The calendar prepared for arithmetic (built once; the model is frozen)."""
        return self._compiled or self._build()

    @property
    def zone(self) -> ZoneInfo:
        return self.compiled().zone

    def windows_on(self, day: date) -> Intervals:
        """The open windows of a local date, as ``(start, end)`` seconds since its midnight."""
        return self.compiled().windows_on_ordinal(day.toordinal())

    @property
    def is_always_open(self) -> bool:
        """Open around the clock with no holidays: business time is elapsed time."""
        return self.compiled().always_open


# From one second to a year: a DynamoDB number holds neither 1e-308 nor 1e300, and no deadline is that far.
Seconds = Annotated[float, Field(ge=1, le=366 * 86400)]


class Targets(BaseModel):
    """Targets in business seconds; ``None`` means the target is not measured."""

    model_config = ConfigDict(frozen=True)

    first_response: Seconds | None = None
    next_response: Seconds | None = None
    resolution: Seconds | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {"first_response": self.first_response, "next_response": self.next_response,
                "resolution": self.resolution}


def _condition(value: list[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    cleaned = [v.strip() for v in value if v and v.strip()]
    if not cleaned:
        raise ValueError(f"applies_to.{what} is empty, so the policy could never apply; "
                         f"leave it out (null) to match every {what[:-1]}")
    return cleaned


class AppliesTo(BaseModel):
    """Conditions a conversation must meet; ``None`` matches anything. Values compare case-insensitively."""

    model_config = ConfigDict(frozen=True)

    channels: list[str] | None = None
    tiers: list[str] | None = None
    teams: list[str] | None = None

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str] | None) -> list[str] | None:
        return _condition(value, "channels")

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[str] | None) -> list[str] | None:
        return _condition(value, "tiers")

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: list[str] | None) -> list[str] | None:
        return _condition(value, "teams")

    @property
    def specificity(self) -> int:
        """How many conditions are set (0 for a default policy)."""
        return sum(c is not None for c in (self.channels, self.tiers, self.teams))

    def matches(self, channel: str | None, tier: str | None, team: str | None) -> bool:
        return all(_allows(allowed, value) for allowed, value in
                   ((self.channels, channel), (self.tiers, tier), (self.teams, team)))


def _allows(allowed: list[str] | None, value: str | None) -> bool:
    if allowed is None:
        return True
    return value is not None and value.strip().casefold() in {a.casefold() for a in allowed}


class SlaPolicy(BaseModel):
    """Targets per priority, measured in the business time of one calendar.

    The calendar is either a stored one (``calendar_id``) or given inline (``business_hours``); with neither,
    targets are measured around the clock. ``rank`` breaks ties between equally specific policies: the lower
    rank wins.
    """

    id: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=200)
    targets: dict[Priority, Targets] = Field(default_factory=dict)
    calendar_id: str | None = Field(default=None, min_length=1, max_length=128)
    business_hours: BusinessHours | None = None
    warning_fraction: float = Field(default=0.8, ge=0.01, le=0.99)            # 1% to 99% of a target
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    rank: int = Field(default=0, ge=-1_000_000, le=1_000_000)   # bounded: a DynamoDB number has 38 digits

    @model_validator(mode="after")
    def _one_calendar(self) -> SlaPolicy:
        if self.calendar_id is not None and self.business_hours is not None:
            raise ValueError("give either calendar_id or inline business_hours, not both")
        return self

    def targets_for(self, priority: Priority | str) -> Targets:
        """The targets of a priority; an unlisted priority measures nothing (``choose_policy`` given the priority
        passes over a policy that does not list it)."""
        return self.targets.get(Priority(priority), Targets())


def choose_policy(policies: Iterable[SlaPolicy], channel: str | None, tier: str | None,
                  team: str | None, priority: Priority | str | None = None) -> SlaPolicy:
    """The policy that applies: the most specific match wins (more matching conditions first), then the lower
    rank, then the id (so the choice never depends on the order policies were listed in). With ``priority``,
    a policy that does not list that priority is passed over for the next that does: a VIP policy with targets
    for ``normal`` only leaves an escalated (``high``) VIP conversation to the default policy's ``high``
    targets, not to no targets at all. A priority listed with no targets measures nothing, as does a policy with
    no targets at all (an admin's "no SLA for these conversations"): neither is passed over.

    A policy without conditions matches everything, so with a default policy configured this never fails.
    """
    matching = [p for p in policies if p.applies_to.matches(channel, tier, team)]
    if not matching:
        raise NoMatchingPolicy(f"no SLA policy applies to channel={channel!r} tier={tier!r} team={team!r}; "
                               "add a default policy without conditions")
    if priority is not None:        # a policy with no targets at all says: no SLA here (it is not passed over)
        matching = [p for p in matching if not p.targets or Priority(priority) in p.targets] or matching
    return min(matching, key=lambda p: (-p.applies_to.specificity, p.rank, p.id))


@functools.lru_cache(maxsize=64)
def _always_open(time_zone: str) -> BusinessHours:
    return BusinessHours(time_zone=time_zone, weekly={day: [Window(start="00:00", end="24:00")] for day in Weekday})
