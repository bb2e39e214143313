"""SLA clocks (pause, resume, warning, met, breached), a conversation's three clocks, and policy choice."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from shopdesk.logic.business_time import (
    ClockState,
    ConversationClocks,
    SlaClock,
    add_business_seconds,
    business_seconds_between,
)
from shopdesk.models.conversation import ConversationStatus, Priority
from shopdesk.models.sla import BusinessHours, NoMatchingPolicy, SlaPolicy, Targets, choose_policy

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600
OFFICE = BusinessHours(time_zone="Europe/Berlin",
                       weekly={d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")})


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def wall(moment: datetime | None) -> tuple[int, ...] | None:
    if moment is None:
        return None
    local = moment.astimezone(BERLIN)
    return local.month, local.day, local.hour, local.minute, local.second


# ------------------------------------------------------------------------------ one clock

def test_given_a_running_clock_when_asked_then_due_and_warning_follow_business_time():
    clock = SlaClock.started(2 * HOUR, berlin(2026, 5, 11, 9))           # Monday
    assert clock.state is ClockState.RUNNING
    assert wall(clock.due_at(OFFICE)) == (5, 11, 11, 0, 0)
    assert wall(clock.warn_at(0.8, OFFICE)) == (5, 11, 10, 36, 0)        # 80% of 2 h = 96 minutes
    assert wall(clock.warn_at(0.5, OFFICE)) == (5, 11, 10, 0, 0)
    assert clock.elapsed_business_seconds(berlin(2026, 5, 11, 10), OFFICE) == HOUR


def test_given_a_clock_paused_over_a_weekend_when_resumed_then_the_weekend_and_the_pause_consumed_nothing():
    # Given a 2-hour clock started Friday 16:00 and paused at 16:30 (30 minutes used)
    clock = SlaClock.started(2 * HOUR, berlin(2026, 5, 8, 16))
    clock.pause(berlin(2026, 5, 8, 16, 30), OFFICE)
    assert clock.state is ClockState.PAUSED
    assert clock.consumed_seconds == 30 * 60
    # While paused nothing counts and nothing is due, not even Monday's open hours
    assert clock.elapsed_business_seconds(berlin(2026, 5, 11, 12), OFFICE) == 30 * 60
    assert clock.due_at(OFFICE) is None
    assert clock.warn_at(0.8, OFFICE) is None
    # When resumed Monday 09:30
    clock.resume(berlin(2026, 5, 11, 9, 30))
    # Then exactly the remaining 90 minutes are left
    assert clock.due_at(OFFICE) == add_business_seconds(berlin(2026, 5, 11, 9, 30), 90 * 60, OFFICE)
    assert wall(clock.due_at(OFFICE)) == (5, 11, 11, 0, 0)


def test_given_a_clock_paused_and_resumed_many_times_when_due_then_exactly_the_business_time_while_running():
    rng = random.Random(42)
    target = 40 * HOUR + 0.123456
    moment = datetime(2026, 3, 20, 7, 13, tzinfo=UTC)                   # across the spring-forward weekend
    clock = SlaClock.started(target, moment)
    running_total = 0.0
    for _ in range(25):
        # runs for a while (never past the target), then pauses for a while
        until = moment + timedelta(seconds=rng.randrange(60, 6 * HOUR), microseconds=rng.randrange(1_000_000))
        used = business_seconds_between(moment, until, OFFICE)
        if running_total + used >= target * 0.9:
            break
        clock.pause(until, OFFICE)
        running_total += used
        assert clock.consumed_seconds == pytest.approx(running_total, abs=1e-6)
        moment = until + timedelta(seconds=rng.randrange(60, 3 * 86400))
        clock.resume(moment)
        assert clock.due_at(OFFICE) == add_business_seconds(moment, target - clock.consumed_seconds, OFFICE)
    due = clock.due_at(OFFICE)
    assert clock.elapsed_business_seconds(due, OFFICE) == pytest.approx(target, abs=1e-6)
    assert clock.elapsed_business_seconds(due - timedelta(microseconds=1), OFFICE) < target


def test_given_the_warning_point_passed_before_a_pause_when_resumed_then_no_warning_is_pending():
    clock = SlaClock.started(HOUR, berlin(2026, 5, 11, 9))
    clock.pause(berlin(2026, 5, 11, 9, 50), OFFICE)                     # 50 of 60 minutes used
    clock.resume(berlin(2026, 5, 11, 14))
    assert clock.warn_at(0.8, OFFICE) is None
    assert wall(clock.due_at(OFFICE)) == (5, 11, 14, 10, 0)
    assert wall(clock.warn_at(0.9, OFFICE)) == (5, 11, 14, 4, 0)


def test_given_a_bad_warning_fraction_when_asked_then_a_clear_error():
    clock = SlaClock.started(HOUR, berlin(2026, 5, 11, 9))
    with pytest.raises(ValueError, match="between 0 and 1"):
        clock.warn_at(1.0, OFFICE)


def test_given_a_reply_within_the_target_when_stopped_then_met_and_nothing_is_due():
    clock = SlaClock.started(HOUR, berlin(2026, 5, 11, 9))
    clock.stop(berlin(2026, 5, 11, 10), OFFICE)                         # exactly at the due instant
    assert clock.state is ClockState.MET
    assert clock.consumed_seconds == HOUR
    assert clock.due_at(OFFICE) is None
    clock.resume(berlin(2026, 5, 11, 11))                               # an ended clock stays ended
    clock.pause(berlin(2026, 5, 11, 12), OFFICE)
    assert clock.state is ClockState.MET


def test_given_a_reply_after_the_target_when_stopped_then_breached():
    clock = SlaClock.started(HOUR, berlin(2026, 5, 11, 9))
    clock.stop(berlin(2026, 5, 11, 10, 0, 1), OFFICE)
    assert clock.state is ClockState.BREACHED


def test_given_the_sweep_flags_a_breach_when_the_reply_comes_later_then_the_clock_stays_breached():
    clock = SlaClock.started(HOUR, berlin(2026, 5, 11, 9))
    clock.breach(berlin(2026, 5, 11, 10, 1), OFFICE)
    clock.stop(berlin(2026, 5, 11, 11), OFFICE)
    assert clock.state is ClockState.BREACHED
    assert clock.ended_at == berlin(2026, 5, 11, 10, 1)


def test_given_a_clock_when_serialised_and_loaded_then_it_continues_identically():
    clock = SlaClock.started(2 * HOUR, berlin(2026, 5, 8, 16))
    clock.pause(berlin(2026, 5, 8, 16, 30), OFFICE)
    clock.resume(berlin(2026, 5, 11, 9, 30))
    loaded = SlaClock.model_validate_json(clock.model_dump_json())
    assert loaded == clock
    assert loaded.due_at(OFFICE) == clock.due_at(OFFICE)
    assert set(clock.model_dump()) >= {"target_seconds", "consumed_seconds", "running_since", "state"}


def test_given_a_running_state_without_running_since_when_loaded_then_rejected():
    with pytest.raises(ValidationError, match="running clock needs running_since"):
        SlaClock.model_validate({"target_seconds": 60, "state": "running"})


# ------------------------------------------------------------------------------ a conversation's clocks

TARGETS = Targets(first_response=HOUR, next_response=2 * HOUR, resolution=8 * HOUR)


def conversation() -> ConversationClocks:
    return ConversationClocks(targets=TARGETS, hours=OFFICE, warning_fraction=0.75)


def by_target(clocks: ConversationClocks) -> dict[str, tuple]:
    return {d.target: (wall(d.due_at), wall(d.warn_at)) for d in clocks.deadlines()}


def test_given_a_first_customer_message_when_the_agent_replies_in_time_then_first_response_is_met():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 8))                  # before opening
    assert by_target(clocks) == {
        "first_response": ((5, 11, 10, 0, 0), (5, 11, 9, 45, 0)),
        "resolution": ((5, 11, 17, 0, 0), (5, 11, 15, 0, 0)),
    }
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 40))
    assert clocks.first_response is not None
    assert clocks.first_response.state is ClockState.MET
    assert clocks.first_response.consumed_seconds == 40 * 60
    assert set(by_target(clocks)) == {"resolution"}


def test_given_more_customer_messages_before_a_reply_when_they_arrive_then_first_response_is_not_restarted():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_customer_message(berlin(2026, 5, 11, 9, 30))
    assert by_target(clocks)["first_response"][0] == (5, 11, 10, 0, 0)
    assert clocks.next_response is None


def test_given_an_agent_reply_when_the_customer_writes_again_then_a_fresh_next_response_clock_runs():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 10))
    # first customer message after the reply starts next response; a second one before the reply keeps it
    clocks.on_customer_message(berlin(2026, 5, 11, 16))
    clocks.on_customer_message(berlin(2026, 5, 11, 16, 30))
    assert by_target(clocks)["next_response"] == ((5, 12, 10, 0, 0), (5, 12, 9, 30, 0))
    # the reply meets it; the next customer message starts another one from that message
    clocks.on_agent_reply(berlin(2026, 5, 12, 9, 15))
    assert clocks.next_response is not None
    assert clocks.next_response.state is ClockState.MET
    clocks.on_customer_message(berlin(2026, 5, 12, 13))
    assert by_target(clocks)["next_response"][0] == (5, 12, 15, 0, 0)
    assert clocks.first_response is not None
    assert clocks.first_response.state is ClockState.MET                # never restarted by later messages


def test_given_pending_when_the_customer_replies_then_every_clock_resumes_with_its_remaining_budget():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 8, 15))                  # Friday
    clocks.on_agent_reply(berlin(2026, 5, 8, 15, 30))
    clocks.on_customer_message(berlin(2026, 5, 8, 16))                  # next response from 16:00
    # When the agent sets pending at 16:30 (next response: 30 min used; resolution: 90 min used)
    clocks.on_status(ConversationStatus.PENDING, berlin(2026, 5, 8, 16, 30))
    assert clocks.deadlines() == []
    assert clocks.paused
    # Then the customer's reply on Monday 10:00 resumes both from there, the weekend and Monday 9-10 unused
    clocks.on_customer_message(berlin(2026, 5, 11, 10))
    assert not clocks.paused
    assert by_target(clocks) == {
        "next_response": ((5, 11, 11, 30, 0), (5, 11, 11, 0, 0)),
        "resolution": ((5, 11, 16, 30, 0), (5, 11, 14, 30, 0)),
    }


def test_given_the_customer_unreachable_when_they_subscribe_again_then_the_clocks_go_on_from_where_they_paused():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 8, 15))                  # Friday: first response due 16:00
    # When the customer unsubscribes at 15:20 (a STOP on their only channel): nothing is due, once
    assert clocks.on_unreachable(berlin(2026, 5, 8, 15, 20))
    assert clocks.deadlines() == [] and clocks.paused
    assert not clocks.on_unreachable(berlin(2026, 5, 8, 15, 30))         # a repeated delivery moves nothing
    # Then START on Monday 10:00 lets them run with what was left (40 minutes of first response)
    assert clocks.on_reachable(berlin(2026, 5, 11, 10))
    assert not clocks.paused and by_target(clocks)["first_response"][0] == (5, 11, 10, 40, 0)
    assert not clocks.on_reachable(berlin(2026, 5, 11, 10, 5))


def test_given_snoozed_when_set_open_again_then_clocks_resume():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_status("snoozed", berlin(2026, 5, 11, 9, 30))
    clocks.on_status("open", berlin(2026, 5, 11, 14))
    assert by_target(clocks)["first_response"][0] == (5, 11, 14, 30, 0)


def test_given_a_conversation_when_resolved_then_resolution_is_met_and_nothing_runs():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_status(ConversationStatus.RESOLVED, berlin(2026, 5, 11, 9, 20))
    assert clocks.deadlines() == []
    assert clocks.resolution is not None and clocks.first_response is not None
    assert clocks.resolution.state is ClockState.MET
    assert clocks.first_response.state is ClockState.STOPPED           # resolved without a reply: not "met"


def test_given_a_resolved_conversation_when_reopened_then_fresh_clocks_run_from_the_reopen():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 5))
    clocks.on_status("resolved", berlin(2026, 5, 11, 10))
    clocks.on_reopen(berlin(2026, 5, 12, 12))
    assert by_target(clocks) == {
        "first_response": ((5, 12, 13, 0, 0), (5, 12, 12, 45, 0)),
        "resolution": ((5, 13, 12, 0, 0), (5, 13, 10, 0, 0)),
    }
    assert clocks.resolution is not None and clocks.resolution.consumed_seconds == 0
    # the customer writing right after the reopen does not start a second response clock
    clocks.on_customer_message(berlin(2026, 5, 12, 12, 1))
    assert set(by_target(clocks)) == {"first_response", "resolution"}


def test_given_a_resolved_conversation_when_the_customer_writes_then_it_reopens_with_fresh_clocks():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_status("resolved", berlin(2026, 5, 11, 10))
    clocks.on_customer_message(berlin(2026, 5, 12, 9))
    assert by_target(clocks)["first_response"][0] == (5, 12, 10, 0, 0)
    assert not clocks.resolved


def test_given_a_conversation_merged_into_another_then_its_clocks_stop_neither_met_nor_breached():
    # Given a conversation waiting for its first response, past its first-response target
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    # When its customer is merged with another who has an open conversation, and it goes into that one
    assert clocks.on_fold(berlin(2026, 5, 11, 10, 30))
    # Then nothing of it was met or missed: every clock stopped unmeasured, nothing is due, it is resolved
    assert {name: c.state for name, c in clocks.clocks().items()} == {
        "first_response": ClockState.STOPPED, "resolution": ClockState.STOPPED}
    assert clocks.deadlines() == [] and clocks.resolved
    assert not clocks.on_fold(berlin(2026, 5, 11, 11))                  # once
    # (a resolve, by contrast, meets the resolution target)
    resolved = conversation()
    resolved.on_customer_message(berlin(2026, 5, 11, 9))
    resolved.on_status(ConversationStatus.RESOLVED, berlin(2026, 5, 11, 10, 30))
    assert resolved.resolution is not None and resolved.resolution.state is ClockState.MET


def test_given_a_merge_undone_then_the_clocks_it_stopped_go_on_counting_the_merged_time():
    # Given a conversation whose customer wrote Monday 09:00, merged away at 09:30 (half an hour used)
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_fold(berlin(2026, 5, 11, 9, 30))
    stored = ConversationClocks.model_validate_json(clocks.stored_json())     # as the item keeps them
    # When the merge is undone at 09:45
    stored.on_unfold(berlin(2026, 5, 11, 9, 45))
    # Then the same clocks run, not fresh ones: started at the customer's message, due an hour after it, as
    # if the merge had not happened (the customer waited all along)
    assert stored.first_response is not None and stored.first_response.started_at == berlin(2026, 5, 11, 9)
    assert by_target(stored) == {"first_response": ((5, 11, 10, 0, 0), (5, 11, 9, 45, 0)),
                                 "resolution": ((5, 11, 17, 0, 0), (5, 11, 15, 0, 0))}
    assert not stored.resolved and stored.folded_at is None
    # and the reply at 10:10 misses the first-response target
    stored.on_agent_reply(berlin(2026, 5, 11, 10, 10))
    assert stored.first_response.state is ClockState.BREACHED


def test_given_the_first_response_refused_for_good_then_the_clock_runs_again_due_as_it_was():
    # Given a customer who wrote Monday 09:00 and a reply at 09:20 that met the first-response target
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 20))
    clocks.on_customer_message(berlin(2026, 5, 11, 9, 30))        # "thanks": a next response clock starts
    stored = ConversationClocks.model_validate_json(clocks.stored_json())
    # When the provider refuses that reply for good at 09:40
    assert stored.on_reply_refused(berlin(2026, 5, 11, 9, 20), None, berlin(2026, 5, 11, 9, 40))
    # Then the first response runs again, due at 10:00 as before, and no next response is measured
    assert stored.first_response is not None and stored.first_response.state is ClockState.RUNNING
    assert by_target(stored) == {"first_response": ((5, 11, 10, 0, 0), (5, 11, 9, 45, 0)),
                                 "resolution": ((5, 11, 17, 0, 0), (5, 11, 15, 0, 0))}
    assert stored.next_response is None and stored.last_agent_reply_at is None
    # and the next reply, at 10:10, misses the target; the same report again changes nothing
    stored.on_agent_reply(berlin(2026, 5, 11, 10, 10))
    assert stored.first_response.state is ClockState.BREACHED
    assert not stored.on_reply_refused(berlin(2026, 5, 11, 9, 20), None, berlin(2026, 5, 11, 10, 20))


def test_given_the_first_response_refused_with_a_later_reply_on_its_way_then_the_clock_ends_there():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 20))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 50))
    assert clocks.on_reply_refused(berlin(2026, 5, 11, 9, 20), berlin(2026, 5, 11, 9, 50), berlin(2026, 5, 11, 9, 55))
    assert clocks.first_response is not None and clocks.first_response.state is ClockState.MET
    assert clocks.first_response.consumed_seconds == 50 * 60
    assert clocks.first_response.ended_at == berlin(2026, 5, 11, 9, 50)


def test_given_a_refused_reply_that_did_not_end_the_clock_or_a_resolved_conversation_then_nothing_changes():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 20))
    # a later reply was not the first response
    assert not clocks.on_reply_refused(berlin(2026, 5, 11, 9, 50), None, berlin(2026, 5, 11, 9, 55))
    clocks.on_status(ConversationStatus.RESOLVED, berlin(2026, 5, 11, 10))
    assert not clocks.on_reply_refused(berlin(2026, 5, 11, 9, 20), None, berlin(2026, 5, 11, 10, 5))
    assert clocks.first_response is not None and clocks.first_response.state is ClockState.MET


def test_given_a_pending_conversation_whose_first_response_is_refused_then_the_clock_stands_still_from_then():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 20))
    clocks.on_status(ConversationStatus.PENDING, berlin(2026, 5, 11, 9, 21))
    assert clocks.on_reply_refused(berlin(2026, 5, 11, 9, 20), None, berlin(2026, 5, 11, 9, 30))
    assert clocks.first_response is not None and clocks.first_response.state is ClockState.PAUSED
    assert clocks.first_response.consumed_seconds == 30 * 60        # the customer waited for the lost reply
    assert "first_response" not in by_target(clocks)


def test_given_a_resolved_conversation_whose_only_reply_is_refused_then_reopened_its_clocks_run_as_they_were():
    # Given a reply at 09:20, the conversation resolved at 09:30
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 20))
    clocks.on_status(ConversationStatus.RESOLVED, berlin(2026, 5, 11, 9, 30))
    # When the reply is refused at 09:40 and the conversation opens again for it
    assert clocks.on_reply_refused(berlin(2026, 5, 11, 9, 20), None, berlin(2026, 5, 11, 9, 40), reopen=True)
    # Then both targets run with the due times they had: the resolve never was, nor the reply
    assert not clocks.resolved and not clocks.paused
    assert by_target(clocks) == {"first_response": ((5, 11, 10, 0, 0), (5, 11, 9, 45, 0)),
                                 "resolution": ((5, 11, 17, 0, 0), (5, 11, 15, 0, 0))}
    # A pending one opened again: the first response counts the pending time (the customer waited), the rest
    # runs from the reopen
    pending = conversation()
    pending.on_customer_message(berlin(2026, 5, 11, 9))
    pending.on_agent_reply(berlin(2026, 5, 11, 9, 20))
    pending.on_status(ConversationStatus.PENDING, berlin(2026, 5, 11, 9, 30))
    assert pending.on_reply_refused(berlin(2026, 5, 11, 9, 20), None, berlin(2026, 5, 11, 10, 30), reopen=True)
    assert not pending.paused
    assert by_target(pending)["first_response"][0] == (5, 11, 10, 0, 0)
    assert by_target(pending)["resolution"][0] == (5, 12, 10, 0, 0)       # 7.5 business hours from 10:30


def test_given_a_resolved_conversation_kept_so_whose_only_reply_is_refused_then_its_first_response_is_unmeasured():
    # Given a reply at 09:20 that met the first-response target, the conversation resolved at 09:30
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 20))
    clocks.on_status(ConversationStatus.RESOLVED, berlin(2026, 5, 11, 9, 30))
    stored = ConversationClocks.model_validate_json(clocks.stored_json())
    # When the reply is refused and the conversation stays resolved (its customer has another open one)
    assert stored.on_reply_refused_kept_resolved(berlin(2026, 5, 11, 9, 20))
    # Then the first response was neither met nor missed: stopped at the resolve, as with no reply, and nothing runs
    first = stored.first_response
    assert first is not None and first.state is ClockState.STOPPED
    assert first.ended_at == berlin(2026, 5, 11, 9, 30) and first.consumed_seconds == 30 * 60
    assert stored.resolved and by_target(stored) == {}
    assert stored.resolution is not None and stored.resolution.state is ClockState.MET
    # and the same report again, or a reply that did not end the clock, changes nothing
    assert not stored.on_reply_refused_kept_resolved(berlin(2026, 5, 11, 9, 20))
    assert not clocks.on_reply_refused_kept_resolved(berlin(2026, 5, 11, 9, 25))


def test_given_a_pending_conversation_merged_then_undone_its_clocks_run_from_the_unmerge():
    # Given a conversation pending at 09:20 (20 minutes used), merged away at 09:30
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_status(ConversationStatus.PENDING, berlin(2026, 5, 11, 9, 20))
    clocks.on_fold(berlin(2026, 5, 11, 9, 30))
    # When the merge is undone at 11:00: it opens again, its clocks run from then with the 20 minutes they used
    clocks.on_unfold(berlin(2026, 5, 11, 11))
    assert by_target(clocks)["first_response"][0] == (5, 11, 11, 40, 0)
    # A conversation folded before the fold was kept on its clocks gets fresh ones, as a reopen
    old = conversation()
    old.on_customer_message(berlin(2026, 5, 11, 9))
    old.on_status(ConversationStatus.RESOLVED, berlin(2026, 5, 11, 9, 30))
    old.on_unfold(berlin(2026, 5, 11, 11))
    assert by_target(old)["first_response"][0] == (5, 11, 12, 0, 0)


def test_given_a_target_not_measured_when_events_happen_then_that_clock_never_exists():
    clocks = ConversationClocks(targets=Targets(first_response=HOUR), hours=OFFICE)
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_agent_reply(berlin(2026, 5, 11, 9, 5))
    clocks.on_customer_message(berlin(2026, 5, 11, 9, 10))
    assert clocks.next_response is None and clocks.resolution is None
    assert clocks.deadlines() == []


def test_given_conversation_clocks_when_serialised_mid_pause_and_loaded_then_they_continue_identically():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 8, 15))
    clocks.on_status("pending", berlin(2026, 5, 8, 16))
    loaded = ConversationClocks.model_validate_json(clocks.model_dump_json())
    assert loaded == clocks
    for each in (clocks, loaded):
        each.on_customer_message(berlin(2026, 5, 11, 9))
    assert loaded.deadlines() == clocks.deadlines()
    assert wall(loaded.deadlines()[0].due_at) == (5, 11, 9, 0, 0)       # first response: 60 of 60 min used


def test_given_clocks_in_every_state_when_stored_compactly_and_loaded_then_nothing_is_lost():
    holidays = BusinessHours(time_zone="Europe/Berlin", weekly={"mon": [{"start": "09:00", "end": "12:00"},
                                                                        {"start": "13:00", "end": "24:00"}]},
                             holidays=["2026-05-25", {"date": "2026-12-24", "windows": [{"start": "09:00",
                                                                                         "end": "12:00"}]}])
    states = []
    for hours, targets in ((OFFICE, TARGETS), (holidays, Targets(first_response=HOUR)),
                           (BusinessHours.always_open(), TARGETS)):
        clocks = ConversationClocks(targets=targets, hours=hours, warning_fraction=0.75, policy_id="p")
        states.append(clocks.model_copy(deep=True))
        clocks.on_customer_message(berlin(2026, 5, 11, 8))
        states.append(clocks.model_copy(deep=True))
        clocks.on_status("pending", berlin(2026, 5, 11, 10))
        states.append(clocks.model_copy(deep=True))
        clocks.on_customer_message(berlin(2026, 5, 11, 11))
        clocks.on_agent_reply(berlin(2026, 5, 11, 11, 30))
        clocks.on_status("resolved", berlin(2026, 5, 12, 9))
        states.append(clocks.model_copy(deep=True))
    for clocks in states:
        stored = clocks.stored_json()
        assert ConversationClocks.model_validate_json(stored) == clocks
        assert len(stored) < len(clocks.model_dump_json())
    office = ConversationClocks(targets=TARGETS, hours=OFFICE)
    assert '"mon":["09:00-17:00"]' in office.stored_json()              # a window in its short form


def test_given_clocks_on_the_default_calendar_when_stored_then_only_what_is_not_a_default_is_written():
    # Given the default policy's clocks (always open, in UTC), the first response clock running
    clocks = ConversationClocks(targets=Targets(first_response=HOUR), hours=BusinessHours.always_open())
    clocks.on_customer_message(datetime(2026, 11, 2, 8, tzinfo=UTC))
    # When they are stored
    stored = clocks.stored_json()
    # Then the calendar, the warning fraction, the running state and the flags are left out: a third of the size
    assert json.loads(stored) == {
        "targets": {"first_response": 3600.0},
        "first_response": {"target_seconds": 3600.0, "running_since": "2026-11-02T08:00:00Z",
                           "started_at": "2026-11-02T08:00:00Z"},
        "last_customer_message_at": "2026-11-02T08:00:00Z"}
    # and they read back the same, on the shared always-open calendar
    loaded = ConversationClocks.model_validate_json(stored)
    assert loaded == clocks and loaded.hours is BusinessHours.always_open()
    # A calendar in UTC keeps its windows, without the time zone
    office = ConversationClocks(targets=TARGETS, hours=BusinessHours(weekly={"mon": [{"start": "09:00",
                                                                                       "end": "17:00"}]}))
    assert json.loads(office.stored_json())["hours"] == {"weekly": {"mon": ["09:00-17:00"]}}
    assert ConversationClocks.model_validate_json(office.stored_json()) == office


def test_given_the_sweep_flags_a_breach_when_listing_deadlines_then_that_target_is_gone():
    clocks = conversation()
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_breach("first_response", berlin(2026, 5, 11, 10, 0, 30))
    assert set(by_target(clocks)) == {"resolution"}
    clocks.on_agent_reply(berlin(2026, 5, 11, 11))
    assert clocks.first_response is not None
    assert clocks.first_response.state is ClockState.BREACHED


# ------------------------------------------------------------------------------ policies

def policy(policy_id: str, rank: int = 0, **conditions) -> SlaPolicy:
    return SlaPolicy(id=policy_id, name=policy_id, rank=rank, applies_to=conditions,
                     targets={Priority.NORMAL: {"first_response": HOUR}})


POLICIES = [
    policy("default"),
    policy("whatsapp", channels=["whatsapp"]),
    policy("vip", tiers=["vip"]),
    policy("vip-whatsapp", channels=["whatsapp"], tiers=["vip"]),
    policy("billing-email", rank=5, channels=["email"], teams=["billing"]),
    policy("billing-email-urgent", rank=1, channels=["email"], teams=["billing"]),
]


@pytest.mark.parametrize(("channel", "tier", "team", "expected"), [
    ("sms", None, "default", "default"),                    # nothing specific: the default
    ("whatsapp", "standard", "default", "whatsapp"),        # one condition beats none
    ("whatsapp", "vip", "default", "vip-whatsapp"),         # two conditions beat one
    ("sms", "VIP", "default", "vip"),                       # values compare case-insensitively
    ("email", "vip", "billing", "billing-email-urgent"),    # equally specific: the lower rank wins
])
def test_given_several_matching_policies_when_choosing_then_the_most_specific_then_lowest_rank_wins(
        channel, tier, team, expected):
    assert choose_policy(POLICIES, channel, tier, team).id == expected
    assert choose_policy(list(reversed(POLICIES)), channel, tier, team).id == expected


def test_given_no_default_policy_when_nothing_matches_then_a_clear_error():
    with pytest.raises(NoMatchingPolicy, match="add a default policy"):
        choose_policy(POLICIES[1:], "sms", None, "default")


def test_given_a_policy_when_clocks_are_made_for_a_priority_then_its_targets_and_calendar_apply():
    chosen = SlaPolicy(id="p", name="p", business_hours=OFFICE, warning_fraction=0.5,
                       targets={Priority.URGENT: Targets(first_response=600)})
    urgent = ConversationClocks.for_policy(chosen, Priority.URGENT)
    urgent.on_customer_message(berlin(2026, 5, 11, 16, 55))
    assert by_target(urgent) == {"first_response": ((5, 12, 9, 5, 0), (5, 11, 17, 0, 0))}
    low = ConversationClocks.for_policy(chosen, "low")
    low.on_customer_message(berlin(2026, 5, 11, 16, 55))
    assert low.deadlines() == []
    stored = SlaPolicy(id="q", name="q", calendar_id="office", targets={})
    with pytest.raises(ValueError, match="pass its hours"):
        ConversationClocks.for_policy(stored, Priority.NORMAL)


@pytest.mark.parametrize(("data", "message"), [
    ({"warning_fraction": 1}, "less than or equal to 0.99"),
    ({"warning_fraction": 0}, "greater than or equal to 0.01"),
    ({"warning_fraction": 2.2250738585072014e-308}, "greater than or equal to 0.01"),   # DynamoDB cannot hold it
    ({"applies_to": {"channels": []}}, "leave it out"),
    ({"calendar_id": "office", "business_hours": OFFICE.model_dump()}, "not both"),
    ({"targets": {"normal": {"first_response": 0}}}, "greater than or equal to 1"),
    ({"targets": {"normal": {"resolution": 1e300}}}, "less than or equal to 31622400"),
    ({"rank": 10**40}, "less than or equal to 1000000"),
    ({"targets": {"critical": {"first_response": 60}}}, "urgent"),
])
def test_given_an_invalid_policy_when_validated_then_the_error_says_what_is_wrong(data, message):
    with pytest.raises(ValidationError, match=message):
        SlaPolicy.model_validate({"id": "p", "name": "p", **data})


def test_given_running_clocks_when_the_priority_is_escalated_then_the_new_targets_apply_to_what_is_left():
    chosen = SlaPolicy(id="p", name="p", business_hours=OFFICE, targets={
        Priority.NORMAL: Targets(first_response=4 * HOUR, resolution=16 * HOUR),
        Priority.URGENT: Targets(first_response=HOUR)})
    clocks = ConversationClocks.for_policy(chosen, Priority.NORMAL)
    clocks.on_customer_message(berlin(2026, 5, 11, 9))
    clocks.on_status("pending", berlin(2026, 5, 11, 9, 20))            # 20 minutes used
    clocks.rebind(chosen, Priority.URGENT)
    clocks.on_customer_message(berlin(2026, 5, 11, 15))
    assert by_target(clocks) == {"first_response": ((5, 11, 15, 40, 0), (5, 11, 15, 28, 0))}
    assert clocks.resolution is None                                    # not measured for urgent


def test_given_a_running_clock_when_rebound_to_another_calendar_then_time_used_so_far_counts_in_the_old_one():
    around_the_clock = SlaPolicy(id="24x7", name="24x7", targets={Priority.NORMAL: Targets(first_response=4 * HOUR)})
    office = SlaPolicy(id="office", name="office", business_hours=OFFICE,
                       targets={Priority.NORMAL: Targets(first_response=4 * HOUR)})
    clocks = ConversationClocks.for_policy(around_the_clock, Priority.NORMAL)
    clocks.on_customer_message(berlin(2026, 5, 11, 6))                  # Monday 06:00, before office hours
    clocks.rebind(office, Priority.NORMAL, at=berlin(2026, 5, 11, 8))   # 2 hours used around the clock
    assert clocks.policy_id == "office"
    assert wall(clocks.first_response.due_at(clocks.hours)) == (5, 11, 11, 0, 0)   # 2 office hours left from 09:00
    unfolded = ConversationClocks.for_policy(around_the_clock, Priority.NORMAL)
    unfolded.on_customer_message(berlin(2026, 5, 11, 6))
    unfolded.rebind(office, Priority.NORMAL)                             # without the moment: re-measured
    assert wall(unfolded.first_response.due_at(unfolded.hours)) == (5, 11, 13, 0, 0)
