"""``execution="thread"``: a worker thread. Terminated by its flag first, then
by ``TaskTerminationException`` injected into the thread."""

from __future__ import annotations

import ctypes
import threading

from ..args import TerminationFlag
from ..exc import TaskTerminationException
from .base import Executor, Job
from .call import call
from .capture import CURRENT

__all__ = ["start"]

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int


class ThreadHandle:
    def __init__(self, job: Job) -> None:
        self._job = job
        self._flag_event = threading.Event()
        self._finished = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._body, name=f"notebook_sched:{job.task}:{job.run_id}", daemon=True
        )
        self._thread.start()

    def _body(self) -> None:
        job = self._job
        if job.output is not None:
            CURRENT.set(job.output)  # this thread's context: the run's own
        kwargs = job.kwargs(TerminationFlag(self._flag_event))
        outcome = call(
            job.func, kwargs, job.now, run_coroutine=job.is_async, finished=self._no_more_injection
        )
        job.done(outcome)

    def _no_more_injection(self) -> None:
        # From here on no exception may be injected: the outcome is being built.
        with self._lock:
            self._finished = True

    def stop(self) -> None:
        self._flag_event.set()

    def force(self) -> None:
        # Raised at the thread's next bytecode; a thread blocked in a C call
        # (time.sleep, a socket read) only sees it when the call returns.
        with self._lock:
            ident = self._thread.ident
            if self._finished or ident is None:
                return
            _set_async_exc(ident, TaskTerminationException)

    def is_alive(self) -> bool:
        return self._thread.is_alive()


start: Executor = ThreadHandle
