"""Snoozing until a chosen time: the conversation waits as ``snoozed`` (its SLA clocks paused) and opens
again by itself when the time comes, or earlier when the customer writes or an agent opens it.

The wake-up is a timer in the due index (like the routing timers), run by the per-minute SLA sweep,
so a snooze ends at most a minute late. Any other status change removes the timer.

Instead of a time, a preset, computed from the conversation's calendar (the business hours its SLA clocks
use, else the policy that would apply; open around the clock when there is none), in the calendar's zone:

- ``later_today``: three hours from now, but no later than the close of the calendar's last window today when
  it is still open later today (so it comes back while someone is there). With no open time left today, or a
  calendar open around the clock, three hours from now.
- ``tomorrow_morning``: the calendar's first opening on or after tomorrow's local midnight: the next business
  day's opening (Monday's on a Friday, the day after a holiday). A calendar open around the clock: 09:00
  local time tomorrow.
- ``next_week``: the first opening on or after next Monday's local midnight (from Sunday, that is tomorrow):
  the opening of next week's first business day. Around the clock: Monday 09:00 local time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from shopdesk import clock
from shopdesk.dal import conversations as conversations_dal
from shopdesk.dal.conversations import Conversations
from shopdesk.errors import BadRequest, NotFound
from shopdesk.logic import sla_engine, timeline
from shopdesk.logic.access import Caller, agent_names
from shopdesk.logic.business_time import CalendarClosed, add_business_seconds, business_seconds_between, next_open
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.models import Conversation, ConversationStatus, Message
from shopdesk.models.sla import BusinessHours
from shopdesk.privacy import audit

SNOOZE_TIMER = conversations_dal.SNOOZE_TIMER          # the timer item that ends a snooze
LATER_TODAY = timedelta(hours=3)
MORNING = time(9, 0)        # "morning" of a calendar open around the clock (or one with no open time ahead)


class SnoozePreset(StrEnum):
    LATER_TODAY = "later_today"
    TOMORROW_MORNING = "tomorrow_morning"
    NEXT_WEEK = "next_week"


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def preset_time(preset: SnoozePreset, now: datetime, hours: BusinessHours) -> datetime:
    """When a snooze with this preset ends (the module's rules), as a UTC instant after ``now``."""
    zone = hours.zone
    today = now.astimezone(zone).date()
    if preset is SnoozePreset.LATER_TODAY:
        later = now + LATER_TODAY
        if hours.is_always_open:
            return later
        left = business_seconds_between(now, _midnight(today + timedelta(days=1), zone), hours)
        return min(later, add_business_seconds(now, left, hours)) if left > 0 else later
    if preset is SnoozePreset.TOMORROW_MORNING:
        day = today + timedelta(days=1)
    else:
        day = today + timedelta(days=7 - today.weekday())        # next Monday (tomorrow from a Sunday)
    morning = datetime.combine(day, MORNING, tzinfo=zone).astimezone(UTC)
    if hours.is_always_open:
        return morning
    try:
        return next_open(_midnight(day, zone), hours)
    except CalendarClosed:       # no open time for months: the plain morning, not never
        return morning


@dataclass
class Snoozer:
    """Status changes with an optional end to a snooze, around the inbox's own status change."""

    conversations: Conversations
    change_status: Callable[[Caller, str, ConversationStatus, Message | None], Conversation]
    book: PolicyBook | None = None           # the calendar of a conversation without clocks yet
    on_resolved: Callable[[str], object] | None = None    # after a resolve (the automatic transcript)
    wants_resolved: Callable[[], bool] = lambda: True     # whether on_resolved has anything to do now

    def hours(self, conversation_id: str) -> BusinessHours:
        """The conversation's calendar: its clocks' (one GetItem), else the policy's that would apply."""
        read = self.conversations.read_clocks(conversation_id)
        if read.clocks is not None:
            return read.clocks.hours
        conv = read.conversation
        if self.book is not None:
            return self.book.clocks(conv.channel, conv.team, conv.priority, conv.customer.tier).hours
        return BusinessHours.always_open()

    def set_status(self, caller: Caller, conversation_id: str, status: ConversationStatus,
                   until: datetime | None = None, preset: SnoozePreset | None = None) -> Conversation:
        if preset is not None:
            if until is not None:
                raise BadRequest("give until or preset, not both")
            if status is not ConversationStatus.SNOOZED:
                raise BadRequest("preset goes only with status snoozed")
            until = preset_time(preset, clock.now(), self.hours(conversation_id))
        if until is not None:
            if status is not ConversationStatus.SNOOZED:
                raise BadRequest("until goes only with status snoozed")
            if until.tzinfo is None:
                raise BadRequest("until needs a time zone (e.g. 2026-12-04T09:00:00Z)")
            if not clock.in_range(until):       # 9999-12-31T23:59:59-01:00 cannot even be written in UTC
                raise BadRequest(f"until must be a time from {clock.RANGE}")
            if until <= clock.now():
                raise BadRequest("until must be in the future")
        resolving = status is ConversationStatus.RESOLVED and self.on_resolved is not None and \
            self.wants_resolved() and \
            self.conversations.get_meta(conversation_id).status is not ConversationStatus.RESOLVED
        note = timeline.snoozed(conversation_id, until, caller.id, agent_names(None, caller)) \
            if status is ConversationStatus.SNOOZED and until is not None else None
        conv = self.change_status(caller, conversation_id, status, note)     # its timeline entry says until when
        if note is not None and until is not None:
            self.conversations.set_snooze(conv.id, SNOOZE_TIMER, clock.iso(until))
            audit.note(after={"status": status.value, "snoozed_until": clock.iso(until)})
            return conv.model_copy(update={"snoozed_until": until.astimezone(UTC)})
        if conv.snoozed_until is not None:      # a snooze's timer and time are only ever written together
            self.conversations.set_snooze(conv.id, SNOOZE_TIMER, None)
        if resolving and self.on_resolved is not None:       # resolved now, not before
            self.on_resolved(conv.id)
        return conv.model_copy(update={"snoozed_until": None})


def wake(conversations: Conversations, book: PolicyBook | None, conversation_id: str) -> bool:
    """The snooze is over: open the conversation again with its clocks running (unless something
    else changed its status meanwhile). Its assignee keeps it; an unassigned one waits in its team's
    queue, which the sweep drains right after its timers."""
    try:
        conv = conversations.get_meta(conversation_id)
    except NotFound:
        return False
    if conv.status is not ConversationStatus.SNOOZED:
        return False
    note = timeline.snooze_ended(conv.id)
    conversations.set_status(conv, ConversationStatus.OPEN, note, None)
    if book is not None:
        now = clock.now()
        sla_engine.apply(conversations, conv.id, lambda clocks: clocks.on_status(ConversationStatus.OPEN, now), book)
    return True
