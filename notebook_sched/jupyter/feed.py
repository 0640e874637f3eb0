"""The panel's feed: from scheduler events to the few changes the browser needs.

An event only marks what it concerns (a task's row, a finished run); the
panel asks the feed for a ``diff`` at most a few times a second. A diff holds
only the rows that changed, and of each only the fields that changed, plus
the runs that started or ended since the last one; the browser applies it to
what it already shows, so a row is updated in place and a hundred busy tasks
cost a few small messages a second. A ``snapshot`` is everything, for a view
that has just opened (a new output, a reloaded page).

Events are read by their fields (``record``, ``task``), not by their class,
so the feed follows the scheduler's events as they grow.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .rows import TaskStats, row_view
from .words import error_line, summary

if TYPE_CHECKING:
    from .._engine.scheduler import Scheduler
    from .._history.records import RunRecord

__all__ = ["Feed"]

ROWS_PER_DIFF = 25  # rows per diff, at most: a diff is made and sent in one turn of the loop
RUNS_PER_DIFF = 60  # started and ended runs per diff, at most (the newest: a burst is no film)
SEED_RUNS = 500  # runs read from the history when a panel opens (strips, timeline)
TIMELINE_SPAN = 3600.0  # seconds of runs a new view receives for its timeline
_FAILED = ("fail", "crash")


class Feed:
    """What has changed since the browser was last told, and what it was told."""

    def __init__(self, app: Scheduler) -> None:
        self._app = app
        self.stats: dict[str, TaskStats] = {}
        self.sent: dict[str, dict[str, Any]] = {}  # the row each task last had, as sent
        self.order: list[str] = []
        self.stale: set[str] = set(app.tasks)
        # The rows of the present round of diffs, not yet sent: a round takes
        # the rows stale when it begins; rows made stale meanwhile wait for
        # the next round, so a busy scheduler's rounds end (and the panel
        # keeps to its rhythm) however fast its rows change.
        self.round: list[str] = []
        self.everything: bool = True
        self.finished: dict[int, RunRecord] = {}
        self.started: dict[int, RunRecord] = {}
        self.failures: int = 0
        self.notice: dict[str, Any] = {}
        self.dismissed: bool = False
        self._seed()

    def _seed(self) -> None:
        for name, counts in self._app.run_counts().items():
            stats = self._stats(name)
            stats.counts = {s: n for s, n in counts.items() if s != "run" and n}
            self.failures += sum(stats.counts.get(s, 0) for s in _FAILED)
        for record in self._app.runs(limit=SEED_RUNS):
            if record.status != "run":
                self._stats(record.task).seen(record)
        # Once per task, what the newest runs did not say: its live run, its
        # last outcome from longer ago.
        for name, task in self._app.tasks.items():
            stats = self._stats(name)
            if stats.last is None or task.is_alive():
                last = task.last_run
                if last is None:
                    continue
                if last.status == "run":
                    stats.started(last)
                elif stats.last is None:
                    stats.seen(last)

    def _stats(self, name: str) -> TaskStats:
        stats = self.stats.get(name)
        if stats is None:
            stats = self.stats[name] = TaskStats()
        return stats

    # ------------------------------------------------------------ intake

    def on_event(self, event: object) -> None:
        record: RunRecord | None = getattr(event, "record", None)
        if record is not None:
            name = record.task
            if record.status != "run":
                self._finished(record)
            else:
                self._stats(name).started(record)
                self.started[record.run_id] = record
                if len(self.started) > 2 * RUNS_PER_DIFF:
                    del self.started[next(iter(self.started))]
        else:
            task = getattr(event, "task", None)
            if not isinstance(task, str):  # the scheduler's state: every row may change
                self.everything = True
                return
            name = task
            if not hasattr(event, "run_id"):  # defined, disabled, enabled, ...
                self._stats(name).static = None
        self.stale.add(name)

    def _finished(self, record: RunRecord) -> None:
        self._stats(record.task).add(record)
        self.started.pop(record.run_id, None)
        self.finished[record.run_id] = record
        if len(self.finished) > 2 * RUNS_PER_DIFF:
            del self.finished[next(iter(self.finished))]
        if record.status in _FAILED:
            self.failures += 1
            self.notice = {
                "count": self.notice.get("count", 0) + 1,
                "since": "dismissed" if self.dismissed else "opened",
                "task": record.task,
                "run_id": record.run_id,
                "status": record.status,
                "line": error_line(record.error),
                "at": record.end.timestamp() if record.end else None,
            }

    def dismiss(self) -> None:
        self.notice = {}
        self.dismissed = True

    # ------------------------------------------------------------ output

    @property
    def pending(self) -> bool:
        return bool(self.everything or self.stale or self.round or self.finished or self.started)

    def diff(self) -> dict[str, Any]:
        """The changes since the last diff: ``rows`` ({name: changed fields,
        or the whole row if new, or ``None`` if gone}), ``order`` (the task
        names, when they changed) and ``runs`` (summaries of runs that
        started or ended). Empty values when nothing changed."""
        tasks = self._app.tasks
        if self.everything:
            self.everything = False
            self.stale.update(tasks)
        rows: dict[str, Any] = {}
        order = list(tasks)
        reordered = order != self.order
        if reordered:
            self.order = order
            for name in [name for name in self.sent if name not in tasks]:
                del self.sent[name]
                rows[name] = None
        self._rows(tasks, rows)
        # Runs that started, then those that ended, since the last diff (the
        # newest, when a burst brought more than a view needs to see).
        runs = [summary(record) for record in list(self.started.values())[-RUNS_PER_DIFF:]]
        runs += [summary(record) for record in list(self.finished.values())[-RUNS_PER_DIFF:]]
        self.started.clear()
        self.finished.clear()
        return {"rows": rows, "order": order if reordered else None, "runs": runs}

    def _rows(self, tasks: Any, rows: dict[str, Any]) -> None:
        """Bring up to ``ROWS_PER_DIFF`` rows of the round up to date (a new
        round, of the stale rows, if none is under way)."""
        state = self._app.state
        if not self.round:
            self.round, self.stale = list(self.stale), set()
        take, self.round = self.round[:ROWS_PER_DIFF], self.round[ROWS_PER_DIFF:]
        for name in take:
            task = tasks.get(name)
            if task is None:
                if self.sent.pop(name, None) is not None:
                    rows[name] = None
                continue
            view = row_view(task, state, self._stats(name))
            old = self.sent.get(name)
            if old is None:
                rows[name] = view
            else:
                changed = {key: value for key, value in view.items() if old.get(key) != value}
                if changed:
                    rows[name] = changed
            self.sent[name] = view

    def snapshot(self, recent: Iterable[RunRecord]) -> dict[str, Any]:
        """Everything a new view needs: every row as last sent, in order,
        and the runs of the last ``TIMELINE_SPAN`` seconds."""
        rows = [self.sent[name] for name in self.order if name in self.sent]
        horizon = time.time() - TIMELINE_SPAN
        runs = [
            summary(record)
            for record in recent
            if record.end is None or record.end.timestamp() >= horizon
        ]
        return {"rows": rows, "order": self.order, "runs": runs}
