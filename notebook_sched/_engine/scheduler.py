"""The public ``Scheduler`` and its Rocketry-style ``Session``: a thin face
over the core (``core.py``), which holds the state and the parts — the loop
(``loop.py``), the ledger of runs (``ledger.py``), the host (``hosting.py``)
and the run history (``_history``)."""

from __future__ import annotations

import asyncio
import os
import re
import time
import types
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any, Never, TypeVar, overload

from .._conditions.base import CONDITION_ERRORS, Condition
from .._history.records import RunRecord
from . import in_process
from .arguments import Params
from .clock import Clock, SystemClock, to_datetime
from .config import Execution, build_config
from .core import Core, State
from .definition import bare_use, define_task
from .display import Panel, mimebundle, panel_of
from .events import Event, Subscription
from .session import Session
from .task import Task

__all__ = ["Scheduler", "Session"]

F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=Event)

FLUSH_WAIT = 2.0  # seconds wait()/join() give the writer to put the last records in the file


class Scheduler:
    """A task scheduler that runs on an asyncio loop (in a notebook: the kernel's).

    The configuration is given as keywords, or as a ``config`` dict of the
    same keys (Rocketry's spelling); a key given both ways, an unknown key or
    a bad value raises ``ValueError`` naming it. A keyword left at ``None``
    takes the default.

    Args:
        config: the configuration as a dict: ``{"timeout": "1 hour"}``.
        clock: the clock to read time from; for tests,
            ``notebook_sched.testing.ManualClock``. Default: the system's.
        tz: the zone of wall-clock conditions. Default: the local zone.
        timeout: the session-level timeout of every task that sets none:
            seconds, a duration string (``"1 hour"``), a ``timedelta`` or
            ``"never"``. Default: no timeout.
        instant_shutdown: every shutdown is forced. Default ``False``.
        shut_cond: a condition; when it is true the scheduler shuts down
            gracefully. Default: never.
        execution: the default execution method, ``"async"``, ``"thread"``,
            ``"process"``, ``"main"`` or ``"ray"``. Default: ``"async"`` for
            ``async def``, ``"thread"`` for ``def``.
        cycle_sleep: seconds between two checks of conditions that cannot say
            when they change (``condition(func)``, ``IsEnv``...). Default ``0.1``.
        terminate_grace: seconds between asking a thread or process run to
            stop and forcing it. Default ``3.0``.
        runs_db: the SQLite file of the run history. Default ``None``: in
            memory.
        ray_address: the Ray cluster ``execution="ray"`` joins. Default: a
            local Ray, started on first use.
        capture_output: capture what each run writes into its record.
            Default ``True``.
        output_limit: characters of output kept per run. Default ``65536``.
        pools: named slots, ``{"gpu": 1}``, for ``@app.task(pool="gpu")``.
            Default: none.
        catch_up: at start, run once each task whose scheduled time passed
            while no scheduler ran. Default ``False``.
        **unknown: refused: an unknown key raises ``ValueError`` naming it.

    Example:
        ```python
        app = Scheduler(timeout="10 minutes", runs_db="runs.sqlite")

        @app.task("every 10 seconds")
        def refresh(): ...

        app.start()
        ```
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        clock: Clock | None = None,
        tz: tzinfo | None = None,
        timeout: float | str | timedelta | None = None,
        instant_shutdown: bool | None = None,
        shut_cond: Condition | str | None = None,
        execution: Execution | None = None,
        cycle_sleep: float | None = None,
        terminate_grace: float | None = None,
        runs_db: str | os.PathLike[str] | None = None,
        ray_address: str | None = None,
        capture_output: bool | None = None,
        output_limit: int | None = None,
        pools: Mapping[str, int] | None = None,
        catch_up: bool | None = None,
        **unknown: Never,
    ) -> None:
        given = {
            "timeout": timeout, "instant_shutdown": instant_shutdown, "shut_cond": shut_cond,
            "execution": execution, "cycle_sleep": cycle_sleep,
            "terminate_grace": terminate_grace, "runs_db": runs_db, "ray_address": ray_address,
            "capture_output": capture_output, "output_limit": output_limit, "pools": pools,
            "catch_up": catch_up,
        }  # fmt: skip
        # An unknown keyword is a ValueError naming it, like an unknown key of
        # ``config`` (typed ``Never``: a type checker flags the typo first).
        given.update(unknown)
        self._config = build_config(config, {k: v for k, v in given.items() if v is not None})
        self._clock: Clock = clock if clock is not None else SystemClock()
        in_process.warn_if_running(stacklevel=2)  # a re-run cell leaves the old one running
        self._core = Core(self._config, self._clock, tz)
        self._core.face = self
        self._session = Session(self)

    # ------------------------------------------------------------ state

    @classmethod
    def list_running(cls) -> list[Scheduler]:
        """This process's schedulers running or shutting down, oldest first: how to
        reach one a re-run cell rebound (``Scheduler.list_running()[0].shut_down()``)."""
        return in_process.running()

    @property
    def state(self) -> State:
        """``"stopped" | "running" | "shutting_down"``."""
        self._core.host.check_loop()
        return self._core.state

    @property
    def session(self) -> Session:
        """The Rocketry-style handle: ``app.session.shut_down()``."""
        return self._session

    @property
    def config(self) -> dict[str, Any]:
        """The validated configuration, every key with its value (a copy)."""
        return self._config.as_dict()

    @property
    def tasks(self) -> Mapping[str, Task]:
        """The tasks by name (read-only view)."""
        return types.MappingProxyType(self._core.tasks)

    @property
    def params(self) -> Params:
        """The values ``Arg("name")`` gives a run, read when it starts: a
        mutable mapping (``app.params["db"] = url``, or ``app.params(db=url)``)."""
        return self._core.arguments.params

    # ------------------------------------------------------------ tasks

    @overload
    def task(self, start_cond: F, /) -> F: ...
    @overload
    def task(
        self,
        start_cond: Condition | str | None = None,
        *,
        name: str | None = None,
        execution: str | None = None,
        timeout: Any = None,
        end_cond: Condition | str | None = None,
        disabled: bool = False,
        resources: Mapping[str, float | int | str] | None = None,
        retries: int = 0,
        retry_delay: Any = 0,
        retry_backoff: float = 1.0,
        pool: str | None = None,
        priority: float = 0,
        multilaunch: bool = False,
        on_startup: bool = False,
        on_shutdown: bool = False,
    ) -> Callable[[F], F]: ...

    def task(
        self,
        start_cond: Any = None,
        *,
        name: str | None = None,
        execution: str | None = None,
        timeout: Any = None,
        end_cond: Condition | str | None = None,
        disabled: bool = False,
        resources: Mapping[str, float | int | str] | None = None,
        retries: int = 0,
        retry_delay: Any = 0,
        retry_backoff: float = 1.0,
        pool: str | None = None,
        priority: float = 0,
        multilaunch: bool = False,
        on_startup: bool = False,
        on_shutdown: bool = False,
    ) -> Any:
        """Decorator defining a task; returns the function unchanged.

        ``@app.task`` (bare) is ``@app.task()``. Bad arguments raise
        ``ValueError``/``TypeError`` here, naming the task and the value.
        Defining a name again replaces the definition. ``resources``
        (``execution="ray"`` only) is what Ray reserves for each run:
        ``{"num_cpus": 2, "num_gpus": 1, "memory": "4 GiB"}``.

        A run that ends ``fail`` or ``crash`` is retried up to ``retries``
        times, the n-th retry ``retry_delay * retry_backoff ** (n - 1)``
        seconds after the run before it ended (``retry_delay`` takes the
        forms of a timeout, or 0). ``pool`` names a pool of the ``pools``
        config: its runs wait for a free slot. ``priority``: when runs come
        due at once or wait for a slot, the higher starts first.

        ``multilaunch=True`` lets runs of the task overlap (each with its own
        deadline; ``Task.terminate()`` ends them all). ``on_startup=True``: it
        runs once each time the scheduler starts, before any other task;
        ``on_shutdown=True``: once when it shuts down, after the live runs
        ended. Startup and shutdown tasks run in definition order, one at a
        time, and take no start condition.
        """
        if not isinstance(disabled, bool):
            raise TypeError(f"disabled must be True or False, got {disabled!r}")

        def decorate(func: F, start: Any = start_cond) -> F:
            definition = define_task(
                func,
                self._config,
                start_cond=start,
                name=name,
                execution=execution,
                timeout=timeout,
                end_cond=end_cond,
                resources=resources,
                retries=retries,
                retry_delay=retry_delay,
                retry_backoff=retry_backoff,
                pool=pool,
                priority=priority,
                multilaunch=multilaunch,
                on_startup=on_startup,
                on_shutdown=on_shutdown,
                phrases=self._core.phrases,
            )
            self._core.define(definition, disabled)
            return func

        if bare_use(start_cond):
            return decorate(start_cond, None)
        return decorate

    def cond(
        self, syntax: str | re.Pattern[str] | Sequence[str | re.Pattern[str]] | None = None
    ) -> Callable[[Callable[..., object]], Condition]:
        """Decorator turning a function returning bool into a condition that
        this scheduler's condition strings can name, as Rocketry's
        ``@app.cond("is ready")``: ``@app.task("daily & is ready")``. The
        decorated name becomes the condition (``@app.task(is_ready)``). A
        compiled regular expression's named groups are passed to the function
        as keyword arguments; calling the condition passes arguments too
        (``@app.cond()`` then ``file_exists("myfile.csv")``, as in Rocketry's
        README). Re-checked every ``cycle_sleep`` seconds."""
        return self._core.phrases.decorator(syntax)

    # ------------------------------------------------------------ history

    def runs(
        self, task: str | Task | None = None, status: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """The run records, oldest first, including runs still alive; with
        ``limit``, only the newest ``limit`` of them."""
        name = task.name if isinstance(task, Task) else task
        core = self._core
        return core.ledger.with_live_output(
            core.history.runs(task=name, status=status, limit=limit)
        )

    def run_counts(self) -> dict[str, dict[str, int]]:
        """How many runs each task has had, by status."""
        return {task: dict(counts) for task, counts in self._core.ledger.counts.items()}

    @overload
    def subscribe(self, callback: Callable[[Event], object], /) -> Subscription: ...
    @overload
    def subscribe(
        self, callback: Callable[[E], object], /, *event_types: type[E]
    ) -> Subscription: ...

    def subscribe(
        self, callback: Callable[[Any], object], /, *event_types: type[Event]
    ) -> Subscription:
        """Call ``callback(event)`` on the scheduler's loop for each event of
        ``event_types`` (classes of ``notebook_sched.events``; every event when
        none are given). Returns a ``Subscription``: ``.cancel()`` stops the
        calls. A callback must be quick: it runs on the loop."""
        return self._core.bus.subscribe(callback, event_types)

    # ------------------------------------------------------------ running

    def start(self) -> None:
        """Start in the background and return at once: on the running loop (in
        a notebook, the kernel's), or, with none running, on a thread of its own."""
        core = self._core
        core.host.check_loop()
        with core.lock:
            if core.state != "stopped":
                warnings.warn(
                    f"the scheduler is already {core.state}: start() does nothing",
                    UserWarning,
                    stacklevel=2,
                )
                return
            core.host.start()

    async def serve(self) -> None:
        """Run on the current loop until the scheduler stops. The first
        interrupt (Ctrl-C, the kernel's stop button) shuts down gracefully, the
        second forces; a cancellation of the caller shuts down gracefully too."""
        await self._core.host.serve()

    def run(self) -> None:
        """Block until the scheduler stops; in a script or a notebook cell.
        The first ``KeyboardInterrupt`` shuts down gracefully, the second forces."""
        self._core.host.run()
        if not self._core.host.on_loop():
            self._core.flush(FLUSH_WAIT)

    def shut_down(self, force: bool = False, *, force_after: float | str | None = None) -> None:
        """Shut down without blocking. Graceful: no new run starts (a pending
        retry is dropped, a run waiting for a pool's slot leaves its queue
        with a record) and live runs go on to their end. Forced
        (``force=True``, ``instant_shutdown``, or a second call): live runs
        are terminated at once, reason ``"shutdown"``. ``force_after``
        (seconds or a duration string such as ``"30 s"``): a graceful
        shutdown becomes a forced one when that much time has passed and runs
        are still alive (``force_at`` says when)."""
        seconds = None
        if force_after is not None:
            from .force_after import parse_force_after

            seconds = parse_force_after(force_after)
        self._core.shut_down(force, seconds)

    @property
    def force_at(self) -> datetime | None:
        """When the present graceful shutdown becomes forced (set by
        ``shut_down(force_after=...)``), or ``None``."""
        at = self._core.deadline.at  # on the monotonic clock
        return None if at is None else to_datetime(self._clock.wall_of(at))

    async def wait(self, timeout: float | None = None) -> None:
        """Wait until the scheduler is stopped; every run then has its final
        record (and, within a bound, that record is in the ``runs_db`` file)."""
        host = self._core.host
        future = host.stopped_future(asyncio.get_running_loop())
        await asyncio.wait_for(asyncio.shield(future), timeout)
        history = self._core.history
        if not history.is_flushed():
            await asyncio.to_thread(history.flush, FLUSH_WAIT)

    def join(self, timeout: float | None = None) -> bool:
        """Block the calling thread until stopped (not on the scheduler's loop)."""
        core = self._core
        if core.host.on_loop() and core.state != "stopped":
            raise RuntimeError("join() would block the scheduler's own loop; use await app.wait()")
        began = time.monotonic()
        stopped = core.host.stopped.wait(timeout)
        if stopped and not core.host.on_loop():
            left = FLUSH_WAIT if timeout is None else timeout - (time.monotonic() - began)
            core.flush(max(0.0, min(left, FLUSH_WAIT)))
        return stopped

    def panel(self) -> Panel:
        """A new widget panel of this scheduler (``notebook_sched.jupyter.SchedulerPanel``)."""
        return panel_of(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return mimebundle(self, include, exclude)  # ``app`` as a cell's last expression

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        tasks = list(self._core.tasks.values())
        for task in tasks:
            counts[task.status] = counts.get(task.status, 0) + 1
        detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        detail = f" ({detail})" if detail else ""
        return f"<Scheduler {self.state}: {len(tasks)} tasks{detail}>"

    # ------------------------------------------------------------ for the panel

    def _next_change(self, cond: Condition, task: str | None) -> float | None:
        try:
            return cond.next_change(self._core.context(self._clock.time(), task))
        except CONDITION_ERRORS:
            return None
