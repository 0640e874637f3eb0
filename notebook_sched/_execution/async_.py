"""``execution="async"``: an asyncio task on the scheduler's loop, terminated
by cancellation."""

from __future__ import annotations

import asyncio
import inspect
import threading

from ..args import TerminationFlag
from .base import Executor, Job, Outcome, on_loop
from .call import call_async
from .capture import CURRENT

__all__ = ["start"]


class AsyncHandle:
    __slots__ = ("_flag_event", "_job", "_task", "_watching")

    def __init__(self, job: Job) -> None:
        self._job = job
        # Most async tasks take no flag (cancellation stops them): make one only if asked.
        self._flag_event = threading.Event() if job.flag_params else None
        self._task = job.loop.create_task(self._body(), name=job.task)
        self._watching = False  # for a cancellation before the first step (see stop)

    async def _body(self) -> None:
        job = self._job
        if job.output is not None:
            CURRENT.set(job.output)  # the task's own context, and its children's
        event = self._flag_event
        kwargs = job.kwargs(TerminationFlag(event) if event else None)
        job.done(await call_async(job.func, kwargs, job.now))

    def _cancelled_before_start(self, task: asyncio.Task[None]) -> None:
        # A task cancelled before its first step never enters _body's try.
        if task.cancelled():
            self._job.done(Outcome("terminate", self._job.now()))

    def stop(self) -> None:
        if self._flag_event is not None:
            self._flag_event.set()
        on_loop(self._job.loop, self._cancel)

    def _cancel(self) -> None:
        # Watched only once termination is asked for: a callback per run
        # would cost every run of a burst a turn of the loop.
        if not self._watching:
            self._watching = True
            self._task.add_done_callback(self._cancelled_before_start)
        self._task.cancel()

    def force(self) -> None:
        # The coroutine swallowed the first CancelledError: cancel again.
        on_loop(self._job.loop, self._task.cancel)

    def loop_closed(self) -> None:
        """Its loop was closed under it: the task will never take a step
        again. A coroutine that never took its first one is closed here —
        else the garbage collector, whenever it finds it, warns that it "was
        never awaited", a warning about the scheduler's own coroutine that
        the user can do nothing about. One that started is left to be closed
        with its task, as any suspended coroutine is (no warning then)."""
        coro = self._task.get_coro()
        if inspect.iscoroutine(coro) and inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
            coro.close()


start: Executor = AsyncHandle
