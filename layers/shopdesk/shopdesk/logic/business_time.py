"""Business-time arithmetic and SLA clocks. Pure: no I/O, no clock reads; every instant is passed in.

Instants in and out are timezone-aware datetimes (returned in UTC). Inside, time is counted in whole
microseconds since the Unix epoch, so results are exact to the microsecond and never drift with float error.

How a calendar maps to real time (see ``BusinessHours``): the calendar is open at every real instant whose
wall-clock reading in the calendar's zone falls in a window of that reading's date. So

* on a spring-forward day the wall-clock times that are skipped never happen: a window over the gap is
  shortened (``01:00-04:00`` in Europe/Berlin on the last Sunday of March is open 2 real hours) and a window
  entirely inside the gap is not open at all;
* on a fall-back day the repeated wall-clock hour happens twice and is open both times, every real second
  counted once (``01:00-04:00`` on the last Sunday of October is open 4 real hours);
* ``22:00-24:00`` on one day and ``00:00-06:00`` on the next join into one stretch across midnight.

Time is walked in stretches of constant UTC offset, at most one local day at a time, so closed days cost one
step each (no minute stepping) and a target of weeks takes a few hundred steps. A search that finds no open
time in ``MAX_CLOSED_DAYS`` days raises ``CalendarClosed``. Offset changes are located to the second by
bisection; two changes within one local day that cancel each other out would go unnoticed (no time zone does
that).

``SlaClock`` measures one target; ``ConversationClocks`` drives the three targets of a conversation from its
events and lists the instants the sweep needs (due and warning, per running target).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidatorFunctionWrapHandler, field_validator, model_validator

from shopdesk.models.conversation import ConversationStatus, Priority
from shopdesk.models.sla import BusinessHours, SlaPolicy, Targets

MAX_CLOSED_DAYS = 400
"""How far a search looks for open time before it gives up: longer than any run of holidays plus a year."""

_US = 1_000_000
_DAY_US = 86_400 * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
_ONE_US = timedelta(microseconds=1)


class CalendarClosed(ValueError):
    """The calendar has no open time within ``MAX_CLOSED_DAYS`` days, so no business-time target can end."""


# ---------------------------------------------------------------------------------------------------------------
# instants <-> microseconds


def _to_us(moment: datetime, what: str = "instant") -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {moment.isoformat()}")
    return (moment - _EPOCH) // _ONE_US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _seconds_to_us(seconds: float, what: str = "seconds") -> int:
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise ValueError(f"{what} must be a finite number, got {seconds!r}")
    if seconds < 0:
        raise ValueError(f"{what} must not be negative, got {seconds!r}")
    return round(seconds * _US)


# ---------------------------------------------------------------------------------------------------------------
# the walk over open time


def _offset_s(zone: ZoneInfo, second: int) -> int:
    """UTC offset of ``zone``, in seconds, at a Unix second."""
    offset = datetime.fromtimestamp(second, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def _first_change(zone: ZoneInfo, lo: int, hi: int, offset: int) -> int:
    """The first Unix second in ``(lo, hi]`` whose offset differs from ``offset`` (``lo`` has ``offset``,
    ``hi`` does not)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_s(zone, mid) == offset:
            lo = mid
        else:
            hi = mid
    return hi


def _open_intervals(hours: BusinessHours, start_us: int, stop_us: int | None = None) -> Iterator[tuple[int, int]]:
    """Open intervals ``[a, b)`` in UTC microseconds, in order, disjoint, clipped to ``[start_us, stop_us)``.

    Without ``stop_us`` the walk goes on as long as it is consumed, and raises ``CalendarClosed`` after
    ``MAX_CLOSED_DAYS`` days without open time.
    """
    calendar = hours.compiled()
    zone = calendar.zone
    if calendar.always_open:
        if stop_us is None:
            yield start_us, start_us + 1_000_000 * _DAY_US      # ~2.7 million years: never exhausted
        elif start_us < stop_us:
            yield start_us, stop_us
        return
    u = start_us
    last_open = start_us
    while stop_us is None or u < stop_us:
        if stop_us is None and u - last_open > MAX_CLOSED_DAYS * _DAY_US:
            raise CalendarClosed(f"the calendar ({hours.time_zone}) has no open time in the {MAX_CLOSED_DAYS} "
                                 f"days after {_from_us(last_open).isoformat()}")
        second = u // _US
        offset_s = _offset_s(zone, second)
        offset_us = offset_s * _US
        wall = u + offset_us                       # wall-clock microseconds (as if the wall clock were UTC)
        day = wall // _DAY_US
        day_start = day * _DAY_US
        chunk_end = day_start + _DAY_US - offset_us   # UTC end of this local day, if the offset holds
        probe = (chunk_end - 1) // _US
        if probe > second and _offset_s(zone, probe) != offset_s:
            chunk_end = _first_change(zone, second, probe, offset_s) * _US
        wall_end = chunk_end + offset_us
        for start_s, end_s in calendar.windows_on_ordinal(_EPOCH_ORDINAL + day):
            a = max(day_start + start_s * _US, wall)
            b = min(day_start + end_s * _US, wall_end)
            if a >= b:
                continue
            a, b = a - offset_us, b - offset_us
            if stop_us is not None:
                if a >= stop_us:
                    return
                b = min(b, stop_us)
            last_open = b
            yield a, b
        u = chunk_end


