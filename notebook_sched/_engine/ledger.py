"""The ledger: the runs of a scheduler — the live ones, and what the
conditions and the panel need to know of the ended ones.

Runs start here (``launch``) and end here (``report``, from any thread). A
start makes the run's record at once (its id comes from the history's
reserved block) and hands it to the history's writer; ends are recorded in
batches on the loop, for a slice's time at most, the rest after the
scheduler's pause (``share.py``: a thousand runs ending at once are
recorded over a few turns, the kernel answering in between). Nothing here
waits for the file: the state
conditions read (last start, last end per outcome, live runs) and the panel
reads (last record, counts) is kept in memory, seeded from the file once,
when the scheduler is constructed; every start and end, which status
conditions count, is loaded on a thread (``occurrences.py``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .._execution.base import Outcome
from .._history.history import History
from .._history.records import Reason, RunRecord, new_record
from .agenda import Agenda
from .clock import to_datetime
from .events import EventBus, RunFinished, RunStarted, RunTerminating
from .occurrences import FINAL, Occurrences
from .run import Run
from .share import LoopShare
from .timers import Watchdog

if TYPE_CHECKING:
    from .task import TaskDefinition

__all__ = ["FINAL", "Ended", "Ledger"]

Ended = tuple[Run, RunRecord, float]  # a run, its final record, its end (epoch seconds)

ENDS_PER_BATCH = 64  # ends recorded under the lock at a time (threads reporting wait no longer)


class Ledger:
    def __init__(
        self,
        history: History,
        agenda: Agenda,
        watchdog: Watchdog,
        lock: threading.RLock,
        bus: EventBus,
        post: Callable[[Callable[[], None]], None],
        ended: Callable[[list[Ended]], None],
        share: LoopShare,
        post_later: Callable[[float, Callable[[], None]], bool],
    ) -> None:
        self.history = history
        self._agenda = agenda
        self._watchdog = watchdog
        self._lock = lock
        self._bus = bus
        self._post = post  # run a callback on the scheduler's loop, soon
        self._post_later = post_later  # ... after a delay; False where no loop serves
        self._share = share
        self._ended = ended  # runs ended: the scheduler looks at its state, retries, pools
        self.live: dict[str, Run] = {}  # each task's newest live run
        # The older live runs of multilaunch tasks, oldest first (a task is
        # here only while it is in ``live`` too).
        self._overlapping: dict[str, list[Run]] = {}
        self.starts, self.finishes = history.store.last_times()
        # The same moments on the monotonic clock, for the runs of this process
        # (``every`` measures its interval on it: ``elapsed``).
        self._mono_starts: dict[str, float] = {}
        self._mono_finishes: dict[tuple[str, str], float] = {}
        self.session_began: float | None = None  # the scheduler's last start, monotonic
        self.last_records = history.store.last_per_task()
        self.counts = history.store.counts()
        # every start and end, for status conditions and retry(n)
        store, before = history.store, history.first_own_id
        self.occurrences = Occurrences(
            None if history.path is None else lambda: store.events(before),
            [name for name, record in self.last_records.items() if record.status == "fail"],
        )
        # The latest successful return value of each task (Task.result, Return):
        # of this process's runs only, as (run id, value).
        self.results: dict[str, tuple[int, object]] = {}
        # A forced shutdown is under way: a run that ends "terminate" without a
        # reason of its own was ended by it (an async run that the end of the
        # loop under the scheduler cancelled, say: ``loop_end.py``).
        self.forced = False
        self._reported: deque[tuple[Run, Outcome]] = deque()
        self._record_pending = False
        self._held = 0

    # ------------------------------------------------------------ reads

    def last_finish(self, task: str, how: str) -> float | None:
        finishes = self.finishes
        if how == "finish":
            return max(
                (t for s in FINAL if (t := finishes.get((task, s))) is not None), default=None
            )
        return finishes.get((task, how))

    def elapsed(self, task: str, how: str | None, now: float) -> float | None:
        """Seconds since ``task`` last started (``how`` ``None``) or finished
        ``how``, at wall time ``now``: on the monotonic clock when that moment
        was a run of this process, so a step of the wall clock neither
        stretches nor shortens it; else (the history's) on the wall clock."""
        if how is None:
            wall, mono = self.starts.get(task), self._mono_starts.get(task)
        elif how == "finish":
            stamps = [
                (self.finishes.get((task, s)), self._mono_finishes.get((task, s))) for s in FINAL
            ]
            known = [(w, m) for w, m in stamps if w is not None]
            wall, mono = max(known, key=lambda pair: pair[0], default=(None, None))
        else:
            wall, mono = self.finishes.get((task, how)), self._mono_finishes.get((task, how))
        if wall is None:
            return None
        return self._watchdog.now() - mono if mono is not None else now - wall

    def mono(self) -> float:
        return self._watchdog.now()

    def with_live_output(self, records: list[RunRecord]) -> list[RunRecord]:
        """``records`` with what their live runs have written so far."""
        alive = {run.run_id: run for run in self.live.values() if run.output is not None}
        if not alive:
            return records
        shown = []
        for record in records:
            run = alive.get(record.run_id) if record.status == "run" else None
            if run is not None and run.output is not None and run.output.changes:
                record = replace(record, output=run.output.text())
            shown.append(record)
        return shown

    def running_since(self, task: str) -> float | None:
        """The start of the task's oldest live run."""
        older = self._overlapping.get(task)
        run = older[0] if older else self.live.get(task)
        return run.start if run is not None else None

    def runs_of(self, task: str) -> list[Run]:
        """The task's live runs, oldest first (more than one: multilaunch)."""
        run = self.live.get(task)
        if run is None:
            return []
        return [*self._overlapping.get(task, ()), run]

    def all_live(self) -> list[Run]:
        return [run for name in list(self.live) for run in self.runs_of(name)]

    def running_starts(self, task: str) -> list[float]:
        """The starts of the task's live runs, oldest first."""
        return [run.start for run in self.runs_of(task)]

    # ------------------------------------------------------------ starts

    def launch(
        self,
        definitions: Sequence[TaskDefinition],
        timeouts: Sequence[float | None],
        now: float,
        grace: float,
        attempts: Sequence[int] | None = None,
    ) -> list[Run]:
        """Make the runs and their records (under the scheduler's lock): of
        the first ``definitions``, as many as the history has run ids for;
        ``attempts`` are their attempt numbers (default: all 1)."""
        start = to_datetime(now)
        assert start is not None
        records = self.history.start_records([(d.name, start) for d in definitions], attempts)
        definitions, timeouts = definitions[: len(records)], timeouts[: len(records)]
        runs = []
        live, starts, last, counts = self.live, self.starts, self.last_records, self.counts
        mono = self._watchdog.now()
        occurrences = self.occurrences
        bus = self._bus if self._bus.active else None
        watchdog, report, on_terminating = self._watchdog, self.report, self._on_terminating
        for definition, timeout, record in zip(definitions, timeouts, records, strict=True):
            run = Run(definition, record, now, timeout, watchdog, grace, report, on_terminating)
            name = definition.name
            newest = live.get(name)
            if newest is not None:  # a multilaunch task's runs overlap
                self._overlapping.setdefault(name, []).append(newest)
            live[name] = run
            starts[name] = now
            occurrences.started(name, now)
            self._mono_starts[name] = mono
            last[name] = record
            tally = counts.setdefault(name, {})
            tally["run"] = tally.get("run", 0) + 1
            # Its end condition is watched from now on, and so are tasks watching it.
            # (Watched already if an earlier run of it is alive.)
            watch = definition.end_cond is not None and newest is None
            self._agenda.mark_with_watchers(name, itself=watch)
            if bus is not None:
                deadline = to_datetime(run.deadline)
                bus.emit(RunStarted(name, record.run_id, record, deadline, time=record.start))
            runs.append(run)
        return runs

    def _forget(self, name: str, run: Run) -> None:
        """``run`` is no longer alive (under the lock)."""
        older = self._overlapping.get(name)
        if not older:
            if self.live.get(name) is run:
                del self.live[name]
            return
        if self.live.get(name) is run:
            self.live[name] = older.pop()
        elif run in older:
            older.remove(run)
        if not older:
            del self._overlapping[name]

    def _on_terminating(self, run: Run, reason: Reason) -> None:
        bus = self._bus
        if bus.active:
            bus.emit(RunTerminating(run.task, run.run_id, reason, time=bus.now()))

    # ------------------------------------------------------------ ends

    def report(self, run: Run, outcome: Outcome) -> None:
        """A run ended (from any thread); it is recorded on the loop, with
        every other run that ended in the same turn."""
        if not run.mark_finished():
            return  # already final (abandoned at a forced shutdown)
        with self._lock:
            self._reported.append((run, outcome))
            if self._record_pending or self._held:
                return
            self._record_pending = True
        self._post(self.record_reported)

    def hold(self) -> None:
        """Record no end until ``release()``: the loop is starting runs, which
        comes first (the ends are kept, and recorded right after)."""
        with self._lock:
            self._held += 1

    def release(self) -> None:
        with self._lock:
            self._held -= 1
            if self._held or self._record_pending or not self._reported:
                return
            self._record_pending = True
        self._post(self.record_reported)

    def record_reported(self) -> None:
        """Record the ends reported so far, in order: for one slice's time,
        the rest after the scheduler's pause (all now where no loop serves)."""
        share = self._share
        pause = share.pause()
        if pause > 0 and self._post_later(pause, self.record_reported):
            return  # the scheduler has had its share: the loop is someone else's for now
        began = share.now()
        reported = self._reported
        while True:
            with self._lock:
                batch = [reported.popleft() for _ in range(min(len(reported), ENDS_PER_BATCH))]
                if batch:
                    self._finalize(batch)
                if not reported:
                    self._record_pending = False
                    break
            if share.over(began):
                share.spent(began)
                if self._post_later(share.pause(), self.record_reported):
                    return
                began = share.now()
        share.spent(began)

    def _finalize(self, ended: list[tuple[Run, Outcome]]) -> None:
        """Give ``ended`` runs their final records (under the lock)."""
        records = []
        finished: list[Ended] = []
        finishes, last, counts = self.finishes, self.last_records, self.counts
        results = self.results
        watchdog = self._watchdog
        mono_now, wall_now = watchdog.now(), watchdog.wall()
        for run, outcome in ended:
            reason = run.reason
            if reason is None and self.forced and outcome.status == "terminate":
                reason = "shutdown"
            # Whatever it did after termination was requested, it was terminated.
            status = "terminate" if reason is not None else outcome.status
            output = run.output.close() if run.output is not None else ""
            record = new_record(
                run.task, run.run_id, status, reason, run.record.start,
                to_datetime(outcome.end), outcome.error, outcome.result, output,
                run.record.attempt,
            )  # fmt: skip
            records.append(record)
            finished.append((run, record, outcome.end))
            name = run.task
            self._forget(name, run)
            finishes[(name, status)] = outcome.end
            self._mono_finishes[(name, status)] = mono_now - max(0.0, wall_now - outcome.end)
            self.occurrences.ended(name, status, outcome.end)
            if status == "success":
                kept = results.get(name)
                if kept is None or kept[0] < run.run_id:
                    results[name] = (run.run_id, outcome.value)
            if name not in last or last[name].run_id <= run.run_id:
                last[name] = record
            tally = counts.setdefault(name, {})
            alive = tally.get("run", 0) - 1
            if alive > 0:
                tally["run"] = alive
            else:
                tally.pop("run", None)
            tally[status] = tally.get(status, 0) + 1
            self._agenda.mark_with_watchers(name)
        self.history.finish_records(records)
        if self._bus.active:
            for record in records:
                end = record.end
                assert end is not None
                self._bus.emit(RunFinished(record, time=end))
        self._ended(finished)

    def record_unstarted(self, left: Sequence[tuple[str, int, Reason, str]], now: float) -> int:
        """Final records (status ``"terminate"``) of runs that never started —
        ``(task, attempt, reason, error)`` of waiting runs that left their
        queue — under the scheduler's lock. Returns how many were recorded
        (as many as the history has run ids for; the rest are the caller's)."""
        at = to_datetime(now)
        assert at is not None
        records = self.history.start_records(
            [(name, at) for name, *_ in left], [attempt for _, attempt, *_ in left]
        )
        finals = [
            new_record(r.task, r.run_id, "terminate", reason, at, at, error, attempt=r.attempt)
            for r, (_, _, reason, error) in zip(records, left, strict=False)
        ]
        finishes, last, counts = self.finishes, self.last_records, self.counts
        for record in finals:
            name = record.task
            finishes[(name, "terminate")] = now
            self.occurrences.ended(name, "terminate", now)
            last[name] = record
            tally = counts.setdefault(name, {})
            tally["terminate"] = tally.get("terminate", 0) + 1
            self._agenda.mark_with_watchers(name)
        self.history.finish_records(finals)
        if self._bus.active:
            for record in finals:
                self._bus.emit(RunFinished(record, time=at))
        return len(finals)
