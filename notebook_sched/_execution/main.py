"""``execution="main"``: the function runs synchronously on the scheduler's
loop. Nothing can interrupt it, so it cannot be terminated."""

from __future__ import annotations

import threading

from ..args import TerminationFlag
from .base import Executor, Job
from .call import call
from .capture import CURRENT

__all__ = ["start"]


class MainHandle:
    def __init__(self, job: Job) -> None:
        self._flag_event = threading.Event()
        kwargs = job.kwargs(TerminationFlag(self._flag_event))
        if job.output is None:
            job.done(call(job.func, kwargs, job.now))
            return
        token = CURRENT.set(job.output)
        try:
            outcome = call(job.func, kwargs, job.now)
        finally:
            CURRENT.reset(token)
        job.done(outcome)

    def stop(self) -> None:
        self._flag_event.set()

    def force(self) -> None:
        """A synchronous run cannot be interrupted."""


start: Executor = MainHandle
