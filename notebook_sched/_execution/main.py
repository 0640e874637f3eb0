"""``execution="main"``: the function runs synchronously on the scheduler's
loop. Nothing can interrupt it, so it cannot be terminated."""

from __future__ import annotations

import threading

from ..args import TerminationFlag
from .base import Job, outcome_of_error, outcome_of_value

__all__ = ["start"]


class MainHandle:
    def __init__(self, job: Job) -> None:
        self._flag_event = threading.Event()
        try:
            value = job.func(**job.kwargs(TerminationFlag(self._flag_event)))
        except BaseException as exc:  # the scheduler must outlive any task
            outcome = outcome_of_error(exc, job.now())
        else:
            outcome = outcome_of_value(value, job.now())
        job.done(outcome)

    def stop(self) -> None:
        self._flag_event.set()

    def force(self) -> None:
        """A synchronous run cannot be interrupted."""


def start(job: Job) -> MainHandle:
    return MainHandle(job)
