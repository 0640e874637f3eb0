"""``execution="async"``: an asyncio task on the scheduler's loop, terminated
by cancellation."""

from __future__ import annotations

import asyncio
import threading

from ..args import TerminationFlag
from .base import Job, Outcome, outcome_of_error, outcome_of_value

__all__ = ["start"]


class AsyncHandle:
    def __init__(self, job: Job) -> None:
        self._job = job
        # Most async tasks take no flag (cancellation stops them): make one only if asked.
        self._flag_event = threading.Event() if job.flag_params else None
        self._task = job.loop.create_task(self._body(), name=f"notebook_sched:{job.task}")
        self._task.add_done_callback(self._cancelled_before_start)

    async def _body(self) -> None:
        job = self._job
        try:
            kwargs = job.kwargs(TerminationFlag(self._flag_event)) if self._flag_event else {}
            value = await job.func(**kwargs)
        except asyncio.CancelledError:
            outcome = Outcome("terminate", job.now())
        except BaseException as exc:  # the scheduler must outlive any task
            outcome = outcome_of_error(exc, job.now())
        else:
            outcome = outcome_of_value(value, job.now())
        job.done(outcome)

    def _cancelled_before_start(self, task: asyncio.Task[None]) -> None:
        # A task cancelled before its first step never enters _body's try.
        if task.cancelled():
            self._job.done(Outcome("terminate", self._job.now()))

    def _on_loop(self, callback) -> None:  # type: ignore[no-untyped-def]
        loop = self._job.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            callback()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(callback)

    def stop(self) -> None:
        if self._flag_event is not None:
            self._flag_event.set()
        self._on_loop(self._task.cancel)

    def force(self) -> None:
        # The coroutine swallowed the first CancelledError: cancel again.
        self._on_loop(self._task.cancel)


def start(job: Job) -> AsyncHandle:
    return AsyncHandle(job)
