"""The volume forecast, staffing by Erlang C with concurrent conversations, and breach risk."""

from __future__ import annotations

import math
import random

import pytest

from shopdesk.forecast import risk, staffing, volume
from shopdesk.forecast.volume import WEEK


def _pattern(hour_of_week: int) -> float:
    day, hour = divmod(hour_of_week, 24)
    daily = 0.2 + math.exp(-((hour - 11) ** 2) / 8) + 0.7 * math.exp(-((hour - 20) ** 2) / 6)
    return 10 * daily * (0.5 if day >= 5 else 1.0)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# ------------------------------------------------------------------------------ volume

def test_a_steady_week_is_forecast_exactly():
    history = [_pattern(i % WEEK) for i in range(8 * WEEK)]
    ahead = volume.forecast(history, 2 * WEEK)
    assert ahead == pytest.approx([_pattern(h % WEEK) for h in range(2 * WEEK)], rel=1e-9)


def test_growth_is_carried_forward_damped():
    history = [_pattern(i % WEEK) * (1 + 0.05 * (i // WEEK)) for i in range(8 * WEEK)]
    last_week, growth = sum(history[-WEEK:]), sum(_pattern(h) for h in range(WEEK)) * 0.05
    next_week = sum(volume.forecast(history, WEEK))
    assert last_week < next_week < last_week + growth


def test_the_forecast_keeps_the_hour_of_week_of_its_history():
    # history that ends on a Wednesday 15:00: hour 0 ahead is Wednesday 15:00 of the pattern
    offset = 2 * 24 + 15
    history = [_pattern((offset + i) % WEEK) for i in range(6 * WEEK)]
    assert volume.forecast(history, 3) == pytest.approx([_pattern((offset + h) % WEEK) for h in range(3)])
    assert volume.seasonal_naive(history, 3) == pytest.approx([_pattern((offset + h) % WEEK) for h in range(3)])


def test_less_than_a_week_is_refused():
    with pytest.raises(ValueError, match="a week of history"):
        volume.forecast([1.0] * 100, 24)
    with pytest.raises(ValueError, match="a week of history"):
        volume.seasonal_naive([1.0] * 100, 24)


def test_mase_scale_is_the_in_sample_error_of_last_week():
    history = [1.0] * WEEK + [3.0] * WEEK
    assert volume.mase_scale(history) == 2.0


def test_on_noisy_counts_the_model_beats_repeating_last_week():
    rng = random.Random(7)
    history = [_poisson(rng, _pattern(i % WEEK)) for i in range(16 * WEEK)]
    result = volume.backtest(history, origins=14)
    assert result.origins == 14
    assert result.mase < result.naive_mase and result.beats_naive
    assert result.mae < result.naive_mae


def test_a_backtest_without_enough_history_says_so():
    with pytest.raises(ValueError, match="history too short"):
        volume.backtest([1.0] * (5 * WEEK), origins=28)


# ------------------------------------------------------------------------------ staffing

def test_erlang_c_matches_its_closed_form():
    # N = 2, A = 1: C = (A^2/2! * 2/(2-1)) / (1 + A + A^2/2! * 2/(2-1)) = 1/3
    assert staffing.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert staffing.erlang_c(3, 3.0) == 1.0
    assert staffing.erlang_c(5, 0.0) == 0.0


def test_erlang_c_matches_the_textbook_table():
    # A = 8 Erlangs on 10 servers: P(wait) = 0.409 (the standard Erlang C table)
    assert staffing.erlang_c(10, 8.0) == pytest.approx(0.409, abs=0.001)


def test_the_fewest_agents_that_meet_the_goal():
    inputs = staffing.StaffingInputs(slot_seconds=1800, first_response_target_seconds=600,
                                     reply_after_assignment_seconds=60, effort_seconds=240, concurrency=3)
    hour = staffing.agents_needed(40, inputs)
    assert hour.limited_by == "service_level" and hour.service_level >= 0.8
    one_fewer = staffing.service_level((hour.agents - 1) * 3, 40, 1800, 540)
    assert one_fewer < 0.8
    single = staffing.agents_needed(40, staffing.StaffingInputs(
        slot_seconds=1800, first_response_target_seconds=600, reply_after_assignment_seconds=60,
        effort_seconds=240, concurrency=1))
    assert single.agents > hour.agents                 # holding three at once needs fewer people


def test_an_agents_own_working_time_limits_the_plan():
    inputs = staffing.StaffingInputs(slot_seconds=600, first_response_target_seconds=3600,
                                     effort_seconds=600, concurrency=5, max_occupancy=0.8)
    hour = staffing.agents_needed(30, inputs)          # 30 x 10 min of work = 5 agent-hours at 80 %
    assert hour.limited_by == "occupancy" and hour.agents == 7 and hour.occupancy <= 0.8


def test_a_plan_has_one_answer_per_hour_and_none_for_a_quiet_hour():
    inputs = staffing.StaffingInputs(slot_seconds=1200, first_response_target_seconds=900)
    hours = staffing.plan([0, 5, 50], inputs)
    assert hours[0].agents == 0 and hours[0].limited_by == "none"
    assert hours[1].agents < hours[2].agents


def test_bad_staffing_inputs_are_refused():
    with pytest.raises(ValueError):
        staffing.StaffingInputs(slot_seconds=0, first_response_target_seconds=60)
    with pytest.raises(ValueError):
        staffing.StaffingInputs(slot_seconds=60, first_response_target_seconds=60, goal=1.0)


# ------------------------------------------------------------------------------ risk

def _state(**kw):
    base = dict(ahead=0, free_slots=0, busy_slots=6, slot_seconds=1200.0, reply_after_assignment_seconds=0.0)
    return risk.QueueState(**{**base, **kw})


def test_a_conversation_with_a_free_slot_risks_only_the_reply_delay():
    state = _state(ahead=1, free_slots=3, reply_after_assignment_seconds=120)
    assert risk.breach_probability(state, 300) == pytest.approx(math.exp(-300 / 120))
    assert risk.breach_probability(_state(free_slots=1), 300) == 0.0


def test_waiting_for_slots_is_the_erlang_tail():
    state = _state(ahead=2, free_slots=0, busy_slots=6, slot_seconds=1200)     # needs 3 slots at 6/1200 s
    rate, t = 6 / 1200, 600
    expected = sum(math.exp(-rate * t) * (rate * t) ** i / math.factorial(i) for i in range(3))
    assert risk.breach_probability(state, t) == pytest.approx(expected)


def test_slot_wait_and_reply_delay_together_match_the_closed_form():
    # one slot needed (Exp(a)) plus Exp(b): P(S + D > t) = (b e^{-a t} - a e^{-b t}) / (b - a)
    a, b, t = 4 / 1000, 1 / 150, 400
    state = _state(ahead=0, free_slots=0, busy_slots=4, slot_seconds=1000, reply_after_assignment_seconds=150)
    expected = (b * math.exp(-a * t) - a * math.exp(-b * t)) / (b - a)
    assert risk.breach_probability(state, t) == pytest.approx(expected, abs=1e-6)


def test_risk_rises_with_the_queue_and_as_time_runs_out():
    values = [risk.breach_probability(_state(ahead=k, reply_after_assignment_seconds=90), 900) for k in range(6)]
    assert values == sorted(values) and values[0] < values[-1]
    assert risk.breach_probability(_state(ahead=3), 60) > risk.breach_probability(_state(ahead=3), 3000)
    assert risk.breach_probability(_state(), 0) == 1.0


def test_nobody_online_means_a_conversation_that_must_wait_will_breach():
    assert risk.breach_probability(_state(ahead=0, free_slots=0, busy_slots=0), 3600) == 1.0
