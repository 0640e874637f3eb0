"""The scheduler's loop: look at what is due, start runs, sleep.

The loop does not poll. Each task has one "check at" time on the agenda —
when its start condition (or, while a run is alive, its end condition) may
next change — and events (a run started or ended, a task defined or enabled)
mark tasks to look at. What is due is queued and evaluated in slices of a
few milliseconds (and at most 64 starts), the loop given back between
slices, and once the scheduler has been busy for a while it keeps to a quarter
of the loop (``share.py``): even the first look at ten thousand tasks, or
more due than it can ever start, never holds the kernel's loop for long.
A round is what was due when it began, and what came due while it ran:
every task in it has its turn, in order of priority and then of arrival,
and starts once, however many due moments it missed meanwhile; the ends of
the round's runs are recorded when it is over. Deadlines of
runs live on the watchdog thread, not here. The agenda's times are wall
times: a step of the wall clock (seen as a change of wall minus monotonic
time) has every task looked at again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from .._conditions.base import Condition
from .agenda import Agenda
from .clock import Clock
from .condition_errors import ConditionErrors
from .config import SessionConfig
from .context import EngineContext
from .ledger import Ledger
from .share import LoopShare

if TYPE_CHECKING:
    from .catchup import CatchUp
    from .pools import Pools
    from .queueing import Queueing
    from .retries import Retries
    from .run import Run
    from .task import Task

__all__ = ["SchedulingLoop", "Steering"]

log = logging.getLogger("notebook_sched")

# Runs started at most in one slice, after its evaluations (they start to run
# after it): ~20-50 us each, so that a slice stays within a few ms.
BATCH = 64
MAX_BACKLOG = 2_000  # records not yet in the file past which no new run starts (~2 MB)
BACKLOG_WAIT = 0.02  # seconds before due tasks are looked at again meanwhile
# How far the wall clock may move against the monotonic one between two steps
# before it counts as a step of the wall clock (NTP, a resume from suspend).
WALL_STEP = 0.1


class Steering(Protocol):
    """What the loop asks of its scheduler."""

    @property
    def state(self) -> str: ...
    @property
    def lock(self) -> threading.RLock: ...
    def generation(self) -> int: ...
    def context(self, now: float, task: str | None) -> EngineContext: ...
    def holds(self, cond: Condition, now: float, task: str | None, which: str) -> bool: ...
    def begin_shutdown(self, force: bool) -> None: ...
    def launch(self, tasks: list[Task], now: float) -> list[Run]: ...
    def start_run(self, run: Run, loop: asyncio.AbstractEventLoop) -> None: ...
    def failed(self, exc: Exception) -> None: ...

    pools: Pools
    queueing: Queueing
    retries: Retries
    catchup: CatchUp

    @property
    def prioritized(self) -> bool:
        """Whether any task has a priority other than 0."""
        ...


class SchedulingLoop:
    def __init__(
        self,
        steering: Steering,
        tasks: Mapping[str, Task],
        agenda: Agenda,
        ledger: Ledger,
        clock: Clock,
        config: SessionConfig,
        errors: ConditionErrors,
        share: LoopShare,
    ) -> None:
        self._steer = steering
        self._share = share
        self._queue: list[str] = []  # due, not looked at yet: popped from the end
        self._holding = False  # a round of starts is under way: ends wait for its end
        self._tasks = tasks
        self._agenda = agenda
        self._ledger = ledger
        self._clock = clock
        self._config = config
        self._errors = errors
        # Looked at for every task evaluated: the dicts themselves (they stay
        # the same objects), so that a burst pays one truth test each.
        self._waiting = steering.pools.waiting
        self._pending = steering.retries.pending
        self._replays = steering.catchup.replays
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._behind = False  # the history's writer fell behind (warned once per session)
        self._offset = 0.0  # wall minus monotonic time at the last step
        # Multilaunch tasks: when their start condition may start (or queue)
        # another run, a cycle after the last (see _relaunch_at).
        self._relaunch: dict[str, float] = {}
        self.cycles = 0  # looks at what is due since the scheduler started (Rocketry's)

    async def serve(self, gen: int) -> None:
        """Run until the scheduler stops or a newer session takes over."""
        steer = self._steer
        loop = self._loop = asyncio.get_running_loop()
        wake = self._wake = asyncio.Event()
        self._behind = False
        self._queue = []  # the session's start marked every task

        def on_jump() -> None:
            loop.call_soon_threadsafe(wake.set)

        self._clock.add_listener(on_jump)
        self._wall_stepped()
        self.cycles = 0
        try:
            # status conditions count the whole history: its file's part first
            await self._ledger.occurrences.wait_ready()
            while steer.generation() == gen and steer.state != "stopped":
                wake.clear()
                if self._wall_stepped():
                    self._look_at_all()
                launched = self._slice(loop)
                if steer.generation() != gen or steer.state == "stopped":
                    break
                if self._queue or launched:
                    # More is due (or a main run may have taken time): the
                    # next slice after the scheduler's pause (``share.py``).
                    await self._share.give_back()
                else:
                    await self._sleep(wake, self._next_wake())
        except Exception as exc:  # a bug of the scheduler itself: stop, but lose nothing
            log.exception("notebook_sched: the scheduler failed; shutting down (forced)")
            steer.failed(exc)
            while steer.generation() == gen and steer.state != "stopped":
                wake.clear()
                await wake.wait()
        finally:
            self._clock.remove_listener(on_jump)
            if self._queue:  # looked at again by whichever session comes next
                with steer.lock:
                    self._agenda.mark(self._queue)
                self._queue = []
            self._end_round()

    def _wall_stepped(self) -> bool:
        offset = self._clock.time() - self._clock.monotonic()
        stepped = abs(offset - self._offset) > WALL_STEP
        self._offset = offset
        return stepped

    def _look_at_all(self) -> None:
        """The wall clock stepped: every "check at" time on the agenda (wall
        times) is off by the step, so every task is looked at again —
        wall-clock conditions at the new time, ``every`` on the monotonic
        clock. Each is looked at once: a jump forward starts at most one run
        per task."""
        with self._steer.lock:
            self._agenda.mark(self._tasks)

    def wake(self) -> None:
        """Make the loop look again (on the loop's thread, or via ``post``)."""
        loop = self._loop
        if self._wake is not None and loop is not None and not loop.is_closed():
            self._wake.set()

    # ------------------------------------------------------------ a slice

    def _slice(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Look at what is due for one slice's time, start the runs it
        found; ``True`` if runs started. What is due and not looked at yet
        stays queued, behind nothing newer: every due task has its turn."""
        steer, share = self._steer, self._share
        began = share.now()
        now = self._clock.time()
        shut = self._config.shut_cond
        if (
            steer.state == "running"
            and shut is not None
            and steer.holds(shut, now, None, "shut_cond")
        ):
            steer.begin_shutdown(self._config.instant_shutdown)
        queue = self._queue
        fresh = self._agenda.take_due(now)
        if fresh:
            if queue:  # behind the tasks that were due before (popped from the end)
                waiting = set(queue)
                queue[:0] = [name for name in fresh if name not in waiting]
            else:
                queue.extend(fresh)
            if steer.prioritized:  # stable: the highest priority at the end, in turn
                queue.sort(key=self._priority)
        if not queue:
            self.cycles += 1
            return False
        if self._ledger.history.backlog > MAX_BACKLOG:
            self._wait_for_the_writer(queue, now)
            queue.clear()
            self._end_round()
            return False
        ledger = self._ledger
        if not self._holding:  # its runs' ends are recorded after the round (or the slice)
            self._holding = True
            ledger.hold()
        try:
            ready: list[Task] = []
            with steer.lock:
                ctx = steer.context(now, None)
                while queue and len(ready) < BATCH:
                    name = queue.pop()
                    ctx.task = name
                    if (task := self._evaluate(name, ctx)) is not None:
                        ready.append(task)
                    # The time after each: a first look at a cron or window
                    # condition may cost a millisecond.
                    if share.over(began):
                        break
                # Stamped now: the evaluations took time (or the GIL was away).
                runs = steer.launch(ready, self._clock.time()) if ready else []
            for run in runs:
                steer.start_run(run, loop)
        finally:
            share.spent(began)
            if not queue:
                self._end_round()
                self.cycles += 1
            elif share.pause() > 0:
                # Saturated: the ends are recorded in the pause, so that the
                # runs of a long round do not pile up in memory meanwhile.
                self._end_round()
        return bool(runs)

    def _end_round(self) -> None:
        """Every task due in this round has had its turn: the ends held
        meanwhile are recorded now (they mark their tasks for the next)."""
        if self._holding:
            self._holding = False
            self._ledger.release()

    def _priority(self, name: str) -> float:
        task = self._tasks.get(name)
        return task._definition.priority if task is not None else 0

    def _wait_for_the_writer(self, due: list[str], now: float) -> None:
        """The run history is far behind (runs start faster than the file
        takes their records): start nothing new for a moment, so that memory
        stays bounded; the loop itself goes on. Warned once per session."""
        if not self._behind:
            self._behind = True
            path = self._ledger.history.path
            log.warning(
                "notebook_sched: the run history is %d records behind (runs start faster "
                "than %s takes them); new runs wait until it catches up",
                self._ledger.history.backlog,
                "the in-memory history" if path is None else repr(path),
            )
        for name in due:
            self._agenda.check_at(name, now + BACKLOG_WAIT)

    def _evaluate(self, name: str, ctx: EngineContext) -> Task | None:
        """Look at one task: terminate its run if its end condition holds, or
        return it if a run is to start; else note when to look again. A
        condition that raises counts as false (``condition_errors.py``)."""
        task = self._tasks.get(name)
        if task is None:
            return None
        definition = task._definition
        end = definition.end_cond
        agenda = self._agenda
        errors = self._errors
        run = self._ledger.live.get(name)
        if run is not None:
            if definition.multilaunch:
                return self._evaluate_overlapping(task, ctx)
            if end is not None and run.reason is None:
                if errors.check(end, ctx, "end_cond"):
                    run.terminate("end_cond")
                else:
                    agenda.check_at(name, errors.next_change(end, ctx, "end_cond"))
            return None
        steer = self._steer
        if self._waiting and name in self._waiting:
            if definition.multilaunch:  # each due time queues one more run
                return self._evaluate_overlapping(task, ctx)
            if end is not None:  # a waiting run leaves its queue when it holds
                if errors.check(end, ctx, "end_cond"):
                    steer.queueing.leave(name, "end_cond", ctx.now)
                else:
                    agenda.check_at(name, errors.next_change(end, ctx, "end_cond"))
            return None
        start = definition.start_cond
        retry = self._pending.get(name) if self._pending else None
        if steer.state != "running" or task.disabled or (start is None and retry is None):
            return None
        if end is not None and errors.check(end, ctx, "end_cond"):
            # Not while its own end condition holds: look again when either may change.
            times = [
                errors.next_change(end, ctx, "end_cond"),
                errors.next_change(start, ctx, "start_cond") if start is not None else None,
            ]
            agenda.check_at(name, min((t for t in times if t is not None), default=None))
            return None
        if retry is not None:  # the start condition waits for the retry (its timer marks it)
            return task if steer.retries.is_due(retry) else None
        assert start is not None
        if self._replays and name in self._replays:
            caught = steer.catchup.advance(name, start, ctx)
            if caught is None:  # not done: go on at the next slice
                agenda.mark([name])
                return None
            if caught:
                return task  # once, however many were missed
        if errors.check(start, ctx, "start_cond"):
            if definition.multilaunch:
                agenda.check_at(name, self._relaunch_at(name, ctx))
            return task
        agenda.check_at(name, errors.next_change(start, ctx, "start_cond"))
        return None

    def _evaluate_overlapping(self, task: Task, ctx: EngineContext) -> Task | None:
        """A multilaunch task with live or waiting runs: its end condition
        ends them all (the waiting ones leave their queue); else its start
        condition may start (or queue) one more."""
        name, definition, errors = task.name, task._definition, self._errors
        end, start = definition.end_cond, definition.start_cond
        end_change = None
        if end is not None:
            if errors.check(end, ctx, "end_cond"):
                for run in self._ledger.runs_of(name):
                    run.terminate("end_cond")
                if self._waiting and name in self._waiting:
                    self._steer.queueing.leave(name, "end_cond", ctx.now)
                return None
            end_change = errors.next_change(end, ctx, "end_cond")
        times = [end_change]
        if self._steer.state == "running" and not task.disabled and start is not None:
            if errors.check(start, ctx, "start_cond"):
                # Marked again within a cycle of the run it last started or
                # queued (that run's start, its slot's wait): not yet another.
                again = self._relaunch.get(name)
                launch = again is None or ctx.now >= again
                if launch:
                    again = self._relaunch_at(name, ctx)
                assert again is not None
                # The live runs' end is still watched.
                self._agenda.check_at(name, again if end_change is None else min(end_change, again))
                return task if launch else None
            times.append(errors.next_change(start, ctx, "start_cond"))
        self._agenda.check_at(name, min((t for t in times if t is not None), default=None))
        return None

    def _relaunch_at(self, name: str, ctx: EngineContext) -> float:
        # A multilaunch task is looked at again after it starts a run, as its
        # start condition may allow another: one cycle later, so that a
        # condition that stays true starts a run per cycle, not one per step
        # (nor one per look in between: its run's start or its queueing marks it).
        again = self._relaunch[name] = ctx.now + self._config.cycle_sleep
        return again

    # ------------------------------------------------------------ sleeping

    def _next_wake(self) -> float | None:
        times = [self._agenda.next_time()]
        shut = self._config.shut_cond
        if shut is not None and self._steer.state == "running":
            ctx = self._steer.context(self._clock.time(), None)
            times.append(self._errors.next_change(shut, ctx, "shut_cond"))
        return min((t for t in times if t is not None), default=None)

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
