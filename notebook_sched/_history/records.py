"""``RunRecord``: what one run of a task did."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

__all__ = [
    "FINAL_STATUSES", "REASONS", "Reason", "RunRecord", "RunStatus", "new_record", "to_datetime"
]  # fmt: skip

RunStatus = Literal["run", "success", "fail", "terminate", "crash"]
Reason = Literal["timeout", "end_cond", "shutdown", "manual"]

FINAL_STATUSES: tuple[str, ...] = ("success", "fail", "terminate", "crash")
REASONS: tuple[str, ...] = ("timeout", "end_cond", "shutdown", "manual")


@dataclass(frozen=True)
class RunRecord:
    """One run of a task.

    ``status`` is ``"run"`` while the run is alive, then one of
    ``"success" | "fail" | "terminate" | "crash"``. ``reason`` says why a run
    was terminated (``"timeout" | "end_cond" | "shutdown" | "manual"``).
    ``start`` and ``end`` are timezone-aware; ``end`` is ``None`` while alive.
    ``error`` holds the traceback or error text of a failed or crashed run;
    ``result`` a short ``repr()`` of the return value, taken where it ran.
    ``output`` is what the run wrote (its stdout, stderr, log records and
    warnings, in order; ``""`` when nothing), at most the scheduler's
    ``output_limit`` characters: past it the oldest part is dropped and the
    text begins with a line saying how much. ``attempt`` is 1 for a first
    run, 2 for its first retry, and so on.
    """

    task: str
    run_id: int
    status: RunStatus
    reason: Reason | None
    start: datetime
    end: datetime | None
    error: str | None = None
    result: str | None = None
    output: str = ""
    attempt: int = 1

    @property
    def runtime(self) -> float | None:
        """Seconds from start to end (``None`` while the run is alive)."""
        if self.end is None:
            return None
        return (self.end - self.start).total_seconds()

    @property
    def is_alive(self) -> bool:
        """Whether the run was alive when this record was read (status ``"run"``)."""
        return self.status == "run"

    def __repr__(self) -> str:
        parts = [f"task={self.task!r}", f"run_id={self.run_id}", f"status={self.status!r}"]
        if self.reason:
            parts.append(f"reason={self.reason!r}")
        if self.runtime is not None:
            parts.append(f"runtime={self.runtime:.3f}")
        if self.attempt != 1:
            parts.append(f"attempt={self.attempt}")
        if self.result is not None:
            parts.append(f"result={self.result}")
        return f"RunRecord({', '.join(parts)})"


def new_record(
    task: str,
    run_id: int,
    status: RunStatus,
    reason: Reason | None,
    start: datetime,
    end: datetime | None,
    error: str | None = None,
    result: str | None = None,
    output: str = "",
    attempt: int = 1,
) -> RunRecord:
    """``RunRecord(...)`` for the scheduler's hot path: the same frozen record,
    made in a third of the time (a frozen dataclass's ``__init__`` sets each
    field through ``object.__setattr__``; a burst makes two records per run)."""
    record = object.__new__(RunRecord)
    record.__dict__.update(
        task=task, run_id=run_id, status=status, reason=reason, start=start, end=end,
        error=error, result=result, output=output, attempt=attempt,
    )  # fmt: skip
    return record


_ZONES: dict[tuple[int, str], timezone] = {}  # the local zones met: (UTC offset, name)
_SPAN = 900  # seconds: no zone changes its offset twice within a quarter of an hour
_SPANS: dict[int, timezone | None] = {}  # span -> its one zone (None: it holds a change)
_SPANS_KEPT = 4096
_names_seen: list[tuple[str, str]] = [time.tzname]  # time.tzset() makes a new tuple


def to_datetime(epoch: float | None) -> datetime | None:
    """``epoch`` as an aware ``datetime`` in the local zone in effect then —
    what ``datetime.fromtimestamp(epoch, UTC).astimezone()`` gives, in about
    half its time (that asks the C library and makes a fixed-offset
    zone afresh each call; a run's records take two, a history read two per
    record it returns). The zone is kept per quarter hour: one whose two ends
    have the same zone has it throughout. ``None`` stays ``None``."""
    if epoch is None:
        return None
    if time.tzname is not _names_seen[0]:  # the process changed its zone (TZ, tzset)
        _names_seen[0] = time.tzname
        _SPANS.clear()
    span = int(epoch // _SPAN)
    try:
        zone = _SPANS[span]
    except KeyError:
        if len(_SPANS) >= _SPANS_KEPT:
            _SPANS.clear()
        first, last = _zone_at(span * _SPAN), _zone_at(span * _SPAN + _SPAN - 1)
        zone = _SPANS[span] = first if first is last else None
    if zone is None:  # the offset changes within this quarter hour
        zone = _zone_at(epoch)
    return datetime.fromtimestamp(epoch, zone)


def _zone_at(epoch: float) -> timezone:
    local = time.localtime(epoch)
    key = (local.tm_gmtoff, local.tm_zone)
    zone = _ZONES.get(key)
    if zone is None:
        zone = _ZONES[key] = timezone(timedelta(seconds=local.tm_gmtoff), local.tm_zone)
    return zone
