"""The scheduler: tasks, their runs, and the loop that starts and ends them.

The loop does not poll. Each task has one "check at" time — when its start
condition (or, while a run is alive, its end condition) may next change — kept
in a heap; events (a run started or finished, a task defined or enabled) mark
tasks dirty. The loop evaluates what is due or dirty, then sleeps until the
nearest check. Deadlines of runs live on the watchdog thread, not here.

Threads: the loop's thread owns the state. Calls from other threads (a widget
callback, a script's main thread while the loop runs on a thread of its own)
take ``_lock`` and hand work to the loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import types
import warnings
from collections.abc import Callable, Mapping
from datetime import tzinfo
from functools import partial
from typing import Any, Literal, TypeVar

from .._conditions.base import Condition
from .._execution import async_, main, thread
from .._execution.base import Job, Outcome
from .._execution.process import handle as process
from .._execution.ray import handle as ray_
from .._history.records import RunRecord
from .._history.store import RunStore, RunStoreError
from .agenda import Agenda
from .clock import Clock, SystemClock, to_datetime
from .config import build_config
from .context import EngineContext
from .events import Event, RunFinished, RunStarted, RunTerminating, StateChanged, TaskChanged
from .interrupts import interrupts_shut_down
from .run import Run
from .task import Task, define_task
from .timers import Watchdog

__all__ = ["Scheduler", "Session"]

log = logging.getLogger("notebook_sched")

State = Literal["stopped", "running", "shutting_down"]
F = TypeVar("F", bound=Callable[..., Any])

# Running schedulers, held strongly: the loop keeps only weak references to its
# tasks, so a scheduler whose variable a re-run cell rebound must not be
# collected while it runs.
_RUNNING: set[Scheduler] = set()

RECORD_RETRY = 1.0  # seconds between two tries to record ended runs in a locked file

_EXECUTORS = {
    "async": async_.start,
    "thread": thread.start,
    "process": process.start,
    "main": main.start,
    "ray": ray_.start,
}


class Session:
    """``app.session``: the Rocketry-style handle on a scheduler."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    @property
    def config(self) -> dict[str, Any]:
        """The validated configuration (a copy)."""
        return self._scheduler._config.as_dict()

    @property
    def tasks(self) -> Mapping[str, Task]:
        return self._scheduler.tasks

    def shut_down(self, force: bool = False) -> None:
        """Same as ``Scheduler.shut_down``."""
        self._scheduler.shut_down(force=force)

    def __repr__(self) -> str:
        return f"<Session of {self._scheduler!r}>"


