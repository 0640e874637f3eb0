"""Epoch seconds read from the run history become aware local datetimes:
exactly what ``datetime.fromtimestamp(e, UTC).astimezone()`` gives (the
offset and the zone's name in effect at that instant), across daylight
saving changes and in zones with odd offsets."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest

from notebook_sched._history.queries import to_datetime

# 2024-03-31 01:00 UTC and 2024-10-27 01:00 UTC (Europe's changes), and
# 2024-04-07 / 2024-10-06 (Lord Howe's half-hour change), and an ordinary day.
MOMENTS = (1711846800, 1729990800, 1712415600, 1728138600, 1700000000)


@pytest.fixture(params=["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"])
def zone(request, monkeypatch):
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_local_datetimes_match_astimezone_across_clock_changes(zone):
    checked = 0
    for moment in MOMENTS:
        for offset in range(-5400, 5400, 37):
            epoch = moment + offset + 0.25
            expected = datetime.fromtimestamp(epoch, tz=UTC).astimezone()
            got = to_datetime(epoch)
            assert got is not None
            assert (got, got.utcoffset(), got.tzname()) == (
                expected,
                expected.utcoffset(),
                expected.tzname(),
            ), (zone, epoch)
            checked += 1
    assert checked > 1000
    assert to_datetime(None) is None
    assert os.environ["TZ"] == zone
