"""``execution="process"``: a child process in its own process group,
forked by the zygote (a few milliseconds, where a new interpreter costs tens).

The function travels with cloudpickle (``payload.py``), so functions, lambdas
and closures defined in a notebook cell work. Termination: the flag is set and
SIGTERM sent at once (the child raises ``TaskTerminationException``, so
``finally`` blocks run), SIGKILL after the grace period. A run's timeout is
also the zygote's to enforce (``_deadlines``): on time, even while a thread
of the kernel holds the GIL that the kernel's watchdog needs. Once the
child's report has come the run is let go of (``_release``): no signal of
its termination is sent after that, since the zygote may hand its process
the next run (``_reuse``). A waiter thread per
live run (``waiters.py``: kept for the next run) starts the child and waits
for it, so nothing ever blocks the scheduler's loop on ``join()``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
import time

from ..base import Executor, Job, Outcome
from ..call import Report, outcome_of_report
from ..payload import serialize, serialize_args
from ..waiters import wait_in_thread
from . import zygote
from .channel import RELEASE, read_child

__all__ = ["start"]


class ProcessHandle:
    def __init__(self, job: Job) -> None:
        # Made on the scheduler's loop: no system call here, the waiter makes
        # the pipes (a stop asked before then is kept and done then).
        self._job = job
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._exited = False
        self._released = False  # the report has come: no signal is sent from here on
        self._stop_requested = False
        self._kill_requested = False
        self._flag_w = -1
        wait_in_thread(self._serve)

    @property
    def pid(self) -> int | None:
        return self._pid

    def _serve(self) -> None:
        job = self._job
        what = "the task"
        try:
            blob = job.extra.get("payload") or serialize(job.func, job.flag_params)
            what = f"the run's arguments ({', '.join(job.args)})"
            args = serialize_args(dict(job.args)) if job.args else b""
            payload = pickle.dumps((blob, args, job.progress_params))  # for _child.run_child
        except Exception as exc:
            error = f"{what} cannot be sent to a child process: {exc!r}"
            job.done(Outcome("fail", job.now(), error=error))
            return
        flag_r, flag_w = os.pipe()
        with self._lock:
            self._flag_w = flag_w
            if self._stop_requested:
                os.write(flag_w, b"x")
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe() if job.output is not None else (-1, -1)
        given = (result_w, flag_r, output_w)
        try:
            zygote_fd = zygote.spawn(payload, *given, deadline=self._deadline(flag_w))
        except Exception as exc:
            for fd in (result_r, output_r):
                if fd >= 0:
                    os.close(fd)
            self._close_flag()
            job.done(Outcome("crash", job.now(), error=f"could not start the child: {exc!r}"))
            return
        finally:
            for fd in given:  # the zygote has its own copies now
                if fd >= 0:
                    os.close(fd)
        output = job.output.write_bytes if job.output is not None else None
        try:
            ended = read_child(
                result_r, output_r, zygote_fd, output, job.progress, self._started, self._release
            )
        except Exception as exc:  # a bug here must not leave the run alive for good
            self._lost(exc)
            return
        end = job.now()  # the child has exited, and its process group is gone
        with self._lock:
            self._exited = True
            if ended.at_deadline:
                self._stop_requested = True  # by the zygote: a signal it died of was ours
        self._close_flag()
        if ended.at_deadline and job.timeout is not None:
            job.timeout.reached()
        if ended.exit is None:
            # The zygote, which ends a run's process group, is gone: the child
            # died with it (PDEATHSIG); what it forked is ended from here.
            if self._pid is not None:
                with contextlib.suppress(OSError):
                    os.killpg(self._pid, signal.SIGKILL)
            job.done(Outcome("crash", end, error="the zygote process died during the run"))
        elif isinstance(ended.exit, str):
            job.done(Outcome("crash", end, error=f"could not start the child: {ended.exit}"))
        else:
            job.done(self._outcome(ended.report, ended.exit, end))

    def _lost(self, exc: Exception) -> None:
        """Reading the child failed: it is killed (with what it started),
        and the run ends as a crash saying why."""
        with self._lock:
            # Let go of (its report came): the process may serve another run now.
            pid = None if self._released else self._pid
            self._exited = True
        if pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        self._close_flag()
        error = f"the child process could not be followed, so it was killed: {exc!r}"
        self._job.done(Outcome("crash", self._job.now(), error=error))

    def _deadline(self, flag_w: int) -> tuple[float, float, int] | None:
        """What the zygote needs to end the run at its deadline itself."""
        timeout = self._job.timeout
        left = timeout.real_time_left() if timeout is not None else None
        if timeout is None or left is None:
            return None
        # time.monotonic() is CLOCK_MONOTONIC: the zygote's clock too.
        return time.monotonic() + left, timeout.grace, flag_w

    def _started(self, pid: int) -> None:
        """The child runs (its first message): signals asked for before go now."""
        with self._lock:
            self._pid = pid
            if self._kill_requested:
                self._signal(signal.SIGKILL)
            elif self._stop_requested:
                self._signal(signal.SIGTERM)

    def _release(self) -> None:
        """The child's report has come: the run is over but for its exit.
        From now on no signal is sent to it (the process may serve the next
        run once it has this, ``_reuse``) and a stop asked for is moot."""
        with self._lock:
            self._released = True
            if self._flag_w >= 0:
                with contextlib.suppress(OSError):  # the child is gone already
                    os.write(self._flag_w, RELEASE)

    def _outcome(self, report: Report | None, returncode: int, end: float) -> Outcome:
        if report is not None:
            return outcome_of_report(report, end)
        if returncode < 0:
            name = signal.Signals(-returncode).name
            if self._stop_requested:
                return Outcome("terminate", end, error=f"the child process was stopped by {name}")
            return Outcome("crash", end, error=f"the child process was killed by {name}")
        return Outcome(
            "crash", end, error=f"the child process exited with code {returncode} without a result"
        )

    def _close_flag(self) -> None:
        with self._lock:
            if self._flag_w >= 0:
                os.close(self._flag_w)
                self._flag_w = -1

    def _signal(self, sig: signal.Signals) -> None:
        # Under the lock: a signal is either sent before the release or not at all.
        pid = None if self._exited or self._released else self._pid
        if pid is None:
            return
        try:
            os.killpg(pid, sig)  # the child and whatever it started
        except ProcessLookupError:  # not yet its own group leader, or gone
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def stop(self) -> None:
        with self._lock:
            self._stop_requested = True
            if self._released:
                return
            if self._flag_w >= 0:
                # The child may have just exited (its end of the pipe is gone).
                with contextlib.suppress(BrokenPipeError):
                    os.write(self._flag_w, b"x")
            self._signal(signal.SIGTERM)

    def force(self) -> None:
        with self._lock:
            self._kill_requested = True
            self._signal(signal.SIGKILL)


start: Executor = ProcessHandle
