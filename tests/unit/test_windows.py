"""Windows: which windows an instant falls in, and how they are configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.errors import ConfigError
from service.windows import NIGHT, bucket_of, buckets_in, parse_windows, placement_time


def test_tumbling_hour_contains_its_instant() -> None:
    """A 1 h tumbling window is the UTC hour of the instant."""
    (spec,) = parse_windows("1h")
    t = datetime(2026, 11, 20, 20, 59, tzinfo=UTC)
    assert [(t.replace(minute=0), t.replace(minute=0) + timedelta(hours=1))] == list(spec.containing(t))


def test_hopping_day_has_24_windows() -> None:
    """A rolling 24 h window with a 1 h step puts an instant in 24 windows."""
    (spec,) = parse_windows("24h/1h")
    t = datetime(2026, 11, 20, 20, 30, tzinfo=UTC)
    windows = list(spec.containing(t))
    assert 24 == len(windows)
    assert all(start <= t < end for start, end in windows)


def test_night_is_20_to_7_moscow_time() -> None:
    """The night window runs 20:00-07:00 Moscow time; daytime instants are in none."""
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # 02:30 MSK on the 21st
    (start, end) = NIGHT.latest(late)
    assert datetime(2026, 11, 20, 17, 0, tzinfo=UTC) == start
    assert datetime(2026, 11, 21, 4, 0, tzinfo=UTC) == end
    assert NIGHT.latest(datetime(2026, 11, 21, 9, 0, tzinfo=UTC)) is None


@pytest.mark.parametrize("bad", ["1d", "h", "2h/3h", "0h", "1h,1h", ""])
def test_bad_window_settings_are_refused(bad: str) -> None:
    """Window settings that cannot be read raise ConfigError saying the accepted forms."""
    with pytest.raises(ConfigError):
        parse_windows(bad)


def test_period_end_is_exclusive() -> None:
    """A period ending at 07:00 is counted in the window that ends at 07:00."""
    end = datetime(2025, 11, 12, 7, 0, tzinfo=UTC)
    assert datetime(2025, 11, 12, 6, 0, tzinfo=UTC) == bucket_of(placement_time(end, None, end))


def test_placement_falls_back_to_published_then_message_time() -> None:
    """Without a period the publication time places a statement; without it, the message time."""
    pub = datetime(2026, 1, 1, 10, tzinfo=UTC)
    msg = datetime(2026, 1, 2, 10, tzinfo=UTC)
    assert pub == placement_time(None, pub, msg)
    assert msg == placement_time(None, None, msg)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["1h", "24h", "24h/1h", "6h/2h", "night"]),
)
def test_windows_contain_the_instant_and_are_made_of_buckets(naive: datetime, text: str) -> None:
    """Every window returned contains the instant and is a whole number of hour buckets."""
    t = naive.replace(tzinfo=UTC)
    (spec,) = parse_windows(text)
    for start, end in spec.containing(t):
        assert start <= t < end
        assert end - start == timedelta(hours=len(buckets_in(start, end)))


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["1h", "24h", "24h/1h", "6h/2h", "night"]),
    st.sampled_from([0, 3, -5, 5.5]),
)
def test_windows_are_the_same_for_every_instant_of_an_hour(naive: datetime, text: str, zone: float) -> None:
    """containing() answers per hour bucket (remembered): an instant anywhere in the hour, in
    any time zone, gets exactly the windows that contain it, and no window that does not."""
    tz = timezone(timedelta(hours=zone))
    t = naive.replace(tzinfo=tz)
    (spec,) = parse_windows(text)
    first = spec.containing(t)
    again = spec.containing(t)
    assert first == again
    hour = bucket_of(t)
    expected = []
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    start = hour - spec.size
    while start <= hour:  # every whole-hour window start that could contain t
        end = start + spec.size
        if start <= t < end and (start - epoch - spec.anchor) % spec.step == timedelta(0):
            expected.append((start, end))
        start += timedelta(hours=1)
    assert sorted(first) == sorted(expected)
    assert list(first) == sorted(first, reverse=True)  # newest first