# ---------------------------------------------------------------------------------------------------------------
# public arithmetic


def add_business_seconds(start: datetime, seconds: float, hours: BusinessHours) -> datetime:
    """The instant (UTC) at which ``seconds`` of open time have passed since ``start``.

    ``start`` may be inside or outside a window. The result lies inside an open stretch or at its end (a target
    that fills a window exactly ends at the window's end, not at the next opening). ``seconds == 0`` returns
    ``start``. Raises ``CalendarClosed`` if the calendar has no open time for ``MAX_CLOSED_DAYS`` days.
    """
    start_us = _to_us(start, "start")
    remaining = _seconds_to_us(seconds)
    if remaining == 0:
        return _from_us(start_us)
    for a, b in _open_intervals(hours, start_us):
        if remaining <= b - a:
            return _from_us(a + remaining)
        remaining -= b - a
    raise AssertionError("unreachable: the walk over open time ended")  # pragma: no cover


def business_seconds_between(a: datetime, b: datetime, hours: BusinessHours) -> float:
    """Open seconds in ``[a, b)`` (0 when ``b <= a``). The inverse of ``add_business_seconds``."""
    return _business_us_between(_to_us(a, "a"), _to_us(b, "b"), hours) / _US


def _business_us_between(a_us: int, b_us: int, hours: BusinessHours) -> int:
    if b_us <= a_us:
        return 0
    return sum(end - start for start, end in _open_intervals(hours, a_us, b_us))


def next_open(at: datetime, hours: BusinessHours) -> datetime:
    """The first open instant at or after ``at`` (``at`` itself when the calendar is open then)."""
    for a, _ in _open_intervals(hours, _to_us(at, "at")):
        return _from_us(a)
    raise AssertionError("unreachable: the walk over open time ended")  # pragma: no cover


def is_open(at: datetime, hours: BusinessHours) -> bool:
    at_us = _to_us(at, "at")
    return any(True for _ in _open_intervals(hours, at_us, at_us + 1))


# ---------------------------------------------------------------------------------------------------------------
# one SLA clock


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"            # stopped by the awaited action within the target
    BREACHED = "breached"  # the target passed (flagged by the sweep, or met too late)
    STOPPED = "stopped"    # no longer measured without being met (e.g. resolved before any reply)


_ENDED = (ClockState.MET, ClockState.BREACHED, ClockState.STOPPED)


