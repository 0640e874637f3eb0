"""``execution="main"``: the function runs synchronously on the scheduler's
loop. Nothing can interrupt it, so it cannot be terminated."""

from __future__ import annotations

import threading

from ..args import TerminationFlag
from ..exc import TaskTerminationException
from .base import Job, Outcome, failure_text, short_repr

__all__ = ["start"]


class MainHandle:
    def __init__(self, job: Job) -> None:
        self._flag_event = threading.Event()
        try:
            value = job.func(**job.kwargs(TerminationFlag(self._flag_event)))
        except TaskTerminationException as exc:
            outcome = Outcome("terminate", job.now(), error=failure_text(exc))
        except BaseException as exc:
            outcome = Outcome("fail", job.now(), error=failure_text(exc))
        else:
            outcome = Outcome("success", job.now(), result=short_repr(value))
        job.done(outcome)

    def stop(self) -> None:
        self._flag_event.set()

    def force(self) -> None:
        """A synchronous run cannot be interrupted."""


def start(job: Job) -> MainHandle:
    return MainHandle(job)
