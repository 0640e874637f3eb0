"""The scheduler's core: its state, its parts, and the small interfaces they
talk through — ``Steering`` (the loop) and ``Hosted`` (the host); what a
``Task`` handle asks is answered by ``task_desk.TaskDesk``. The public
``Scheduler`` is a thin face over it.

Threads: the loop's thread owns the state. Calls from other threads (a widget
callback, a script's main thread while the loop runs on a thread of its own)
take ``lock`` and hand work to the loop with ``Host.post``.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Coroutine
from datetime import tzinfo
from typing import Any, Literal

from .._conditions.base import Condition
from .._conditions.phrases import Phrases
from .._history.history import History, IdsExhausted, flush_all
from . import in_process, loop_end, present
from .agenda import Agenda
from .arguments import Resolver
from .catchup import CatchUp
from .clock import Clock
from .condition_errors import ConditionErrors
from .config import SessionConfig
from .context import EngineContext
from .definition import TaskDefinition
from .events import (
    ConditionFailed,
    EventBus,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
)
from .force_after import ForceAfter
from .hosting import Host
from .id_waits import IdWaits
from .ledger import Ended, Ledger
from .lifecycle import Lifecycle
from .loop import SchedulingLoop
from .pools import Pools
from .queueing import Queueing
from .retries import Retries
from .run import Run
from .share import LoopShare
from .starting import Starter
from .task import Task
from .task_desk import TaskDesk
from .timers import Watchdog

__all__ = ["Core", "State"]


State = Literal["stopped", "running", "shutting_down"]

IDS_RETRY = 0.1  # seconds before a run that found no run id at hand is tried again


class Core:
    def __init__(self, config: SessionConfig, clock: Clock, tz: tzinfo | None) -> None:
        self.config = config
        self.clock = clock
        self.tz = tz
        if config.runs_db is not None:
            flush_all(config.runs_db)  # another scheduler's records of this file come first
        self.history = History(config.runs_db)
        self._lock = threading.RLock()
        self.tasks: dict[str, Task] = {}
        self._state: State = "stopped"
        self._forced = False
        self.fatal: Exception | None = None  # what stopped the last session, if it failed
        self.started_at = clock.time()
        self._gen = 0
        self.agenda = Agenda()
        self.share = LoopShare()  # the loop's time it takes: a quarter when saturated
        self.watchdog = Watchdog(clock)
        self.host = Host(self)
        self.bus = EventBus(self.host.on_loop, self.host.post, clock)
        self.ledger = Ledger(
            self.history,
            self.agenda,
            self.watchdog,
            self._lock,
            self.bus,
            self.host.post,
            self._runs_ended,
            self.share,
            self.host.post_later,
        )
        self.errors = ConditionErrors(self._condition_failed)
        self.pools = Pools(config.pools)
        self.retries = Retries(clock, self.watchdog, self._retry_due, self.tasks, self.bus)
        self.catchup = CatchUp()
        self.queueing = Queueing(
            self, self.host, self.pools, self.retries, self.tasks, self.agenda, self.ledger,
            clock, self.watchdog,
        )  # fmt: skip
        self.deadline = ForceAfter(self.watchdog, self)
        self._prioritized: set[str] = set()  # tasks whose priority is not 0
        self._any_retries = False  # a task was defined with retries: ends are looked at
        self.loop = SchedulingLoop(
            self, self.tasks, self.agenda, self.ledger, clock, config, self.errors, self.share
        )
        self.id_waits = IdWaits()  # runs that found no run id at hand
        self.history.on_ids = self._ids_arrived
        self.face: Any = None  # the public Scheduler: kept alive with the core while it runs
        self.phrases = Phrases()  # @app.cond("is ready"): what strings may name
        self.lifecycle = Lifecycle(self, self.tasks, self.ledger.live, self.host.post, clock.time)
        self.arguments = Resolver(
            self.ledger.results, self.tasks, lambda: getattr(self.face, "session", None)
        )
        self.starter = Starter(self.tasks, self.arguments, self.ledger, clock, config)
        self.desk = TaskDesk(self)  # what app.tasks[name] asks
        present.register(self)

    # ------------------------------------------------------------ shared

    @property
    def state(self) -> State:
        return self._state

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def prioritized(self) -> bool:
        return bool(self._prioritized)

    def generation(self) -> int:
        return self._gen

    def context(self, now: float, task: str | None) -> EngineContext:
        return EngineContext(
            self.ledger, now, task, self.tz, self.started_at, self.config.cycle_sleep,
            self.loop.cycles, self.arguments.params,
        )  # fmt: skip

    def wake(self) -> None:
        self.host.post(self.loop.wake)

    # ------------------------------------------------------------ Hosted

    def claim(self) -> None:
        in_process.claim(self)  # refused while another runs on this runs_db file

    def begin(self, own_thread: bool) -> int:
        """Enter "running" (under the lock, after ``claim``); returns the new generation."""
        self._gen += 1
        self._state = "running"
        self._forced = self.ledger.forced = False
        self.fatal = None
        self.started_at = self.clock.time()
        self.ledger.session_began = self.clock.monotonic()
        self.errors.reset()
        self.history.watch_file(True)
        self.watchdog.keep()
        if self.config.catch_up and self.config.runs_db is not None:
            conds = [(t.name, t.start_cond) for t in self.tasks.values()]
            self.catchup.begin(conds, self.ledger.starts, self.started_at)
        self.agenda.mark(self.tasks)
        assert self.host.loop is not None
        self.lifecycle.begin(self.host.loop)
        bus = self.bus
        if bus.active:
            bus.emit(SchedulerStarted(time=bus.now()))
        return self._gen

    def serve_loop(self, gen: int) -> Coroutine[Any, Any, None]:
        return self.loop.serve(gen)

    def exit_grace(self) -> float:
        return self.config.terminate_grace * 2 + 2

    def flush(self, timeout: float) -> None:
        self.history.flush(timeout)

    def loop_ended(self, gen: int, closed: bool) -> bool:
        return loop_end.loop_ended(self, gen, closed)

    # ------------------------------------------------------------ Steering

    def launch(self, tasks: list[Task], now: float) -> list[Run]:
        """Make the runs of ``tasks`` (under the lock); ``start_run`` then
        starts each. A task whose run is already alive is left out."""
        live, waiting = self.ledger.live, self.pools.waiting
        fresh = [t for t in tasks if t.name not in live or t._definition.multilaunch]
        if waiting:  # a run that waits is the task's one (a multilaunch task's are many)
            fresh = [t for t in fresh if t.name not in waiting or t._definition.multilaunch]
        if self.lifecycle.phase == "startup":
            fresh = self.lifecycle.admit(fresh)
        if not fresh:
            return []
        retries = self.retries
        attempts = [retries.attempt_of(t.name) for t in fresh] if retries.pending else None
        if self.pools.configured:
            fresh, attempts = self.queueing.admit(fresh, attempts, now)
        return self.make_runs(fresh, attempts, now)

    def make_runs(self, fresh: list[Task], attempts: list[int] | None, now: float) -> list[Run]:
        """Make the runs of ``fresh`` tasks, of these ``attempts`` (under the lock)."""
        definitions = [t._definition for t in fresh]
        timeouts = [self.timeout_of(d) for d in definitions]
        grace = self.config.terminate_grace
        try:
            runs = self.ledger.launch(definitions, timeouts, now, grace, attempts)
        except IdsExhausted as exc:
            self.history.short_of_ids(exc)  # ids follow within milliseconds, or the file is stuck
            runs = []
        for task in fresh[len(runs) :]:
            self.id_waits.short.add(task.name)  # no run id at hand yet: see _ids_arrived
            self.agenda.check_at(task.name, now + IDS_RETRY)
        if len(runs) < len(fresh):
            self.queueing.not_started(definitions[len(runs) :])
        if self.retries.pending:
            for run in runs:
                self.retries.started(run.task)
        return runs

    def _ids_arrived(self) -> None:
        def look_again() -> None:
            runs: list[Run] = []
            with self._lock:
                names, asked = self.id_waits.take()
                self.agenda.mark(names)
                if self.pools.waiting:
                    self.queueing.fill_soon()
                if asked and self._state == "running":
                    now = self.clock.time()
                    asked = [
                        task
                        for task in asked
                        if self.tasks.get(task.name) is task
                        and not task.disabled
                        and not self.holds_end_cond(task, now)
                    ]
                    runs = self.launch(asked, now)
                    for task in asked:  # still none at hand: they wait for the next ids
                        self.id_waits.keep(task)
            loop = self.host.loop
            if loop is not None:
                for run in runs:
                    self.start_run(run, loop)
            self.loop.wake()

        self.host.post(look_again)

    def start_run(self, run: Run, loop: asyncio.AbstractEventLoop) -> None:
        self.starter.start(run, loop)

    def failed(self, exc: Exception) -> None:
        with self._lock:
            self.fatal = exc
            if self._state != "stopped":
                self.begin_shutdown(True)

    # ------------------------------------------------------------ shutdown

    def shut_down(self, force: bool = False, force_after: float | None = None) -> None:
        with self._lock:
            if self._state == "stopped":
                return
            if self._state == "shutting_down" and self.lifecycle.cut_short():
                return  # a second call, during the shutdown tasks: they end now
            force = force or self.config.instant_shutdown or self._state == "shutting_down"
            force = force or force_after == 0
            if force_after is not None and not force:
                self.deadline.set(self.clock.monotonic() + force_after, self._gen)
            if self._state == "shutting_down" and (self._forced or not force):
                return
            self.begin_shutdown(force)

    def begin_shutdown(self, force: bool) -> None:
        """Enter "shutting_down" (under the lock)."""
        bus = self.bus
        if self._state != "shutting_down":
            self._state = "shutting_down"
            if bus.active:
                bus.emit(SchedulerStopping(force, time=bus.now()))
        elif force and not self._forced and bus.active:
            bus.emit(SchedulerStopping(True, time=bus.now()))
        # No new run starts: a pending retry is dropped, a waiting run leaves
        # its queue with a record, and so does a catching up.
        self.retries.clear()
        self.catchup.clear()
        self.id_waits.clear()
        self.queueing.drain("shutdown", self.clock.time())
        if force and not self._forced:
            self._forced = self.ledger.forced = True
            for run in self.ledger.all_live():
                run.terminate("shutdown", abandon=True)
        if not self.ledger.live:
            self.phase_over()
        else:
            self.wake()

    def _runs_ended(self, finished: list[Ended]) -> None:
        self.lifecycle.ended()
        if self._any_retries and self._state == "running":
            self.retries.after_ends(finished)
        if self.pools.configured:
            self.queueing.ended(finished)
        if self._state == "shutting_down" and not self.ledger.live:
            self.phase_over()
        else:
            self.wake()

    def _retry_due(self, name: str) -> None:
        def look() -> None:
            with self._lock:
                self.agenda.mark([name])
            self.loop.wake()

        self.host.post(look)

    def phase_over(self) -> None:
        """The live runs ended during a shutdown (under the lock): its shutdown
        tasks run, then the scheduler stops."""
        if not self.lifecycle.closing():
            self._finish_stop()

    def release(self, held: set[str], asked: list[Task]) -> list[Run]:
        """Startup is over (under the lock): what came due is looked at, and
        the runs asked for meanwhile are launched (the caller starts them)."""
        self.agenda.mark(held)
        self.wake()
        return self.launch(asked, self.clock.time()) if self._state == "running" else []

    def _finish_stop(self) -> None:
        """Enter "stopped" (under the lock) and release every waiter."""
        self._state = "stopped"
        self.deadline.cancel()
        in_process.release(self)
        _let_go_of_kept_children()
        self.history.watch_file(False)
        self.watchdog.let_go()
        self.host.release()
        bus = self.bus
        if bus.active:
            bus.emit(SchedulerStopped(time=bus.now()))
        self.wake()

    # ------------------------------------------------------------ tasks

    def holds_end_cond(self, task: Task, now: float) -> bool:
        end = task._definition.end_cond
        return end is not None and self.holds(end, now, task.name, "end_cond")

    def _condition_failed(self, task: str | None, error: str) -> None:
        bus = self.bus
        if bus.active:
            bus.emit(ConditionFailed(task, error, time=bus.now()))

    def holds(self, cond: Condition, now: float, task: str | None, which: str) -> bool:
        return self.errors.check(cond, self.context(now, task), which)

    def timeout_of(self, definition: TaskDefinition) -> float | None:
        return definition.effective_timeout(self.config)

    def define(self, definition: TaskDefinition, disabled: bool) -> Task:
        with self._lock:
            name = definition.name
            task = self.tasks.get(name)
            if task is None:
                task = self.tasks[name] = Task(self.desk, definition, disabled)
            else:
                task._definition = definition  # a live run keeps its own definition
                task._disabled = disabled
                self.errors.forget(name)
            self._any_retries = self._any_retries or definition.retry.retries > 0
            if definition.priority:
                self._prioritized.add(name)
            else:
                self._prioritized.discard(name)
            refs: frozenset[str] = frozenset()
            for cond in (definition.start_cond, definition.end_cond):
                if cond is not None:
                    refs |= cond.task_refs()
            self.agenda.watch(name, refs)
            self.desk.task_changed(task, "defined")
            return task


def _let_go_of_kept_children() -> None:
    """A scheduler stopped: the process children kept for the next runs end
    now, not when they have been idle a while. Only if a process run may
    have started here (its module is loaded): never an import on the loop."""
    zygote = sys.modules.get("notebook_sched._execution.process.zygote")
    if zygote is not None:
        zygote.let_go_of_free()
