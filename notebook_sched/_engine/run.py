"""A live run: its record, its executor's handle and its termination."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._execution.base import Outcome
from .._history.records import Reason, RunRecord
from .termination import Termination
from .timers import Watchdog

if TYPE_CHECKING:
    from .._execution.base import RunHandle
    from .._execution.output import OutputBuffer, ProgressSink
    from .task import TaskDefinition

__all__ = ["Run"]

log = logging.getLogger("notebook_sched")

ABANDONED = (
    "abandoned at shutdown: the run did not stop after it was terminated "
    "(a thread blocked in a C call cannot be interrupted)"
)


class Run:
    """One alive run. ``report(run, outcome)`` is called once when it ends
    (by its executor, or by the abandon step of a forced shutdown)."""

    __slots__ = (
        "_report",
        "_watchdog",
        "deadline",
        "definition",
        "handle",
        "on_terminating",
        "output",
        "progress_sink",
        "record",
        "start",
        "termination",
    )  # fmt: skip

    def __init__(
        self,
        definition: TaskDefinition,
        record: RunRecord,
        start: float,
        timeout: float | None,
        watchdog: Watchdog,
        grace: float,
        report: Callable[[Run, Outcome], None],
        on_terminating: Callable[[Run, Reason], None],
    ) -> None:
        self.definition = definition
        self.record = record
        self.start = start
        # The wall-clock deadline is what a person is shown (fixed at the
        # start: a countdown must not jitter); the termination's own deadline
        # is on the monotonic clock.
        self.deadline = start + timeout if timeout is not None else None
        self.handle: RunHandle | None = None
        self.output: OutputBuffer | None = None  # what it writes, when captured
        self.progress_sink: ProgressSink | None = None  # its Progress() reports
        self._watchdog = watchdog
        self._report = report
        self.on_terminating = on_terminating
        mono_deadline = watchdog.now() + timeout if timeout is not None else None
        self.termination = Termination(self, watchdog, grace, mono_deadline)

    @property
    def task(self) -> str:
        return self.definition.name

    @property
    def run_id(self) -> int:
        return self.record.run_id

    @property
    def reason(self) -> Reason | None:
        return self.termination.reason

    @property
    def progress(self) -> tuple[float, str] | None:
        """Its latest ``(fraction, message)`` report, if it made one."""
        sink = self.progress_sink
        return sink.latest if sink is not None else None

    @property
    def finished(self) -> bool:
        return self.termination.ended

    def attach(self, handle: RunHandle) -> None:
        """Give the run its executor's handle; a termination requested before
        this moment is carried out now.

        No lock: the handle is set before the reason is read here, and the
        reason is set before the handle is read in ``polite`` — whichever
        comes second sees the other, so the polite step happens at least once
        (a handle's ``stop`` may be called twice)."""
        self.handle = handle
        if self.termination.reason is not None and not self.termination.ended:
            handle.stop()

    def terminate(self, reason: Reason, *, abandon: bool = False) -> bool:
        """Request termination (thread-safe); see ``Termination.request``."""
        return self.termination.request(reason, abandon=abandon)

    def mark_finished(self) -> bool:
        """Note the end of the run; ``False`` if it was already final. Its
        handle is let go: the handle's job reports to this run (a cycle the
        garbage collector would have to find; see ``Termination.end``)."""
        if not self.termination.end():
            return False
        self.handle = None
        return True

    # The steps of the termination (``termination.Steps``)

    def polite(self) -> None:
        handle = self.handle
        if handle is not None:
            handle.stop()

    def force(self) -> None:
        handle = self.handle
        if handle is not None:
            handle.force()

    def requested(self, reason: Reason) -> None:
        self.on_terminating(self, reason)

    # Its timeout, for an executor that enforces it too (``base.Timeout``)

    @property
    def grace(self) -> float:
        return self.termination.grace

    def real_time_left(self) -> float | None:
        deadline = self.termination.deadline
        return None if deadline is None else self._watchdog.real_wait_until(deadline)

    def reached(self) -> None:
        self.terminate("timeout")

    def abandon(self, waited: float) -> None:
        # A forced shutdown must end: a thread stuck in a C call cannot be
        # stopped, so give up on it with a final record that says so.
        log.warning(
            "notebook_sched: abandoning run %d of task %r: it did not stop "
            "within %.1f s of the forced shutdown",
            self.run_id,
            self.task,
            waited,
        )
        self._report(self, Outcome("terminate", self._watchdog.wall(), error=ABANDONED))