class Scheduler:
    """A task scheduler that runs on an asyncio loop (in a notebook: the kernel's).

    ``Scheduler(config=None, **config_kwargs)``; the config keys are
    ``timeout``, ``instant_shutdown``, ``shut_cond``, ``execution``,
    ``cycle_sleep``, ``terminate_grace`` and ``runs_db``. ``clock`` and ``tz``
    (keyword only) inject a clock and the zone of wall-clock conditions.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        clock: Clock | None = None,
        tz: tzinfo | None = None,
        **config_kwargs: Any,
    ) -> None:
        self._config = build_config(config, config_kwargs)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._tz = tz
        self._store = RunStore(self._config.runs_db)
        self._lock = threading.RLock()
        self._tasks: dict[str, Task] = {}
        self._state: State = "stopped"
        self._forced = False
        self._forced_at: float | None = None
        self._fatal: Exception | None = None  # what stopped the last session, if it failed
        self._started_at = self._clock.time()
        self._gen = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._thread: threading.Thread | None = None
        self._wake: asyncio.Event | None = None
        self._serve_task: asyncio.Task[None] | None = None  # held: the loop keeps only weak refs
        self._watchdog = Watchdog(self._clock)
        self._session = Session(self)
        self._subscribers: list[Callable[[Event], None]] = []
        self._stopped = threading.Event()
        self._stopped.set()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        # Run state
        self._live: dict[str, Run] = {}
        self._starts, self._finishes = self._store.last_times()
        self._last_records: dict[str, RunRecord] = {}
        self._reported: list[tuple[Run, Outcome]] = []  # ended runs waiting to be recorded
        self._record_pending = False
        self._agenda = Agenda()

    # ------------------------------------------------------------ public API

    @property
    def state(self) -> State:
        """``"stopped" | "running" | "shutting_down"``."""
        return self._state

    @property
    def session(self) -> Session:
        return self._session

    @property
    def config(self) -> dict[str, Any]:
        return self._config.as_dict()

    @property
    def tasks(self) -> Mapping[str, Task]:
        """The tasks by name (read-only view)."""
        return types.MappingProxyType(self._tasks)

    def task(
        self,
        start_cond: Condition | str | Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        execution: str | None = None,
        timeout: Any = None,
        end_cond: Condition | str | None = None,
        disabled: bool = False,
        resources: Mapping[str, float | int | str] | None = None,
    ) -> Callable[[F], F]:
        """Decorator defining a task; returns the function unchanged.

        Bad arguments raise ``ValueError``/``TypeError`` here, naming the task
        and the value. Defining a name again replaces the definition.
        ``resources`` (``execution="ray"`` only) is what Ray reserves for each
        run: ``{"num_cpus": 2, "num_gpus": 1, "memory": "4 GiB"}``.
        """
        if not isinstance(disabled, bool):
            raise TypeError(f"disabled must be True or False, got {disabled!r}")

        def decorate(func: F) -> F:
            definition = define_task(
                func,
                self._config,
                start_cond=start_cond,
                name=name,
                execution=execution,
                timeout=timeout,
                end_cond=end_cond,
                resources=resources,
            )
            self._define(definition, disabled)
            return func

        return decorate

    def runs(
        self, task: str | Task | None = None, status: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """The run records, oldest first, including runs still alive; with
        ``limit``, only the newest ``limit`` of them."""
        name = task.name if isinstance(task, Task) else task
        return self._store.runs(task=name, status=status, limit=limit)

    def run_counts(self) -> dict[str, dict[str, int]]:
        """How many runs each task has had, by status."""
        return self._store.counts()

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on the scheduler's loop for every event;
        returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def start(self) -> None:
        """Start in the background and return at once: on the running loop (in
        a notebook, the kernel's), or, with none running, on a thread of its own."""
        with self._lock:
            if self._state != "stopped":
                warnings.warn(
                    f"the scheduler is already {self._state}: start() does nothing",
                    UserWarning,
                    stacklevel=2,
                )
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                gen = self._begin(loop)
                self._serve_task = loop.create_task(
                    self._serve(gen), name="notebook_sched:scheduler"
                )
                return
            loop = asyncio.new_event_loop()
            gen = self._begin(loop, own_thread=True)
            self._thread = threading.Thread(
                target=self._thread_main, args=(loop, gen), name="notebook_sched-loop", daemon=True
            )
            self._thread.start()

    async def serve(self) -> None:
        """Run on the current loop until the scheduler stops. The first
        interrupt (Ctrl-C, the kernel's stop button) shuts down gracefully, the
        second forces; a cancellation of the caller shuts down gracefully too."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._state == "stopped":
                gen = self._begin(loop)
                self._serve_task = loop.create_task(
                    self._serve(gen), name="notebook_sched:scheduler"
                )
        with interrupts_shut_down(loop, self._shut_down_from_signal):
            while True:
                try:
                    await asyncio.shield(self._stopped_future(loop))
                    return
                except asyncio.CancelledError:
                    self.shut_down()
                    task = asyncio.current_task()
                    if task is not None:
                        task.uncancel()

    def run(self) -> None:
        """Block until the scheduler stops; in a script or a notebook cell.
        The first ``KeyboardInterrupt`` shuts down gracefully, the second forces."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            loop = asyncio.new_event_loop()
            try:
                self._run_until_stopped(loop)
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
        else:
            import nest_asyncio2  # the maintained fork; applied only for a nested run

            nest_asyncio2.apply(loop)
            self._run_until_stopped(loop)

    def shut_down(self, force: bool = False) -> None:
        """Shut down without blocking. Graceful: no new run starts and live
        runs go on to their end. Forced (``force=True``, ``instant_shutdown``,
        or a second call): live runs are terminated at once, reason ``"shutdown"``."""
        with self._lock:
            if self._state == "stopped":
                return
            force = force or self._config.instant_shutdown or self._state == "shutting_down"
            if self._state == "shutting_down" and (self._forced or not force):
                return
            self._begin_shutdown(force, self._clock.time())

    async def wait(self, timeout: float | None = None) -> None:
        """Wait until the scheduler is stopped; every run then has its final record."""
        future = self._stopped_future(asyncio.get_running_loop())
        await asyncio.wait_for(asyncio.shield(future), timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Block the calling thread until stopped (not on the scheduler's loop)."""
        if self._loop_thread == threading.get_ident() and self._state != "stopped":
            raise RuntimeError("join() would block the scheduler's own loop; use await app.wait()")
        return self._stopped.wait(timeout)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for task in list(self._tasks.values()):
            counts[task.status] = counts.get(task.status, 0) + 1
        detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        detail = f" ({detail})" if detail else ""
        return f"<Scheduler {self._state}: {len(self._tasks)} tasks{detail}>"

    # ------------------------------------------------------ running the loop

    def _begin(self, loop: asyncio.AbstractEventLoop, own_thread: bool = False) -> int:
        """Enter "running" (under the lock); returns the new generation."""
        self._gen += 1
        self._state = "running"
        self._forced = False
        self._forced_at = None
        self._fatal = None
        self._started_at = self._clock.time()
        self._loop = loop
        self._loop_thread = None if own_thread else threading.get_ident()
        self._stopped.clear()
        _RUNNING.add(self)
        self._agenda.mark(self._tasks)
        if own_thread:
            atexit.unregister(self._at_exit)  # once, however often it restarts
            atexit.register(self._at_exit)
        self._emit(StateChanged("running"))
        return self._gen

    def _thread_main(self, loop: asyncio.AbstractEventLoop, gen: int) -> None:
        self._loop_thread = threading.get_ident()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(gen))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _at_exit(self) -> None:
        # The interpreter is exiting under a scheduler on its own thread: stop
        # the runs so their records are final, and do not wait forever.
        atexit.unregister(self._at_exit)
        if self._state != "stopped":
            self.shut_down(force=True)
            self._stopped.wait(self._config.terminate_grace * 2 + 2)

    def _run_until_stopped(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if self._state == "stopped":
                gen = self._begin(loop)
                self._serve_task = loop.create_task(
                    self._serve(gen), name="notebook_sched:scheduler"
                )
        if self._loop is not loop:  # already running on a thread of its own
            interrupts = 0
            while True:
                try:
                    self._stopped.wait()
                    return
                except KeyboardInterrupt:
                    interrupts += 1
                    self.shut_down(force=interrupts >= 2)
        with interrupts_shut_down(loop, self._shut_down_from_signal):
            loop.run_until_complete(self._stopped_future(loop))

    def _shut_down_from_signal(self, force: bool) -> None:
        self.shut_down(force=force)

    async def _serve(self, gen: int) -> None:
        loop = asyncio.get_running_loop()
        wake = self._wake = asyncio.Event()
        on_jump = partial(loop.call_soon_threadsafe, wake.set)
        self._clock.add_listener(on_jump)
        try:
            while self._gen == gen and self._state != "stopped":
                wake.clear()
                now = self._clock.time()
                with self._lock:
                    launches = self._step(now)
                for run in launches:
                    self._start_handle(run, loop)
                if launches:
                    continue  # a main run may have taken time: look again before sleeping
                await self._sleep(wake, self._next_wake())
        except Exception as exc:  # a bug of the scheduler itself: stop, but lose nothing
            log.exception("notebook_sched: the scheduler failed; shutting down (forced)")
            with self._lock:
                self._fatal = exc
                if self._state != "stopped":
                    self._begin_shutdown(True, self._clock.time())
            while self._gen == gen and self._state != "stopped":
                wake.clear()
                with self._lock:
                    self._step_shutdown(self._clock.time())
                await self._sleep(wake, self._abandon_at())
        finally:
            self._clock.remove_listener(on_jump)

    async def _sleep(self, wake: asyncio.Event, when: float | None) -> None:
        if self._agenda.has_marked:
            await asyncio.sleep(0)
            return
        delay = None if when is None else self._clock.seconds_until(when)
        if delay == 0:
            await asyncio.sleep(0)
            return
        handle = None
        if delay is not None:
            handle = asyncio.get_running_loop().call_later(delay, wake.set)
        await wake.wait()
        if handle is not None:
            handle.cancel()

    def _wake_loop(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    # ------------------------------------------------ one step of the loop

    def _step(self, now: float) -> list[Run]:
        """Evaluate what is due (under the lock); returns runs to start."""
        if self._state == "shutting_down":
            self._step_shutdown(now)
        elif self._state == "running":
            shut = self._config.shut_cond
            if shut is not None and self._evaluate_safely(shut, now, None, "shut_cond"):
                self._begin_shutdown(self._config.instant_shutdown, now)
        due = [
            task
            for name in self._agenda.take_due(now)
            if (task := self._evaluate(name, now)) is not None
        ]
        return self._launch(due, now) if due else []

    def _evaluate(self, name: str, now: float) -> Task | None:
        """Look at one task: terminate its run if its end condition holds, or
        return it if a run is to start; else note when to look again."""
        task = self._tasks.get(name)
        if task is None:
            return None
        ctx = EngineContext(self, now, name)
        definition = task._definition
        end = definition.end_cond
        try:
            run = self._live.get(name)
            if run is not None:
                if end is not None and run.reason is None:
                    if end.is_true(ctx):
                        run.terminate("end_cond", now)
                    else:
                        self._agenda.check_at(name, end.next_change(ctx))
                return None
            start = definition.start_cond
            if self._state != "running" or task.disabled or start is None:
                return None
            if end is not None and end.is_true(ctx):
                # Not while its own end condition holds: look again when either may change.
                times = [t for t in (end.next_change(ctx), start.next_change(ctx)) if t is not None]
                self._agenda.check_at(name, min(times, default=None))
                return None
            if start.is_true(ctx):
                return task
            self._agenda.check_at(name, start.next_change(ctx))
        except Exception:
            log.exception("notebook_sched: evaluating the conditions of task %r failed", name)
            self._agenda.check_at(name, now + max(self._config.cycle_sleep, 1.0))
        return None

    def _evaluate_safely(self, cond: Condition, now: float, task: str | None, what: str) -> bool:
        try:
            return cond.is_true(EngineContext(self, now, task))
        except Exception:
            log.exception("notebook_sched: evaluating %s failed", what)
            return False

    def _next_wake(self) -> float | None:
        times = []
        times.append(self._agenda.next_time())
        shut = self._config.shut_cond
        if shut is not None and self._state == "running":
            try:
                times.append(shut.next_change(EngineContext(self, self._clock.time(), None)))
            except Exception:
                log.exception("notebook_sched: evaluating shut_cond failed")
        if self._state == "shutting_down":
            times.append(self._abandon_at())
        return min((t for t in times if t is not None), default=None)

    # ------------------------------------------------------------ runs

    def _launch(self, tasks: list[Task], now: float) -> list[Run]:
        """Create the runs and their records (under the lock; one transaction
        for all of them); ``_start_handle`` then starts each outside the lock."""
        records = self._store.start_many([(task.name, now) for task in tasks])
        runs = []
        for task, record in zip(tasks, records, strict=True):
            definition = task._definition
            timeout = definition.effective_timeout(self._config)
            run = Run(
                definition,
                record,
                start=now,
                deadline=now + timeout if timeout is not None else None,
                watchdog=self._watchdog,
                grace=self._config.terminate_grace,
                on_terminating=self._on_terminating,
            )
            name = definition.name
            self._live[name] = run
            self._starts[name] = now
            self._last_records[name] = record
            # Its end condition is watched from now on, and so are tasks watching it.
            self._agenda.mark_with_watchers(name, itself=definition.end_cond is not None)
            self._emit(RunStarted(record, run.deadline))
            runs.append(run)
        return runs

    def _start_handle(self, run: Run, loop: asyncio.AbstractEventLoop) -> None:
        definition = run.definition
        job = Job(
            task=definition.name,
            run_id=run.run_id,
            func=definition.func,
            flag_params=definition.flag_params,
            loop=loop,
            now=self._clock.time,
            done=partial(self._report, run),
            is_async=definition.is_async,
            extra={
                "payload": definition.payload,
                "resources": definition.resources,
                "ray_address": self._config.ray_address,
            },
        )
        try:
            handle = _EXECUTORS[definition.execution](job)
        except Exception as exc:
            self._report(
                run, Outcome("crash", self._clock.time(), error=f"could not start: {exc!r}")
            )
            return
        run.attach(handle)

    def _report(self, run: Run, outcome: Outcome) -> None:
        """The executor's report of a run's end, from any thread. Reports are
        recorded in batches, one transaction per turn of the loop."""
        if not run.mark_finished():
            return  # already final (abandoned at a forced shutdown)
        loop = self._loop
        with self._lock:
            self._reported.append((run, outcome))
            if self._record_pending:
                return
            self._record_pending = True
        if loop is None or loop.is_closed():
            self._record_reported()
        elif threading.get_ident() == self._loop_thread:
            loop.call_soon(self._record_reported)
        else:
            try:
                loop.call_soon_threadsafe(self._record_reported)
            except RuntimeError:  # the loop closed in between
                self._record_reported()

    def _record_reported(self) -> None:
        with self._lock:
            reported, self._reported = self._reported, []
            self._record_pending = False
            self._finalize(reported)

    def _finalize(self, ended: list[tuple[Run, Outcome]]) -> None:
        """Write the final records of ``ended`` runs (under the lock)."""
        finals, records = [], []
        for run, outcome in ended:
            status, reason = outcome.status, run.reason
            if reason is not None:
                status = "terminate"  # whatever it did after termination was requested
            finals.append((run.run_id, status, outcome.end, reason, outcome.error, outcome.result))
            records.append(
                RunRecord(
                    run.task, run.run_id, status, reason,  # type: ignore[arg-type]
                    run.record.start, to_datetime(outcome.end), outcome.error, outcome.result,
                )
            )  # fmt: skip
        try:
            self._store.finish_many(finals)
        except RunStoreError:
            # The file stays locked by another writer: keep the reports and try
            # again, so that no record is dropped (the runs stay live till then).
            log.exception("notebook_sched: could not record %d ended runs; retrying", len(ended))
            self._reported[:0] = ended
            if self._loop is not None and not self._loop.is_closed():
                self._record_pending = True
                self._loop.call_soon_threadsafe(
                    self._loop.call_later, RECORD_RETRY, self._record_reported
                )
            return
        for (run, outcome), record in zip(ended, records, strict=True):
            name = run.task
            if self._live.get(name) is run:
                del self._live[name]
            self._finishes[(name, record.status)] = outcome.end
            self._last_records[name] = record
            self._agenda.mark_with_watchers(name)
            self._emit(RunFinished(record))
        if self._state == "shutting_down" and not self._live:
            self._finish_stop()
        else:
            self._wake_loop()

    def _on_terminating(self, run: Run) -> None:
        self._emit(RunTerminating(run.task, run.run_id, run.reason or ""))

    def _live_run(self, name: str) -> Run | None:
        return self._live.get(name)

    def _next_start(self, task: Task) -> float | None:
        start = task.start_cond
        if start is None or task.disabled or task.name in self._live:
            return None
        now = self._clock.time()
        ctx = EngineContext(self, now, task.name)
        try:
            return now if start.is_true(ctx) else start.next_change(ctx)
        except Exception:
            return None

    def _next_change(self, cond: Condition, task: str | None) -> float | None:
        try:
            return cond.next_change(EngineContext(self, self._clock.time(), task))
        except Exception:
            return None

    def _end_cond_state(self, task: Task) -> bool | None:
        end = task.end_cond
        if end is None:
            return None
        return self._evaluate_safely(
            end, self._clock.time(), task.name, f"end_cond of {task.name!r}"
        )

    def _last_record(self, name: str) -> RunRecord | None:
        record = self._last_records.get(name)
        if record is None:
            record = self._store.last(name)
            if record is not None:
                self._last_records[name] = record
        return record

    # --------------------------------------------------- task operations

    def _define(self, definition: Any, disabled: bool) -> None:
        with self._lock:
            name = definition.name
            task = self._tasks.get(name)
            if task is None:
                task = self._tasks[name] = Task(self, definition, disabled)
            else:
                task._definition = definition  # a live run keeps its own definition
                task._disabled = disabled
            refs: frozenset[str] = frozenset()
            for cond in (definition.start_cond, definition.end_cond):
                if cond is not None:
                    refs |= cond.task_refs()
            self._agenda.watch(name, refs)
            self._task_changed(task)

    def _task_changed(self, task: Task) -> None:
        with self._lock:
            self._agenda.mark([task.name])
            self._emit(TaskChanged(task.name))
            self._wake_loop()

    def _run_now(self, task: Task) -> bool:
        with self._lock:
            if self._state == "stopped":
                raise RuntimeError(
                    f"cannot run task {task.name!r}: the scheduler is stopped (call app.start())"
                )
            name = task.name
            if self._state != "running" or task.disabled or name in self._live:
                return False
            end = task._definition.end_cond
            now = self._clock.time()
            if end is not None and self._evaluate_safely(end, now, name, f"end_cond of {name!r}"):
                return False
            # The run and its record exist from this moment, whatever the thread;
            # only starting its function belongs to the loop.
            (run,) = self._launch([task], now)
            self._wake_loop()  # its end condition is to be watched from now on
        loop = self._loop
        assert loop is not None
        if threading.get_ident() == self._loop_thread:
            self._start_handle(run, loop)
        else:
            loop.call_soon_threadsafe(self._start_handle, run, loop)
        return True

    def _terminate_task(self, name: str, reason: str) -> bool:
        run = self._live.get(name)
        return run.terminate(reason) if run is not None else False

    # ------------------------------------------------------------ shutdown

    def _begin_shutdown(self, force: bool, now: float) -> None:
        """Enter "shutting_down" (under the lock)."""
        if self._state != "shutting_down":
            self._state = "shutting_down"
            self._emit(StateChanged("shutting_down"))
        if force and not self._forced:
            self._forced = True
            self._forced_at = now
            for run in list(self._live.values()):
                run.terminate("shutdown", now)
        if not self._live:
            self._finish_stop()
        else:
            self._wake_loop()

    def _abandon_at(self) -> float | None:
        if self._forced_at is None:
            return None
        return self._forced_at + 2 * self._config.terminate_grace + 1.0

    def _step_shutdown(self, now: float) -> None:
        if not self._live:
            self._finish_stop()
            return
        abandon_at = self._abandon_at()
        if abandon_at is None or now < abandon_at:
            return
        # A forced shutdown must end: a thread stuck in a C call cannot be
        # stopped, so give up on it with a final record that says so.
        reported, self._reported = self._reported, []
        self._finalize(reported)  # those that ended just now keep their own report
        abandoned = []
        for run in list(self._live.values()):
            if not run.mark_finished():
                continue  # its report is on its way from another thread
            log.warning(
                "notebook_sched: abandoning run %d of task %r: it did not stop "
                "within %.1f s of the forced shutdown",
                run.run_id,
                run.task,
                now - (self._forced_at or now),
            )
            error = (
                "abandoned at shutdown: the run did not stop after it was terminated "
                "(a thread blocked in a C call cannot be interrupted)"
            )
            abandoned.append((run, Outcome("terminate", now, error=error)))
        self._finalize(abandoned)
        if self._state != "stopped":
            self._finish_stop()

    def _finish_stop(self) -> None:
        """Enter "stopped" (under the lock) and release every waiter."""
        self._state = "stopped"
        self._forced_at = None
        self._stopped.set()
        _RUNNING.discard(self)
        waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            _resolve(loop, future)
        self._emit(StateChanged("stopped"))
        self._wake_loop()

    def _stopped_future(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._state == "stopped":
                future.set_result(None)
            else:
                self._waiters.append((loop, future))
        return future

    # -------------------------------------------------------------- events

    def _emit(self, event: Event) -> None:
        if not self._subscribers:
            return
        loop = self._loop
        if threading.get_ident() != self._loop_thread and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._deliver, event)
        else:
            self._deliver(event)

    def _deliver(self, event: Event) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("notebook_sched: an event subscriber failed")


def _resolve(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    def set_done() -> None:
        if not future.done():
            future.set_result(None)

    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        set_done()
    elif not loop.is_closed():
        loop.call_soon_threadsafe(set_done)
