"""The public ``Task`` handle, and the interface it has to its scheduler."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from .._conditions.base import Condition
from .arguments import NO_RESULT
from .clock import to_datetime
from .definition import TaskDefinition

if TYPE_CHECKING:
    from .._history.records import Reason, RunRecord

__all__ = ["LiveRun", "RetryAt", "Task", "TaskChange", "TaskHost", "TaskStatus"]

TaskStatus = Literal["idle", "waiting", "running", "terminating", "disabled"]
TaskChange = Literal["defined", "disabled", "enabled"]


class RetryAt(NamedTuple):
    """A pending retry, as ``Task.next_retry`` gives it."""

    attempt: int
    at: datetime


class LiveRun(Protocol):
    """What a task handle reads of its live run."""

    @property
    def reason(self) -> Reason | None: ...
    @property
    def deadline(self) -> float | None: ...
    @property
    def progress(self) -> tuple[float, str] | None: ...


class Queues(Protocol):
    """What a task handle reads of the pools (``pools.Pools``)."""

    @property
    def waiting(self) -> Mapping[str, object]: ...
    def place(self, task: str) -> int | None: ...


class Pending(Protocol):
    @property
    def attempt(self) -> int: ...
    @property
    def at(self) -> float: ...


class Retrying(Protocol):
    """What a task handle reads of the retries (``retries.Retries``)."""

    @property
    def pending(self) -> Mapping[str, Pending]: ...


class Missed(Protocol):
    """What a task handle reads of the catching up (``catchup.CatchUp``)."""

    @property
    def missed(self) -> Mapping[str, int]: ...


class TaskHost(Protocol):
    """What a ``Task`` asks of its scheduler: the whole interface between them."""

    @property
    def pools(self) -> Queues: ...
    @property
    def retries(self) -> Retrying: ...
    @property
    def catchup(self) -> Missed: ...

    def live_run(self, name: str) -> LiveRun | None: ...
    def waits_for_id(self, name: str) -> bool: ...
    def timeout_of(self, definition: TaskDefinition) -> float | None: ...
    def next_start(self, task: Task) -> float | None: ...
    def end_cond_state(self, task: Task) -> bool | None: ...
    def condition_error(self, name: str) -> str | None: ...
    def last_record(self, name: str) -> RunRecord | None: ...
    def result_of(self, name: str) -> object: ...
    def run_now(self, task: Task) -> bool: ...
    def terminate_task(self, name: str, reason: Reason) -> bool: ...
    def task_changed(self, task: Task, change: TaskChange) -> None: ...


class Task:
    """A task of a scheduler, as ``app.tasks[name]`` gives it.

    The object stays the same when the task is redefined, so a reference held
    in a cell (or a panel row) follows the newest definition.
    """

    def __init__(self, host: TaskHost, definition: TaskDefinition, disabled: bool) -> None:
        self._host = host
        self._definition = definition
        self._disabled = disabled

    @property
    def name(self) -> str:
        """The task's name (by default its function's ``__name__``)."""
        return self._definition.name

    @property
    def func(self) -> Callable[..., Any]:
        """The function a run calls."""
        return self._definition.func

    @property
    def execution(self) -> str:
        """How a run runs: ``"async" | "thread" | "process" | "main" | "ray"``."""
        return self._definition.execution

    @property
    def resources(self) -> dict[str, float | int]:
        """What Ray reserves for a run (``num_cpus``, ``num_gpus``, ``memory``
        in bytes); empty for other executions or Ray's defaults."""
        return dict(self._definition.resources)

    @property
    def multilaunch(self) -> bool:
        """Whether runs of this task may overlap (``run()`` starts one while
        another is alive)."""
        return self._definition.multilaunch

    @property
    def on_startup(self) -> bool:
        """Whether it runs once each time the scheduler starts, before any other task."""
        return self._definition.on_startup

    @property
    def on_shutdown(self) -> bool:
        """Whether it runs once when the scheduler shuts down, after the live runs."""
        return self._definition.on_shutdown

    @property
    def start_cond(self) -> Condition | None:
        """The start condition, or ``None``: the task runs only when asked."""
        return self._definition.start_cond

    @property
    def end_cond(self) -> Condition | None:
        """The end condition: while it is true, live runs are terminated."""
        return self._definition.end_cond

    @property
    def timeout(self) -> float | None:
        """The timeout a run of this task gets, in seconds (``None``: none)."""
        return self._host.timeout_of(self._definition)

    @property
    def disabled(self) -> bool:
        """Whether ``disable()`` is in force."""
        return self._disabled

    @property
    def retries(self) -> int:
        """How many times a run that fails or crashes is retried."""
        return self._definition.retry.retries

    @property
    def retry_delay(self) -> float:
        """Seconds before the first retry (the n-th waits ``retry_delay *
        retry_backoff ** (n - 1)``)."""
        return self._definition.retry.delay

    @property
    def retry_backoff(self) -> float:
        """The factor each further retry's delay is multiplied by (1: the same delay)."""
        return self._definition.retry.backoff

    @property
    def pool(self) -> str | None:
        """The pool whose slots this task's runs take, or ``None``."""
        return self._definition.pool

    @property
    def priority(self) -> float:
        """Higher starts first when runs come due at once or wait for a slot."""
        return self._definition.priority

    @property
    def status(self) -> TaskStatus:
        """``"idle" | "waiting" | "running" | "terminating" | "disabled"``;
        ``"waiting"`` while a due run waits for a slot of its pool, or for a
        run id that the ``runs_db`` file cannot set aside yet (it takes no
        writes: locked, full)."""
        run = self._host.live_run(self.name)
        if run is not None:
            return "terminating" if run.reason is not None else "running"
        if self.waits_for is not None:
            return "waiting"
        return "disabled" if self._disabled else "idle"

    @property
    def waits_for(self) -> Literal["slot", "run id"] | None:
        """While the status is ``"waiting"``, what the run waits for: ``"slot"``
        (of its pool; ``queue_position`` is its place in line) or ``"run id"``
        (the ``runs_db`` file takes no writes, so none can be set aside; it
        starts when the file takes writes again). Else ``None``."""
        if self.name in self._host.pools.waiting:
            return "slot"
        if self._host.waits_for_id(self.name):
            return "run id"
        return None

    @property
    def queue_position(self) -> int | None:
        """While a run waits for a slot of its pool (status ``"waiting"``):
        its place in the pool's queue, 1 for the next to start; else ``None``."""
        return self._host.pools.place(self.name)

    @property
    def next_retry(self) -> RetryAt | None:
        """The pending retry, ``(attempt, at)`` — its attempt number (2 for
        the first retry) and when it starts, a timezone-aware ``datetime`` —
        or ``None``."""
        retry = self._host.retries.pending.get(self.name)
        if retry is None:
            return None
        at = to_datetime(retry.at)
        assert at is not None
        return RetryAt(retry.attempt, at)

    @property
    def missed_runs(self) -> int:
        """With ``catch_up``: how many times this task's schedule came due
        while no scheduler ran, found when the scheduler last started (it
        then ran once for them all); counted up to 1,000. Else 0."""
        return self._host.catchup.missed.get(self.name, 0)

    def is_alive(self) -> bool:
        """Whether a run of this task is alive."""
        return self._host.live_run(self.name) is not None

    @property
    def deadline(self) -> datetime | None:
        """The live run's deadline, or ``None``."""
        run = self._host.live_run(self.name)
        return to_datetime(run.deadline) if run is not None else None

    @property
    def progress(self) -> tuple[float, str] | None:
        """The live run's latest ``(fraction, message)``, reported through a
        ``Progress()`` parameter; ``None`` when no run is alive or it has
        reported nothing yet."""
        run = self._host.live_run(self.name)
        return run.progress if run is not None else None

    @property
    def last_run(self) -> RunRecord | None:
        """The latest ``RunRecord`` of this task (alive or final), or ``None``."""
        return self._host.last_record(self.name)

    @property
    def result(self) -> Any:
        """The return value itself of the latest successful run of this task
        in this process, or ``None``. A process or Ray run's value comes back
        pickled; it is its ``repr()`` string when it cannot be pickled."""
        value = self._host.result_of(self.name)
        return None if value is NO_RESULT else value

    @property
    def next_start(self) -> datetime | None:
        """When the start condition may next let a run start: now if it is
        true, ``None`` when only an event can (or the task runs only when asked)."""
        when = self._host.next_start(self)
        return to_datetime(when)

    @property
    def end_cond_true(self) -> bool | None:
        """The end condition's present state (``None``: the task has none)."""
        return self._host.end_cond_state(self)

    @property
    def condition_error(self) -> str | None:
        """What this task's start or end condition raised when the scheduler
        last evaluated it, or ``None`` when it evaluates cleanly: a first line
        naming the condition and the error (``"start_cond raised KeyError:
        'path'"``), a blank line, then the traceback. A condition that raises
        counts as false; the error is logged once."""
        return self._host.condition_error(self.name)

    def run(self) -> bool:
        """Start one run now (attempt 1: a pending retry is dropped). ``True``
        if a run started — or was queued: for a task of a full pool (status
        ``"waiting"``: it starts when a slot frees), or while the ``runs_db``
        file holds back run ids (locked, full: it starts when they come);
        ``False`` when one is already alive or waiting, the scheduler is
        shutting down, the task is disabled or its end condition is true.
        Raises ``RuntimeError`` when stopped."""
        return self._host.run_now(self)

    def terminate(self) -> bool:
        """Terminate the live run (reason ``"manual"``), or take a waiting run
        out of its pool's queue (with a record: status ``"terminate"``) or
        drop one that waits for a run id (it has no record yet); ``False`` if
        there is none."""
        return self._host.terminate_task(self.name, "manual")

    def disable(self) -> None:
        """No new run starts until ``enable()``; a live run goes on, a waiting
        one leaves its queue (reason ``"manual"``)."""
        self._disabled = True
        self._host.task_changed(self, "disabled")

    def enable(self) -> None:
        """Undo ``disable()``: runs start again when the start condition holds."""
        self._disabled = False
        self._host.task_changed(self, "enabled")

    def __repr__(self) -> str:
        parts = [f"{self.name!r}", self.execution, self.status]
        if self.start_cond is not None:
            parts.append(f"start_cond={self.start_cond}")
        if self.end_cond is not None:
            parts.append(f"end_cond={self.end_cond}")
        return f"<Task {' '.join(parts)}>"
