"""A task's row: what the table shows of one task, as plain JSON values.

Everything here is read from the public ``Task`` and ``Scheduler``. Times
travel as epoch seconds and the browser draws them (countdowns, elapsed
times, "in 4 s", "3 min ago"), so a row changes only when the task does, not
every second. A row also says which of its buttons would act now and, for
one that would not, why (the button's tooltip).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from .words import outcome_words

if TYPE_CHECKING:
    from .._engine.task import Task
    from .._history.records import RunRecord

__all__ = ["STRIP", "TaskStats", "describe_resources", "row_view", "static_view", "why_not_run"]

STRIP = 12  # outcomes of a task's latest runs shown as small marks
_TRACE_LIMIT = 4000  # characters of a condition's traceback a row carries


class TaskStats:
    """What the panel keeps of one task between two looks: runs by status,
    the latest outcomes, its live run (from the events), and what changes
    only when the task is redefined."""

    __slots__ = ("counts", "last", "last_view", "live", "static", "strip")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.strip: deque[tuple[int, str]] = deque(maxlen=STRIP)
        self.last: RunRecord | None = None  # the latest run that ended
        self.last_view: dict[str, Any] | None = None
        self.live: tuple[int, float] | None = None  # (run id, start) of the latest live run
        self.static: dict[str, Any] | None = None

    def seen(self, record: RunRecord) -> None:
        """A run that had ended before the panel was made."""
        self.strip.append((record.run_id, record.status))
        if self.last is None or record.run_id > self.last.run_id:
            self.last = record
            self.last_view = {
                "run_id": record.run_id,
                "status": record.status,
                "words": outcome_words(record.status, record.reason, record.error),
                "end": record.end.timestamp() if record.end else None,
                "runtime": record.runtime,
            }

    def add(self, record: RunRecord) -> None:
        """A run that ended since the panel was made."""
        self.counts[record.status] = self.counts.get(record.status, 0) + 1
        self.seen(record)
        if self.live is not None and self.live[0] == record.run_id:
            self.live = None

    def started(self, record: RunRecord) -> None:
        self.live = (record.run_id, record.start.timestamp())


def describe_resources(resources: dict[str, float | int]) -> str:
    """``"2 CPU · 1 GPU · 4.0 GiB"``; ``""`` for none."""
    parts = []
    if "num_cpus" in resources:
        parts.append(f"{resources['num_cpus']:g} CPU")
    if "num_gpus" in resources:
        parts.append(f"{resources['num_gpus']:g} GPU")
    if "memory" in resources:
        parts.append(f"{resources['memory'] / 2**30:.1f} GiB")
    return " · ".join(parts)


def why_not_run(task: Task, state: str, end_true: bool | None) -> str:
    """Why Run would do nothing now (``""``: it would start a run)."""
    if state == "stopped":
        return "the scheduler is stopped: Start it first"
    if state == "shutting_down":
        return "the scheduler is shutting down"
    if task.disabled:
        return "paused: Resume it first"
    if task.is_alive() and not task.multilaunch:
        return "a run of it is alive"
    if task.status == "waiting":
        if task.waits_for == "run id":
            return "a run of it waits for a run id (the run history takes no writes)"
        return "a run of it waits for a slot of its pool"
    if end_true:
        return "its end condition is true"
    return ""


def static_view(task: Task) -> dict[str, Any]:
    """What changes only when the task is defined again."""
    start, end = task.start_cond, task.end_cond
    return {
        "name": task.name,
        "execution": task.execution,
        "resources": describe_resources(task.resources),
        "start": "only when asked" if start is None else str(start),
        "end": "" if end is None else str(end),
        "timeout": task.timeout,
        "pool": task.pool,
    }


def row_view(task: Task, state: str, stats: TaskStats) -> dict[str, Any]:
    """What the table shows of ``task`` while the scheduler is in ``state``."""
    static = stats.static
    if static is None:
        static = stats.static = static_view(task)
    status = task.status
    alive = status in ("running", "terminating")
    end_true = task.end_cond_true if static["end"] else None
    if alive and stats.live is None:  # alive before its event came: read it once
        record = task.last_run
        if record is not None and record.status == "run":
            stats.started(record)
    live = stats.live if alive else None
    blocked = why_not_run(task, state, end_true)
    retry = task.next_retry
    # When the next start is not shown, the row says why instead: a start
    # time on a stopped scheduler, or "due now" that never comes, would lie.
    next_at: float | None = None
    held = ""
    if static["start"] == "only when asked":
        held = ""
    elif state != "running":
        held = "not while stopped" if state == "stopped" else "not while shutting down"
    elif task.disabled:
        held = "paused"
    elif end_true:
        held = "held: end condition is true"
    elif retry is not None:
        held = "after its retry"
    elif status == "waiting":
        held = "after its queued run"  # it has no next start of its own meanwhile
    elif not alive:
        when = task.next_start
        next_at = round(when.timestamp(), 1) if when is not None else None
    deadline = task.deadline if alive else None
    error = task.condition_error
    waiting = status == "waiting"
    progress = task.progress if alive else None
    return {
        **static,
        "status": status,
        "disabled": task.disabled,
        "next": next_at,
        "held": held,
        "end_state": None if end_true is None else bool(end_true),
        "deadline": deadline.timestamp() if deadline is not None else None,
        "started": live[1] if live is not None else None,
        "live_run": live[0] if live is not None else None,
        "last": stats.last_view,
        # The marks themselves: (run id, status) tuples of atomic values, which
        # the garbage collector stops tracking (lists per mark, remade for
        # every view, were a panel's most numerous objects to age: figure 12).
        "strip": tuple(stats.strip),
        "counts": dict(stats.counts),
        "can_run": not blocked,
        "why_not_run": blocked,
        "can_terminate": status == "running" or waiting,
        "queue": task.queue_position if waiting else None,
        "waits_for": task.waits_for if waiting else None,
        # A retry that waits for its time: its attempt number and when it starts.
        "retry": [retry.attempt, retry.at.timestamp()] if retry is not None else None,
        "missed": task.missed_runs,
        "progress": [round(progress[0], 3), progress[1]] if progress is not None else None,
        # What a start or end condition raised: its first line, and the traceback.
        "cond_error": error.splitlines()[0] if error else "",
        "cond_trace": error[-_TRACE_LIMIT:] if error else "",
    }
