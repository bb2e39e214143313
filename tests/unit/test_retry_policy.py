"""Backoff of failed sends: exponential, jittered, capped, and never sooner than the provider asked."""

from __future__ import annotations

import pytest

from shopdesk.logic import dispatch
from shopdesk.logic.dispatch import MAX_DELAY_SECONDS, RetryPolicy


@pytest.fixture
def jitter(monkeypatch):
    """Fix the jitter factor: jitter(1.0) means none, jitter(1.2) the top of the ±20% range."""
    calls: list[tuple[float, float]] = []

    def fix(factor: float) -> list[tuple[float, float]]:
        def uniform(low: float, high: float) -> float:
            calls.append((low, high))
            return factor
        monkeypatch.setattr(dispatch.random, "uniform", uniform)
        return calls

    return fix


def test_delay_doubles_per_attempt_until_the_cap(jitter):
    jitter(1.0)
    policy = RetryPolicy(max_attempts=20, base_seconds=5)
    assert [policy.delay(a) for a in range(1, 11)] == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]


def test_delay_is_capped_at_fifteen_minutes_for_late_attempts(jitter):
    jitter(1.0)
    assert RetryPolicy(max_attempts=20, base_seconds=300).delay(20) == MAX_DELAY_SECONDS == 900


def test_jitter_is_drawn_from_plus_minus_twenty_percent(jitter):
    calls = jitter(1.0)
    RetryPolicy(6, 5).delay(3)
    assert calls == [(0.8, 1.2)]


@pytest.mark.parametrize(("factor", "expected"), [(0.8, 32), (1.2, 48)])
def test_jitter_bounds_give_eighty_to_one_hundred_twenty_percent(jitter, factor, expected):
    jitter(factor)
    assert RetryPolicy(6, 5).delay(4) == expected          # 40 s backoff


def test_real_jitter_stays_within_twenty_percent():
    policy = RetryPolicy(6, 10)
    delays = {policy.delay(3) for _ in range(2000)}         # 40 s backoff
    assert min(delays) >= 32 and max(delays) <= 48
    assert len(delays) > 1                                   # it does vary


@pytest.mark.parametrize("factor", [0.8, 1.0, 1.2])
def test_delay_is_never_below_retry_after(jitter, factor):
    jitter(factor)
    policy = RetryPolicy(6, 5)
    assert policy.delay(1, retry_after=120) >= 120
    assert policy.delay(1, retry_after=120) == 120


def test_retry_after_may_exceed_the_cap(jitter):
    jitter(1.0)
    assert RetryPolicy(6, 5).delay(1, retry_after=3600) == 3600


def test_delay_is_at_least_one_second(jitter):
    jitter(0.8)
    assert RetryPolicy(6, 1).delay(1) == 1


def test_jittered_delay_never_exceeds_the_cap(jitter):
    jitter(1.2)
    assert RetryPolicy(max_attempts=20, base_seconds=5).delay(12) <= MAX_DELAY_SECONDS


def test_fractional_retry_after_is_not_rounded_down(jitter):
    jitter(1.0)
    assert RetryPolicy(6, 5).delay(1, retry_after=30.5) >= 30.5
