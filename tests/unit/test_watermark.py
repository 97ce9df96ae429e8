"""The deletion line: the slowest channel's progress, once every channel was heard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.watermark import ChannelWatermark

T = datetime(2026, 1, 5, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_the_slowest_channel_sets_the_line() -> None:
    """A channel days ahead does not move the line past one still behind."""
    wm = ChannelWatermark()
    wm.note(0, "a", T + timedelta(days=9), NOW)
    wm.note(0, "b", T + timedelta(days=2), NOW)
    wm.note(0, "a", T + timedelta(days=1), NOW)  # an older stamp never lowers a channel
    assert T + timedelta(days=2) == wm.line(0, NOW, {"a", "b"})


def test_no_line_until_every_required_channel_was_heard() -> None:
    """At a backfill's start only some channels have delivered: nothing may be deleted yet."""
    wm = ChannelWatermark()
    wm.note(0, "a", T, NOW)
    assert wm.line(0, NOW, {"a", "b"}) is None
    assert T == wm.line(0, NOW, {"a"})


def test_an_idle_channel_stops_holding_the_line() -> None:
    """A source quiet for longer than the idle time no longer blocks expiry."""
    wm = ChannelWatermark(idle=timedelta(minutes=5))
    wm.note(0, "quiet", T, NOW - timedelta(minutes=6))
    wm.note(0, "busy", T + timedelta(days=3), NOW)
    assert T + timedelta(days=3) == wm.line(0, NOW, {"quiet", "busy"})
    wm.forget(0)
    assert wm.line(0, NOW, {"busy"}) is None


def test_uncommitted_work_holds_the_line_until_it_is_committed() -> None:
    """The held line is the oldest hour any processed but uncommitted message needs."""
    wm = ChannelWatermark()
    line = T + timedelta(days=5)
    assert line == wm.held(0, line)
    wm.hold(0, 10, T + timedelta(hours=3), committed=None)
    wm.hold(0, 11, T + timedelta(hours=1), committed=None)
    wm.hold(0, 12, T + timedelta(hours=7), committed=None)
    assert T + timedelta(hours=1) == wm.held(0, line)
    assert line == wm.held(1, line)  # per partition
    wm.hold(0, 13, T + timedelta(hours=8), committed=12)  # 10 and 11 committed
    assert T + timedelta(hours=7) == wm.held(0, line)
    wm.hold(0, 14, T + timedelta(days=9), committed=14)
    assert line == wm.held(0, line)
    assert T == wm.held(0, T)  # never later than the channels' line
