"""The local wall clock, read the way time-of-day conditions need it.

Wall-clock conditions are predicates on the naive local date and time.
Between two changes of the zone's UTC offset the wall clock runs with real
time, so such a predicate can only change where the wall clock reads one of
its edges, or where the offset changes (a DST gap jumps over some wall times,
a fold shows others twice). ``next_wall_change`` checks exactly those instants.

``tz=None`` is the system's local zone: naive local datetimes are converted
with ``.timestamp()``, aware ones with ``.replace(tzinfo=tz).timestamp()``.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo

__all__ = [
    "ChangeCache",
    "first_instant",
    "instants",
    "next_wall_change",
    "transitions",
    "wall",
]

# Offset changes are sought by sampling at this step; two changes closer than
# this that cancel out would be missed, and no zone has any.
_SAMPLE_STEP = 6 * 3600
# No zone moves its clock by more than this at once (Antarctica/Troll moves it
# by two hours); a wider margin costs only time.
_MARGIN = timedelta(hours=3)


_last_wall: tuple[float, object, datetime] = (math.nan, None, datetime(2000, 1, 1))


def wall(t: float, tz: tzinfo | None) -> datetime:
    """The naive local date and time the wall clock shows at epoch ``t``."""
    global _last_wall
    # A step of the scheduler asks for the same ``now`` for every task it looks
    # at: remember the last answer. The system zone is keyed by ``time.tzname``,
    # which ``time.tzset()`` replaces.
    zone = time.tzname if tz is None else tz
    last = _last_wall
    if last[0] == t and last[1] is zone:
        return last[2]
    if tz is None:
        moment = datetime.fromtimestamp(t)
    else:
        moment = datetime.fromtimestamp(t, tz).replace(tzinfo=None)
    _last_wall = (t, zone, moment)
    return moment


def _offset(t: int, tz: tzinfo | None) -> float:
    if tz is None:
        return time.localtime(t).tm_gmtoff
    offset = datetime.fromtimestamp(t, tz).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def instants(local: datetime, tz: tzinfo | None) -> list[float]:
    """The epochs at which the wall clock reads ``local``, in order: none in a
    DST gap, two in a fold, else one."""
    found: list[float] = []
    for fold in (0, 1):
        naive = local.replace(fold=fold)
        t = naive.timestamp() if tz is None else naive.replace(tzinfo=tz).timestamp()
        # In a gap neither fold maps back to ``local``: that reading never happens.
        if wall(t, tz) == local and t not in found:
            found.append(t)
    return sorted(found)


def first_instant(local: datetime, tz: tzinfo | None) -> float:
    """The first instant at which the wall clock reads ``local`` or later: in a
    fold the first of the two, in a DST gap the end of the gap."""
    found = instants(local, tz)
    if found:
        return found[0]
    early, late = sorted(
        (naive.timestamp() if tz is None else naive.replace(tzinfo=tz).timestamp())
        for naive in (local.replace(fold=0), local.replace(fold=1))
    )
    changes = transitions(early, late, tz)
    return changes[0] if changes else early


def transitions(start: float, end: float, tz: tzinfo | None) -> list[float]:
    """The instants in ``(start, end]`` at which the UTC offset changes (the
    first second with the new offset)."""
    found: list[float] = []
    lo = math.floor(start)
    last = math.ceil(end)
    offset = _offset(lo, tz)
    while lo < last:
        hi = min(lo + _SAMPLE_STEP, last)
        if _offset(hi, tz) == offset:
            lo = hi
            continue
        a, b = lo, hi  # offset(a) is the old one, offset(b) is not
        while b - a > 1:
            mid = (a + b) // 2
            if _offset(mid, tz) == offset:
                a = mid
            else:
                b = mid
        if b <= end:
            found.append(float(b))
        # go on from the change, not from hi: a second change may follow it
        lo, offset = b, _offset(b, tz)
    return found


def next_wall_change(
    inside: Callable[[datetime], bool],
    edges: Iterable[datetime],
    now: float,
    tz: tzinfo | None,
    horizon: float,
    chunk: float = 86400.0,
) -> float | None:
    """The first instant after ``now``, and at most ``horizon`` seconds later,
    at which ``inside(wall(t))`` differs from its value at ``now``; ``None``
    when there is none that soon.

    ``edges`` must include every wall time at which ``inside`` may change in
    that span (extra ones cost only time). The span is searched ``chunk``
    seconds at a time, so that a change found early spares the rest.
    """
    value = inside(wall(now, tz))
    end = now + horizon
    ordered = sorted(set(edges))
    found: dict[datetime, list[float]] = {}
    lo = now
    while lo < end:
        hi = min(lo + chunk, end)
        # the wall times shown in (lo, hi], widened by the largest offset change
        first, last = wall(lo, tz) - _MARGIN, wall(hi, tz) + _MARGIN
        batch = set(transitions(lo, hi, tz))
        for edge in ordered[
            bisect.bisect_left(ordered, first) : bisect.bisect_right(ordered, last)
        ]:
            if edge not in found:
                found[edge] = instants(edge, tz)
            batch.update(t for t in found[edge] if lo < t <= hi)
        for t in sorted(batch):
            if inside(wall(t, tz)) != value:
                return t
        lo = hi
    return None


class ChangeCache:
    """Remembers what ``next_wall_change`` found, per key (the zone, and what
    else the predicate depends on besides the wall clock).

    Finding a change costs tens of microseconds, and the scheduler asks again
    every time a task's run ends: for a predicate of the wall clock, the first
    change after ``t0`` — say ``r`` — is also the first change after any ``t``
    in ``[t0, r)``, so the answer holds until ``r``.
    """

    __slots__ = ("_found",)
    _SIZE = 16

    def __init__(self) -> None:
        self._found: dict[object, tuple[float, float]] = {}

    def get(self, key: object, now: float) -> float | None:
        found = self._found.get(key)
        if found is not None and found[0] <= now < found[1]:
            return found[1]
        return None

    def put(self, key: object, now: float, change: float | None) -> float | None:
        if change is not None:
            if len(self._found) >= self._SIZE:
                self._found.clear()
            self._found[key] = (now, change)
        return change
