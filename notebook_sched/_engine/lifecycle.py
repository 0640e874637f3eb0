"""Startup and shutdown tasks: the two phases of a scheduler's session that
run tasks one at a time, in definition order, each to its end or its timeout.

Startup (``on_startup=True``) begins each time the scheduler starts: until
the last startup task's run has ended, no other run starts — a task that
comes due is looked at again afterwards, and a ``Task.run()`` asked for
meanwhile (in the cell that called ``start()``, say) starts then, unless a
shutdown comes first. Shutdown
(``on_shutdown=True``) begins when a shutdown, graceful or forced, has seen
every live run end, and the scheduler is "stopped" only once it is over. A
shut_down() called during the shutdown phase is a second call, so it forces:
the shutdown task's run is terminated and the rest are not run.

Each step runs on the scheduler's loop (a main task runs synchronously
there); the core calls in under its lock and the phase posts its next step.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from .definition import TaskDefinition
    from .run import Run
    from .task import Task

__all__ = ["Lifecycle", "Phases"]

Phase = Literal["startup", "shutdown"]
IDS_RETRY = 0.1  # seconds before a phase's run that found no run id at hand is tried again


class Phases(Protocol):
    """What the phases ask of the scheduler."""

    @property
    def state(self) -> str: ...
    @property
    def lock(self) -> threading.RLock: ...
    def launch(self, tasks: list[Task], now: float) -> list[Run]: ...
    def start_run(self, run: Run, loop: asyncio.AbstractEventLoop) -> None: ...
    def release(self, held: set[str], asked: list[Task]) -> list[Run]: ...
    def phase_over(self) -> None: ...


class Lifecycle:
    def __init__(
        self,
        phases: Phases,
        tasks: Mapping[str, Task],
        live: Mapping[str, Run],
        post: Callable[[Callable[[], None]], None],
        now: Callable[[], float],
    ) -> None:
        self._phases = phases
        self._tasks = tasks
        self._live = live  # the ledger's live runs
        self._post = post
        self._now = now
        self.phase: Phase | None = None
        self._queue: list[str] = []
        self._current: str | None = None  # the task whose run the phase waits for
        self._held: set[str] = set()  # came due during startup: looked at afterwards
        self._asked: list[Task] = []  # Task.run() during startup: started afterwards
        self.loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------ startup

    def begin(self, loop: asyncio.AbstractEventLoop) -> None:
        """The scheduler entered "running" (under its lock)."""
        self.loop = loop
        self.phase = None
        self._held, self._asked = set(), []
        self._queue = self._of(lambda d: d.on_startup)
        if self._queue:
            self.phase = "startup"
            self._post(self._step)

    def admit(self, tasks: Sequence[Task]) -> list[Task]:
        """Of the tasks about to start, those that may (under the lock): during
        startup only the startup task; the others are held until it is over."""
        if self.phase != "startup":
            return list(tasks)
        admitted = []
        for task in tasks:
            if task.name == self._current:
                admitted.append(task)
            else:
                self._held.add(task.name)
        return admitted

    def ask(self, task: Task) -> bool:
        """``Task.run()`` during startup: ``True`` if it waits for startup's end."""
        if self.phase != "startup" or task.name == self._current:
            return False
        if all(t is not task for t in self._asked):
            self._asked.append(task)
        return True

    # ------------------------------------------------------------ shutdown

    def closing(self) -> bool:
        """The shutdown saw every live run end (under the lock): ``True``
        while shutdown tasks are still to run, ``False`` once stopping may go on."""
        if self.phase == "startup":
            self._queue = []  # a shutdown during startup: the rest never run
        if self.phase != "shutdown":
            self.phase = "shutdown"
            self._current = None
            self._queue = self._of(lambda d: d.on_shutdown)
        if not self._queue:
            self.phase = None
            return False
        self._post(self._step)
        return True

    def without_loop(self) -> None:
        """The loop closed under the scheduler: nothing can start any more, so
        the shutdown tasks are skipped (``loop_end.py``)."""
        self.loop = None
        self.phase, self._queue, self._current = "shutdown", [], None

    def cut_short(self) -> bool:
        """A shut_down() during the shutdown phase: end its run, drop the rest.
        ``False`` if there is no shutdown phase to cut."""
        if self.phase != "shutdown":
            return False
        self._queue = []
        run = self._live.get(self._current) if self._current is not None else None
        if run is not None:
            run.terminate("shutdown", abandon=True)
        return True

    # ------------------------------------------------------------ both

    def ended(self) -> None:
        """Runs ended (under the lock): startup may take its next step. (The
        shutdown phase is driven by the core, through ``closing``.)"""
        if self.phase == "startup" and self._current not in self._live:
            self._post(self._step)

    def _step(self) -> None:
        phases = self._phases
        with phases.lock:
            if self.phase is None or self._current in self._live:
                return  # over, or its run is still alive
            if self.phase == "startup" and phases.state != "running":
                return  # a shutdown came: ``closing`` takes over once the runs end
            starting = self._launch_next()
            if starting is None and not self._queue:
                starting = self._end_phase()
        if self.loop is not None:
            for run in starting or ():
                phases.start_run(run, self.loop)

    def _launch_next(self) -> list[Run] | None:
        """The next task's run, launched; ``None`` when the queue is empty or
        no run id is at hand yet (then it is tried again shortly)."""
        while self._queue:
            name = self._queue[0]
            task = self._tasks.get(name)
            if task is None or task.disabled:
                self._queue.pop(0)
                continue
            self._current = name
            runs = self._phases.launch([task], self._now())
            if not runs:
                if self.loop is not None:
                    self.loop.call_later(IDS_RETRY, self._step)
                return None
            self._queue.pop(0)
            return runs
        return None

    def _end_phase(self) -> list[Run]:
        """The phase's last run ended: what waited for startup may start now;
        a shutdown goes on to "stopped"."""
        phase, self.phase, self._current = self.phase, None, None
        if phase == "shutdown":
            self.phase = "shutdown"  # ``closing`` sees the queue empty and lets it stop
            self._phases.phase_over()
            return []
        held, asked, self._held, self._asked = self._held, self._asked, set(), []
        return self._phases.release(held, asked)

    def _of(self, wanted: Callable[[TaskDefinition], bool]) -> list[str]:
        return [n for n, t in self._tasks.items() if wanted(t._definition) and not t.disabled]
