"""Retry policy as data: growing, jittered, capped delays; Retry-After wins; too-long waits are handed back."""

from __future__ import annotations

import email.utils

import pytest

from veo31.providers._http import RetryPolicy, parse_retry_after


def test_delays_grow_and_are_capped_with_jitter() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=8.0, jitter=0.25)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (9, 8.0)]:
        samples = [policy.delay(attempt) for _ in range(200)]
        assert all(sample is not None and ceiling * 0.75 <= sample <= ceiling for sample in samples)
        assert len({round(sample, 6) for sample in samples if sample is not None}) > 1, "jitter must vary"


def test_no_delay_after_the_last_attempt() -> None:
    assert RetryPolicy(max_attempts=3).delay(3) is None


def test_retry_after_wins_and_long_waits_are_not_taken() -> None:
    policy = RetryPolicy(max_attempts=5, max_retry_after=30)
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert policy.delay(1, retry_after=31.0) is None


@pytest.mark.parametrize(("header", "seconds"), [("5", 5.0), ("0.5", 0.5), (" 12 ", 12.0), ("-3", 0.0), ("soon", None)])
def test_retry_after_seconds(header: str, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    header = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(42, abs=1)
    assert parse_retry_after(None) is None
