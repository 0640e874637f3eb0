"""Helpers for the condition tests: zones with DST, instants around their
transitions, contexts, and a brute-force "next change" to check against."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from notebook_sched._conditions.base import Condition, StaticContext

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # DST moves the clock by 30 minutes
UTC = ZoneInfo("UTC")
ZONES = [BERLIN, NEW_YORK, LORD_HOWE]

# Days on which the clocks change (wall clock 01:00-04:00 is the interesting part).
TRANSITION_DAYS = {
    BERLIN: [datetime(2024, 3, 31), datetime(2024, 10, 27), datetime(2025, 3, 30)],
    NEW_YORK: [datetime(2024, 3, 10), datetime(2024, 11, 3), datetime(2025, 3, 9)],
    LORD_HOWE: [datetime(2024, 4, 7), datetime(2024, 10, 6)],
}


def at(local: datetime, tz: tzinfo | None, fold: int = 0) -> float:
    """Epoch of a naive wall-clock time in ``tz`` (``None``: the system zone)."""
    local = local.replace(fold=fold)
    return local.timestamp() if tz is None else local.replace(tzinfo=tz).timestamp()


def ctx(now: float, tz: tzinfo | None = None, **kwargs: object) -> StaticContext:
    kwargs.setdefault("started_at", now - 10 * 86400)
    return StaticContext(now=now, tz=tz, **kwargs)  # type: ignore[arg-type]


@st.composite
def zone_and_instant(draw: st.DrawFn, step: int = 900, days: int = 3) -> tuple[ZoneInfo, float]:
    """A zone and an instant within ``days`` of one of its clock changes:
    on the ``step`` grid, or just off it (a grid point minus a little, plus a
    little), so that edges are hit exactly and approached closely."""
    tz = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(TRANSITION_DAYS[tz]))
    base = at(day, tz)
    slots = days * 86400 // step
    # half of the time just before or inside the change (01:00-04:00 local)
    near = st.integers(3600 // step, 4 * 3600 // step)
    grid = base + draw(st.one_of(st.integers(-slots, slots), near)) * step
    return tz, grid + draw(st.sampled_from([0.0, 0.0, 1e-3, 7.5, step - 1e-3]))


def brute_next_change(
    value: Callable[[float], bool], now: float, step: int, limit: float
) -> float | None:
    """The first point of the ``step`` grid after ``now`` where ``value``
    differs from ``value(now)``, looking up to ``now + limit``. Valid when the
    value can only change on the grid."""
    start = value(now)
    t = math.floor(now / step) * step + step
    while t <= now + limit:
        if value(t) != start:
            return t
        t += step
    return None


def check_next_change(
    cond: Condition, context: StaticContext, step: int, limit: float, count: int = 3
) -> None:
    """``cond.next_change`` is exactly the first grid point where the value
    changes (for conditions whose value can only change on the grid); checked
    for ``count`` changes in a row."""

    def value(t: float) -> bool:
        return cond.is_true(replace(context, now=t))

    now = context.now
    for _ in range(count):
        expected = brute_next_change(value, now, step, limit)
        got = cond.next_change(replace(context, now=now))
        assert got == expected, (
            f"{cond}: next_change {_show(got, context.tz)} != {_show(expected, context.tz)} "
            f"from {_show(now, context.tz)}"
        )
        if got is None:
            return
        now = got


def _show(t: float | None, tz: tzinfo | None) -> str:
    if t is None:
        return "None"
    return datetime.fromtimestamp(t, tz).isoformat() + f" ({t})"


@contextmanager
def system_zone(name: str) -> Iterator[None]:
    """Run with the process's local zone set to ``name`` (for ``tz=None``)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()