class SlaClock(BaseModel):
    """The business time one target has used, as a small serialisable state.

    ``consumed_seconds`` is the open time used up to the last pause (or stop); while running, the time since
    ``running_since`` counts on top. Methods that need the calendar take it as ``hours``: the clock stores no
    calendar, so it stays small and a conversation keeps one calendar for its three clocks.
    """

    target_seconds: float = Field(gt=0)
    consumed_seconds: float = Field(default=0.0, ge=0)
    running_since: datetime | None = None
    state: ClockState = ClockState.RUNNING
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SlaClock:
        if (self.state is ClockState.RUNNING) != (self.running_since is not None):
            raise ValueError("a running clock needs running_since, and only a running clock has one")
        return self

    @classmethod
    def started(cls, target_seconds: float, at: datetime) -> SlaClock:
        clock = cls(target_seconds=target_seconds, state=ClockState.STOPPED)
        clock.start(at)
        return clock

    @property
    def ended(self) -> bool:
        return self.state in _ENDED

    def start(self, at: datetime) -> None:
        """(Re)start from zero: nothing consumed, running from ``at``."""
        _to_us(at, "at")
        self.consumed_seconds = 0.0
        self.running_since = at.astimezone(UTC)
        self.started_at = self.running_since
        self.ended_at = None
        self.state = ClockState.RUNNING

    def _fold(self, at: datetime, hours: BusinessHours) -> None:
        """Add the open time since ``running_since`` to ``consumed_seconds`` and stop running."""
        assert self.running_since is not None
        used = _business_us_between(_to_us(self.running_since), _to_us(at, "at"), hours)
        self.consumed_seconds = (round(self.consumed_seconds * _US) + used) / _US
        self.running_since = None

    def pause(self, at: datetime, hours: BusinessHours) -> None:
        """Stop counting (pending, snoozed). No-op unless running."""
        if self.state is ClockState.RUNNING:
            self._fold(at, hours)
            self.state = ClockState.PAUSED

    def resume(self, at: datetime) -> None:
        """Count again from ``at``. No-op unless paused."""
        if self.state is ClockState.PAUSED:
            _to_us(at, "at")
            self.running_since = at.astimezone(UTC)
            self.state = ClockState.RUNNING

    def stop(self, at: datetime, hours: BusinessHours) -> None:
        """The awaited action happened: met if within the target, breached if later. No-op once ended."""
        if self.ended:
            return
        if self.state is ClockState.RUNNING:
            self._fold(at, hours)
        self.ended_at = at.astimezone(UTC)
        within = round(self.consumed_seconds * _US) <= round(self.target_seconds * _US)
        self.state = ClockState.MET if within else ClockState.BREACHED

    def cancel(self, at: datetime, hours: BusinessHours) -> None:
        """Stop measuring without meeting the target (``stopped``). No-op once ended."""
        if self.ended:
            return
        if self.state is ClockState.RUNNING:
            self._fold(at, hours)
        self.ended_at = at.astimezone(UTC)
        self.state = ClockState.STOPPED

    def revive(self, since: datetime) -> None:
        """Take up again a clock that ``cancel`` stopped (its conversation merged into another, the merge undone):
        running from ``since``, with the business time it had used kept. No-op unless stopped."""
        if self.state is ClockState.STOPPED:
            _to_us(since, "since")
            self.running_since = since.astimezone(UTC)
            self.ended_at = None
            self.state = ClockState.RUNNING

    def take_up(self, ended_at: datetime) -> bool:
        """Take up again a clock that a reply ended at ``ended_at`` (met or breached), the reply never having reached
        the customer: running from then with the business time it had used, so its due instant is the one it had.
        False, nothing changed, unless it ended so at that instant (to the millisecond: a message's stored time)."""
        if self.state not in (ClockState.MET, ClockState.BREACHED) or self.ended_at is None \
                or _to_us(self.ended_at) // 1000 != _to_us(ended_at, "ended_at") // 1000:
            return False
        self.running_since = self.ended_at
        self.ended_at = None
        self.state = ClockState.RUNNING
        return True

    def breach(self, at: datetime, hours: BusinessHours) -> None:
        """The sweep saw the due instant pass. No-op once ended."""
        if self.ended:
            return
        if self.state is ClockState.RUNNING:
            self._fold(at, hours)
        self.ended_at = at.astimezone(UTC)
        self.state = ClockState.BREACHED

    def elapsed_business_seconds(self, at: datetime, hours: BusinessHours) -> float:
        """Business seconds used by ``at`` (frozen while paused or ended)."""
        if self.state is not ClockState.RUNNING:
            return self.consumed_seconds
        assert self.running_since is not None
        used = _business_us_between(_to_us(self.running_since), _to_us(at, "at"), hours)
        return (round(self.consumed_seconds * _US) + used) / _US

    def remaining_seconds(self) -> float:
        """Business seconds left of the target after what was consumed up to the last pause."""
        return max(0.0, self.target_seconds - self.consumed_seconds)

    def _instant(self, budget_us: int, hours: BusinessHours) -> datetime:
        assert self.running_since is not None
        left = budget_us - round(self.consumed_seconds * _US)
        start = _to_us(self.running_since)
        if left <= 0:
            return _from_us(start)
        return add_business_seconds(_from_us(start), left / _US, hours)

    def due_at(self, hours: BusinessHours) -> datetime | None:
        """When the target is reached if the clock keeps running; ``None`` unless running.

        Exactly ``add_business_seconds(running_since, target - consumed)``, so after a resume the due instant
        is the resume instant plus what was left of the budget.
        """
        if self.state is not ClockState.RUNNING:
            return None
        return self._instant(round(self.target_seconds * _US), hours)

    def warn_at(self, fraction: float, hours: BusinessHours) -> datetime | None:
        """When ``fraction`` of the target is used if the clock keeps running; ``None`` unless running, and
        ``None`` when that point was already passed before the last pause (the warning is behind us)."""
        if not 0 < fraction < 1:
            raise ValueError(f"a warning fraction is between 0 and 1 (exclusive), got {fraction!r}")
        if self.state is not ClockState.RUNNING:
            return None
        threshold = round(self.target_seconds * fraction * _US)
        if round(self.consumed_seconds * _US) >= threshold:
            return None
        return self._instant(threshold, hours)


