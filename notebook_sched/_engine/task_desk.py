"""What a ``Task`` handle asks of its scheduler, answered in one place.

``app.tasks[name]`` is a thin handle: its status, deadline, last record, its
``run()`` and ``terminate()`` all come here (``task.TaskHost`` is the whole
interface). The desk reads the scheduler's parts — the ledger of live runs,
the pools' queues, the retries — and steers only through the scheduler's own
``launch`` / ``start_run``, so a run started by hand takes the same path as
one the loop starts. Calls may come from any thread (a widget callback): each
takes the scheduler's lock.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Literal, Protocol

from .._conditions import base as conditions
from .._history.records import Reason, RunRecord
from ..exc import SchedulerNotRunning
from .agenda import Agenda
from .arguments import Resolver
from .catchup import CatchUp
from .clock import Clock
from .condition_errors import ConditionErrors
from .config import SessionConfig
from .context import EngineContext
from .definition import TaskDefinition
from .events import EventBus, TaskDefined, TaskDisabled, TaskEnabled
from .hosting import Host
from .id_waits import IdWaits
from .ledger import Ledger
from .lifecycle import Lifecycle
from .pools import Pools
from .queueing import Queueing
from .retries import Retries

if TYPE_CHECKING:
    from .run import Run
    from .task import Task, TaskChange

__all__ = ["TaskDesk"]

_TASK_EVENTS: dict[TaskChange, type[TaskDefined | TaskDisabled | TaskEnabled]] = {
    "defined": TaskDefined,
    "disabled": TaskDisabled,
    "enabled": TaskEnabled,
}


class Desked(Protocol):
    """The scheduler's parts the desk reads and the steps it takes (``core.Core``)."""

    config: SessionConfig
    clock: Clock
    host: Host
    ledger: Ledger
    pools: Pools
    retries: Retries
    catchup: CatchUp
    queueing: Queueing
    lifecycle: Lifecycle
    arguments: Resolver
    errors: ConditionErrors
    id_waits: IdWaits
    agenda: Agenda
    bus: EventBus

    @property
    def state(self) -> Literal["stopped", "running", "shutting_down"]: ...
    @property
    def lock(self) -> threading.RLock: ...
    def context(self, now: float, task: str | None) -> EngineContext: ...
    def holds_end_cond(self, task: Task, now: float) -> bool: ...
    def launch(self, tasks: list[Task], now: float) -> list[Run]: ...
    def start_run(self, run: Run, loop: asyncio.AbstractEventLoop) -> None: ...
    def wake(self) -> None: ...


class TaskDesk:
    def __init__(self, core: Desked) -> None:
        self._core = core

    # ------------------------------------------------------------ reading

    @property
    def pools(self) -> Pools:
        return self._core.pools

    @property
    def retries(self) -> Retries:
        return self._core.retries

    @property
    def catchup(self) -> CatchUp:
        return self._core.catchup

    def live_run(self, name: str) -> Run | None:
        return self._core.ledger.live.get(name)

    def waits_for_id(self, name: str) -> bool:
        return self._core.id_waits.waits(name)

    def timeout_of(self, definition: TaskDefinition) -> float | None:
        return definition.effective_timeout(self._core.config)

    def next_start(self, task: Task) -> float | None:
        core = self._core
        start = task.start_cond
        if start is None or task.disabled:
            return None
        if task._definition.multilaunch:
            pass  # runs of it overlap, and so may its waits for a slot
        elif task.name in core.ledger.live or task.name in core.pools.waiting:
            return None
        now = core.clock.time()
        ctx = core.context(now, task.name)
        try:
            return now if start.is_true(ctx) else start.next_change(ctx)
        except conditions.CONDITION_ERRORS:
            return None  # the loop's own evaluation reports it

    def end_cond_state(self, task: Task) -> bool | None:
        if task.end_cond is None:
            return None
        return self._core.holds_end_cond(task, self._core.clock.time())

    def condition_error(self, name: str) -> str | None:
        return self._core.errors.of_task(name)

    def last_record(self, name: str) -> RunRecord | None:
        ledger = self._core.ledger
        record = ledger.last_records.get(name)
        if record is None or record.status != "run":
            return record
        return ledger.with_live_output([record])[0]

    def result_of(self, name: str) -> object:
        return self._core.arguments.result_of(name)

    # ------------------------------------------------------------ steering

    def run_now(self, task: Task) -> bool:
        core = self._core
        core.host.check_loop()
        with core.lock:
            if core.state == "stopped":
                raise SchedulerNotRunning(
                    f"cannot run task {task.name!r}: the scheduler is stopped (call app.start())"
                )
            name = task.name
            if core.state != "running" or task.disabled:
                return False
            if not task._definition.multilaunch and (
                name in core.ledger.live or name in core.pools.waiting or core.id_waits.waits(name)
            ):
                return False  # one run at a time: it is alive, or waits for a slot or an id
            now = core.clock.time()
            if core.holds_end_cond(task, now):
                return False
            core.retries.started(name)  # by hand: a fresh attempt 1, a pending retry dropped
            # The run and its record exist from this moment, whatever the thread;
            # only starting its function belongs to the loop.
            if core.lifecycle.ask(task):
                return True  # it starts when the startup tasks are done
            runs = core.launch([task], now)
            if not runs:
                # Queued: it starts when a pool's slot frees, or when run ids
                # come (the runs_db file held them back: locked, full).
                return name in core.pools.waiting or core.id_waits.keep(task)
            core.wake()  # its end condition is to be watched from now on
        loop = core.host.loop
        assert loop is not None
        if core.host.on_loop():
            core.start_run(runs[0], loop)
        else:
            loop.call_soon_threadsafe(core.start_run, runs[0], loop)
        return True

    def terminate_task(self, name: str, reason: Reason) -> bool:
        core = self._core
        # Every live run of the task, and every one that waits: with
        # multilaunch, there may be several of each.
        runs = core.ledger.runs_of(name)
        ended = any([run.terminate(reason) for run in runs]) if runs else False
        with core.lock:
            dropped = core.id_waits.drop(name)
            left = core.queueing.leave(name, reason, core.clock.time())
        return ended or left or dropped

    def task_changed(self, task: Task, change: TaskChange) -> None:
        core = self._core
        with core.lock:
            if task.disabled:  # no new run starts: a waiting one leaves its queue
                core.queueing.leave(task.name, "manual", core.clock.time())
            core.agenda.mark([task.name])
            bus = core.bus
            if bus.active:
                bus.emit(_TASK_EVENTS[change](task.name, time=bus.now()))
            core.wake()
