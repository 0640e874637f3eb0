"""``execution="thread"``: a worker thread. Terminated by its flag first, then
by ``TaskTerminationException`` injected into the thread.

The thread is one kept for the next run (``waiters.py``), not a new one per
run: starting a thread makes the scheduler's loop wait until the new thread
has run, which under the GIL pressure of a busy scheduler (thousands of
thread runs a second) was milliseconds per run, on the loop.

An injected exception goes to a thread by its ident, and a worker serves
one run after another (and idents of ended threads are reused): injected
after its run's function, it would land in the worker's next run, or in
whichever thread got the ident. So the worker and the injector agree under
one lock: the ident is there to be injected into only while the worker is
in this run's function (``_enter`` to ``_leave``), and one injected while
the worker waited to leave is swallowed there. The worker must also report
whatever happens around the function — when the task filled memory,
building that report can fail; then the report made when the run started is
the one sent.
"""

from __future__ import annotations

import ctypes
import threading
import time

from ..args import TerminationFlag
from ..exc import TaskTerminationException
from .base import Executor, Job, Outcome
from .call import call
from .capture import CURRENT
from .waiters import wait_in_thread

__all__ = ["start"]

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int

UNREPORTED = "MemoryError: the run's outcome could not be built (out of memory)"
_REPORT_PAUSES = (0.01, 0.1, 1.0)  # what the task held is being freed meanwhile


class ThreadHandle:
    # Slots, a flag's event only when the function takes a flag, and a plain
    # attribute for "over": each object a run holds is one more for the
    # garbage collector to move to its old generation while the run lives,
    # and thousands of thread runs a second fill that generation fast enough
    # to make the interpreter's full collections — pauses of the whole
    # kernel — several a second (figure 12).
    __slots__ = ("_flag_event", "_in_task", "_job", "_lock", "_over", "_unreported")

    def __init__(self, job: Job) -> None:
        self._job = job
        self._flag_event = threading.Event() if job.flag_params else None
        self._lock = threading.Lock()
        self._in_task: int | None = None  # the run thread's ident, while in the task's function
        # Made now: when the run ends there may be no memory left to make it.
        self._unreported = Outcome("fail", job.now(), error=UNREPORTED)
        self._over = False  # the worker is done with this run (set once, by the worker)
        wait_in_thread(self._body)

    def _body(self) -> None:
        job = self._job
        worker = threading.current_thread()
        name, worker.name = worker.name, f"notebook_sched:{job.task}:{job.run_id}"
        token = CURRENT.set(job.output)  # this run's (None: not captured)
        try:
            self._serve()
        finally:
            CURRENT.reset(token)  # the worker serves other runs next
            worker.name = name
            self._over = True

    def _serve(self) -> None:
        job = self._job
        outcome = self._unreported
        try:
            event = self._flag_event
            kwargs = job.kwargs(TerminationFlag(event) if event is not None else None)
            self._enter()
            outcome = call(
                job.func, kwargs, job.now, run_coroutine=job.is_async, finished=self._leave
            )
        except BaseException as exc:  # around the function, not in it: out of memory, say
            self._leave()
            outcome = self._outcome_of_own_error(exc)
        self._report(outcome)

    def _enter(self) -> None:
        with self._lock:
            self._in_task = threading.get_ident()

    def _leave(self) -> None:
        # From here on nothing is injected: the outcome is being built. One
        # injected while this thread waited for the lock is raised as soon as
        # it has it — swallowed here: the function is over already.
        while True:
            try:
                with self._lock:
                    self._in_task = None
                return
            except TaskTerminationException:
                continue

    def _outcome_of_own_error(self, exc: BaseException) -> Outcome:
        try:
            if isinstance(exc, TaskTerminationException):  # injected before the function began
                return Outcome("terminate", self._job.now())
            return self._unreported._replace(end=self._job.now())
        except BaseException:
            return self._unreported  # ended when it started, as far as the record can tell

    def _report(self, outcome: Outcome) -> None:
        for pause in _REPORT_PAUSES:
            try:
                self._job.done(outcome)
                return
            except MemoryError:
                time.sleep(pause)
        self._job.done(outcome)

    def stop(self) -> None:
        if self._flag_event is not None:
            self._flag_event.set()

    def force(self) -> None:
        # Raised at the thread's next bytecode; a thread blocked in a C call
        # (time.sleep, a socket read) only sees it when the call returns.
        with self._lock:
            if self._in_task is not None:
                _set_async_exc(self._in_task, TaskTerminationException)

    def is_alive(self) -> bool:
        return not self._over


start: Executor = ThreadHandle