# ---------------------------------------------------------------------------------------------------------------
# the three clocks of a conversation


TargetName = Literal["first_response", "next_response", "resolution"]
TARGET_NAMES: tuple[TargetName, ...] = ("first_response", "next_response", "resolution")


class Deadline(NamedTuple):
    target: TargetName
    due_at: datetime
    warn_at: datetime | None


_CALENDARS: dict[str, BusinessHours] = {}     # calendars as read back from stored clocks, by their JSON


class ConversationClocks(BaseModel):
    """First response, next response and resolution clocks of one conversation, driven by its events.

    Holds the targets, warning fraction and calendar of the policy chosen when the clocks were made (a snapshot,
    so later events and the sweep need no policy or calendar reads); ``rebind`` applies a changed policy.

    * a customer message starts first response and resolution the first time, resumes paused clocks, and after
      an agent reply starts a fresh next-response clock (more customer messages before the next reply keep it);
    * an agent reply meets first response and next response; a first response the provider then refuses for good
      is taken back (``on_reply_refused``): the clock runs on, or ends at a later reply that went;
    * pending / snoozed pause every running clock, open resumes them, resolved meets resolution and stops the
      others; a customer message on a resolved conversation reopens it;
    * reopen gives fresh clocks: first response and resolution restart from the reopen instant, next response
      starts again after the next agent reply;
    * merged into another conversation (``logic.fold``), every clock still measuring stops unmeasured
      (``stopped``: neither met nor breached, the reports count it nowhere); undoing the merge takes those
      clocks up again where they were, as if it had not happened (``on_unfold``), not fresh ones.
    """

    targets: Targets
    hours: BusinessHours = Field(default_factory=BusinessHours.always_open)

    @field_validator("hours", mode="wrap")
    @classmethod
    def _shared_hours(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> BusinessHours:
        """A calendar read again (every conversation's clocks carry one) is the same frozen, compiled
        object: the SLA sweep reads thousands of clocks a minute on a handful of calendars."""
        if not isinstance(value, dict):
            return handler(value)
        key = json.dumps(value, sort_keys=True, default=str)
        found = _CALENDARS.get(key)
        if found is None:
            found = handler(value)
            if len(_CALENDARS) < 1024:
                _CALENDARS[key] = found
        return found
    warning_fraction: float = Field(default=0.8, gt=0, lt=1)
    policy_id: str | None = None
    first_response: SlaClock | None = None
    next_response: SlaClock | None = None
    resolution: SlaClock | None = None
    paused: bool = False
    resolved: bool = False
    last_customer_message_at: datetime | None = None
    last_agent_reply_at: datetime | None = None
    folded_at: datetime | None = None         # merged into another conversation then (``on_fold``), until undone
    folded_paused: bool | None = None         # whether its clocks stood still then (pending, snoozed)

    def stored_json(self) -> str:
        """The clocks as the conversation's item keeps them (``model_validate_json`` reads them back): without
        the fields that hold their default (an always-open calendar in UTC, the 0.8 warning fraction, a running
        clock's state, nothing consumed yet, ...), each window in its short form. The item is written on almost
        every change of the conversation, in whole kilobytes, and the calendar was half of it; the defaults
        are what a missing field reads as, so they must never change."""
        def short(windows: list[dict[str, str]]) -> list[str]:
            return [f"{w['start']}-{w['end']}" for w in windows]

        data = self.model_dump(mode="json", exclude_defaults=True)
        hours = data.get("hours", {})
        if "weekly" in hours:
            hours["weekly"] = {day: short(windows) for day, windows in hours["weekly"].items()}
        if "holidays" in hours:
            hours["holidays"] = [entry if isinstance(entry, str) else
                                 {"date": entry["date"], "windows": short(entry["windows"])}
                                 for entry in hours["holidays"]]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def for_policy(cls, policy: SlaPolicy, priority: Priority | str,
                   hours: BusinessHours | None = None) -> ConversationClocks:
        """Clocks for a conversation of ``priority`` under ``policy``; ``hours`` is the policy's stored calendar
        (required when the policy names one by ``calendar_id``)."""
        calendar = policy.business_hours or hours
        if calendar is None:
            if policy.calendar_id is not None:
                raise ValueError(f"policy {policy.id!r} uses calendar {policy.calendar_id!r}: pass its hours")
            calendar = BusinessHours.always_open()
        return cls(targets=policy.targets_for(priority), hours=calendar,
                   warning_fraction=policy.warning_fraction, policy_id=policy.id)

    def rebind(self, policy: SlaPolicy, priority: Priority | str, hours: BusinessHours | None = None,
               at: datetime | None = None) -> None:
        """Use another policy, priority or calendar from now on: targets of clocks already running change
        (business time already consumed is kept), and newly started clocks use the new targets.

        When the calendar changes, pass the moment of the change as ``at``: running clocks then count the time
        up to ``at`` in the old calendar and only what follows in the new one."""
        fresh = ConversationClocks.for_policy(policy, priority, hours)
        if at is not None and fresh.hours != self.hours:
            for running in self.clocks().values():
                if running.state is ClockState.RUNNING:
                    running.pause(at, self.hours)
                    running.resume(at)
        self.targets, self.hours = fresh.targets, fresh.hours
        self.warning_fraction, self.policy_id = fresh.warning_fraction, fresh.policy_id
        for name in TARGET_NAMES:
            clock, target = getattr(self, name), getattr(self.targets, name)
            if clock is not None and not clock.ended:
                if target is None:
                    setattr(self, name, None)
                else:
                    clock.target_seconds = target

    def clocks(self) -> dict[TargetName, SlaClock]:
        return {name: clock for name in TARGET_NAMES if (clock := getattr(self, name)) is not None}

    def _start(self, name: TargetName, at: datetime) -> None:
        target = getattr(self.targets, name)
        setattr(self, name, None if target is None else SlaClock.started(target, at))

    def on_customer_message(self, at: datetime) -> None:
        if self.resolved:
            self.on_reopen(at)
        self._resume_all(at)
        if self.first_response is None and self.last_agent_reply_at is None:
            self._start("first_response", at)
        if self.resolution is None:
            self._start("resolution", at)
        replied = self.last_agent_reply_at is not None and self.last_agent_reply_at <= at
        if replied and (self.next_response is None or self.next_response.ended):
            self._start("next_response", at)
        self.last_customer_message_at = at.astimezone(UTC)

    def on_agent_reply(self, at: datetime) -> None:
        for clock in (self.first_response, self.next_response):
            if clock is not None:
                clock.stop(at, self.hours)
        self.last_agent_reply_at = at.astimezone(UTC)

    def on_reply_refused(self, sent_at: datetime, instead_at: datetime | None, at: datetime, *,
                         reopen: bool = False) -> bool:
        """A person's reply of ``sent_at``, which was the first response, never reached the customer (the provider
        refused it for good, or reported it failed or undelivered). ``instead_at``: a later reply of a person that
        reached them or is still on its way, the first response now: the first-response clock ends there. Without
        one the customer still waits: the clock runs again from the lost reply with the business time it had used
        (its due instant as it was; past it, the sweep flags the breach), as though that reply had not been
        written, so no next response is measured yet. ``reopen``: the conversation was set pending, snoozed or
        resolved after that reply and is open again, the same cycle: a resolution clock the resolve ended runs
        again from then (its due instant as it was), the paused ones run from ``at``; without it a conversation
        standing still has the clock stand still from ``at``. Nothing changes on a resolved conversation that is
        not reopened (nor with ``instead_at``), nor when the clock did not end at that reply (False)."""
        clock = self.first_response
        if clock is None or (self.resolved and (not reopen or instead_at is not None)) or not clock.take_up(sent_at):
            return False
        if instead_at is not None:
            clock.stop(instead_at, self.hours)
            return True
        self.next_response = None
        self.last_agent_reply_at = None
        if reopen:
            if self.resolved and self.resolution is not None and self.resolution.ended_at is not None:
                self.resolution.take_up(self.resolution.ended_at)
            self.resolved = False
            self._resume_all(at)
        elif self.paused:
            clock.pause(at, self.hours)
        return True

    def on_reply_refused_kept_resolved(self, sent_at: datetime) -> bool:
        """A person's reply of ``sent_at``, the first response of a conversation resolved since, never reached the
        customer, and the conversation stays resolved (its customer has another open conversation, where their
        request goes on): the first-response clock that reply ended stops unmeasured (``stopped``) at the resolve,
        as a resolve before any reply stops it, so no target is met or missed by a reply nobody got. False, nothing
        changed, unless resolved with that clock ended at that reply."""
        clock = self.first_response
        if clock is None or not self.resolved or not clock.take_up(sent_at):
            return False
        resolved_at = self.resolution.ended_at if self.resolution is not None else None
        clock.cancel(max(resolved_at or sent_at, sent_at), self.hours)
        return True

    def on_status(self, status: ConversationStatus | str, at: datetime) -> None:
        status = ConversationStatus(status)
        if status in (ConversationStatus.PENDING, ConversationStatus.SNOOZED):
            for clock in self.clocks().values():
                clock.pause(at, self.hours)
            self.paused = True
        elif status is ConversationStatus.OPEN:
            if self.resolved:
                self.on_reopen(at)
            self._resume_all(at)
        elif status is ConversationStatus.RESOLVED:
            if self.resolution is not None:
                self.resolution.stop(at, self.hours)
            for clock in (self.first_response, self.next_response):
                if clock is not None:
                    clock.cancel(at, self.hours)
            self.resolved, self.paused = True, False

    def on_fold(self, at: datetime) -> bool:
        """Merged into another conversation (``logic.fold``): nobody met or missed a target of it, its work goes on
        in the other, so every clock still measuring stops unmeasured (``stopped``, counted in no report) and the
        conversation is resolved. False when folded already."""
        if self.folded_at is not None:
            return False
        self.folded_at, self.folded_paused = at.astimezone(UTC), self.paused
        for clock in self.clocks().values():
            clock.cancel(at, self.hours)
        self.resolved, self.paused = True, False
        return True

    def on_unfold(self, at: datetime) -> None:
        """The merge undone: the conversation is open again and goes on with the clocks the fold stopped, under the
        targets that apply now. One that was running counts the merged time too (the customer waited all along;
        the merge was the desk's mistake, not their silence); one that stood still (pending, snoozed) runs from
        ``at``, as the conversation opens. Clocks folded before the fold was recorded on them (no ``folded_at``)
        get fresh ones, as a reopen."""
        if self.folded_at is None:
            self.on_status(ConversationStatus.OPEN, at)
            return
        since = at if self.folded_paused else self.folded_at
        for name, clock in self.clocks().items():
            if clock.state is ClockState.STOPPED and clock.ended_at == self.folded_at:
                target = getattr(self.targets, name)
                if target is None:            # the policy that applies now has no such target
                    setattr(self, name, None)
                    continue
                clock.target_seconds = target
                clock.revive(since)
        self.resolved, self.paused = False, False
        self.folded_at = self.folded_paused = None

    def on_unreachable(self, at: datetime) -> bool:
        """Nothing can reach the customer (they unsubscribed from every channel of theirs on the conversation): no
        response is late meanwhile, the clocks pause as for a pending conversation. False when none was running."""
        running = [c for c in self.clocks().values() if c.state is ClockState.RUNNING]
        for clock in running:
            clock.pause(at, self.hours)
        self.paused = self.paused or bool(running)
        return bool(running)

    def on_reachable(self, at: datetime) -> bool:
        """The customer can be reached again (subscribed again): paused clocks run. False when none was paused."""
        if not any(c.state is ClockState.PAUSED for c in self.clocks().values()):
            return False
        self._resume_all(at)
        return True

    def on_reopen(self, at: datetime) -> None:
        self.resolved, self.paused = False, False
        self.folded_at = self.folded_paused = None
        self.next_response = None
        self.last_agent_reply_at = None
        self._start("first_response", at)
        self._start("resolution", at)

    def on_breach(self, target: TargetName, at: datetime) -> None:
        """The sweep flagged ``target`` as breached."""
        clock = getattr(self, target)
        if clock is not None:
            clock.breach(at, self.hours)

    def _resume_all(self, at: datetime) -> None:
        for clock in self.clocks().values():
            clock.resume(at)
        self.paused = False

    def deadlines(self) -> list[Deadline]:
        """``(target, due_at, warn_at)`` of every running clock; ``warn_at`` is ``None`` once passed."""
        return [Deadline(name, due, clock.warn_at(self.warning_fraction, self.hours))
                for name, clock in self.clocks().items()
                if (due := clock.due_at(self.hours)) is not None]
