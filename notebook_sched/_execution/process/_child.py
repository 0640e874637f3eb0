"""What a process run's child does, once the zygote has forked it — and
for each next run it is handed while its runs leave nothing behind
(``_reuse``).

The zygote passes the run's payload (the function and the run's arguments,
cloudpickled, so functions, lambdas and closures defined in a notebook's
``__main__`` work: in memory, or a pipe to read when it was too big for one
packet) and two or three pipe ends: the result to write (messages,
``channel.py``: the child's pid, progress reports, then the report — plain
pickle of strings and the return value's own pickle: an unpicklable return
value is never a problem, its ``repr()`` is taken here instead), the
termination flag (readable once the parent sets it), and, when output is
captured, the pipe that becomes the child's file descriptors 1 and 2. Only
the child itself writes messages: a copy that the task forks and that
returns from it exits without a word (its process group dies with the run
anyway).

What every child needs the same — the kernel's directory, environment,
import path and log levels, the C library's ``prctl``, the streams and log
handler of captured output — the zygote sets up once (``prepare``, and
``_context``), so that a child does only what is its own: a fork costs what
the run needs, no more.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import pickle
import select
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

# Imported here, so that the zygote has them loaded before it forks a child.
from ...args import Progress, TerminationFlag
from ..call import Report, call_away
from ..capture import LOG_FORMAT
from ..output import Coalescer
from ..payload import Unresolved  # noqa: F401 (a payload's pickle refers to this module)
from . import _context, _reuse
from .channel import frame

__all__ = ["prepare", "read_all", "run_child"]

_PR_SET_PDEATHSIG = 1

# Made by ``prepare`` in the zygote, once: what each child would make anew.
_prctl: Callable[..., Any] | None = None
_streams: tuple[Any, Any] | None = None
_log_handler: logging.Handler | None = None


def prepare() -> None:
    """In the zygote, before any fork: what every child needs the same."""
    global _prctl, _streams, _log_handler
    try:
        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the parent's cleanup still applies
        _prctl = None
    # The streams of captured output, for file descriptors 1 and 2 once the
    # child has made them its output pipe: line-buffered (as at a terminal),
    # so a ``print`` reaches the record when it is made, and UTF-8, which
    # the kernel reads (the zygote's own locale may be anything).
    _streams = tuple(  # type: ignore[assignment]
        open(  # noqa: SIM115 (a child's, for its whole life)
            number, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
        )
        for number in (1, 2)
    )
    assert _streams is not None
    _log_handler = logging.StreamHandler(_streams[1])
    _log_handler.setFormatter(logging.Formatter(LOG_FORMAT))


class PipeFlagEvent:
    """The child's side of the run's termination flag: set once the parent
    writes to (or closes) the flag pipe. ``on_set`` is called when a wait
    first finds it set."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._set = False
        self.on_set: Callable[[], None] | None = None

    def is_set(self) -> bool:
        return self.wait(0)

    def wait(self, timeout: float | None = None) -> bool:
        if not self._set and self._readable(timeout):
            self._set = True
            if self.on_set is not None:
                self.on_set()
        return self._set

    def seen(self) -> bool:
        """Whether it is set, without calling ``on_set``."""
        if not self._set:
            self._set = self._readable(0)
        return self._set

    def _readable(self, timeout: float | None) -> bool:
        readable, _, _ = select.select([self._fd], [], [], timeout)
        return bool(readable)


def _die_with_parent(parent_pid: int) -> None:
    # The kernel may be killed with SIGKILL: the child must not outlive it.
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class _Termination:
    """How the scheduler's termination reaches the task: the flag, then
    SIGTERM, which raises ``TaskTerminationException`` in the main thread —
    once, however many SIGTERMs arrive (the kernel and the zygote may both
    signal at the deadline, and a second exception would cut the task's
    finally blocks short).

    The main thread finding the flag set raises it too, while ``handler`` is
    SIGTERM's: the flag is set just before the signal is sent, so the signal
    is on its way, and a main thread that the flag woke from ``flag.wait()``
    would otherwise run ahead of it into the task's next blocking call. A
    signal that lands just before a system call begins does not interrupt
    it: its Python handler waits until the call returns — ``time.sleep(60)``
    after the flag's wait was a run SIGKILLed a grace later, its ``finally``
    blocks not run (2 runs in 200 under load).
    """

    def __init__(self, flag: PipeFlagEvent) -> None:
        self._flag = flag
        self._raised = False
        self.handler = self._on_sigterm  # one bound method: what getsignal() gives back
        flag.on_set = self._on_flag

    def _on_sigterm(self, signum: int, frame: object) -> None:
        if not self._flag.seen():
            # Not the scheduler (it sets the flag before it signals): die of the
            # signal, as the sender meant, so the run is recorded as killed by it.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        self._raise(f"signal {signum}")

    def _on_flag(self) -> None:
        # Not where the task made SIGTERM its own, nor in a thread of its
        # own (the signal raises in the main thread).
        if signal.getsignal(signal.SIGTERM) is self.handler and threading.current_thread() is (
            threading.main_thread()
        ):
            self._raise("its flag is set")

    def _raise(self, why: str) -> None:
        if self._raised:
            return
        self._raised = True
        from notebook_sched.exc import TaskTerminationException

        raise TaskTerminationException(f"terminated by the scheduler ({why})")


class Messages:
    """The child's end of the result pipe: progress reports (coalesced),
    then the report."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        # The run's own child writes here; a copy it forks (os.fork() in the
        # task) inherits the pipe but must never speak for the run.
        self._owner = os.getpid()
        self.progress = Coalescer(self._send_progress)
        # First, and in one write (so nothing else can come between): which
        # process the run is, for the kernel's signals.
        self._write(frame("pid", self._owner))

    def _send_progress(self, value: tuple[float, str]) -> None:
        if os.getpid() == self._owner:
            self._write(frame("progress", value))

    @property
    def own(self) -> bool:
        """Whether this process is the run's (not a copy the task forked)."""
        return os.getpid() == self._owner

    def report(self, message: Report) -> None:
        if not self.own:
            return  # a forked copy that returned from the task: not the run's outcome
        with self.progress.lock:
            self.progress.close()
            self._write(frame("report", message))

    def finish(self) -> None:
        """The run is over and nothing of it is left (``_reuse``): the last
        message, which the zygote sends for a child that exits."""
        self._write(frame("exited", 0))
        os.close(self._fd)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]


def _flush_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):  # closed by the task, say
                stream.flush()


def _capture_output(fd: int) -> None:
    """Make ``fd`` this child's file descriptors 1 and 2, with the streams
    and the log handler ``prepare`` made for them."""
    _flush_streams()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    if _streams is not None:
        sys.stdout, sys.stderr = _streams
    if _log_handler is not None:
        # Log records as lines of the output (``LEVEL logger: message``), at
        # the levels the kernel's loggers have (the zygote took them).
        logging.getLogger().addHandler(_log_handler)


def read_all(fd: int) -> bytes:
    """Everything ``fd`` gives until end of file; closes it."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def run_child(
    payload: bytes | int,
    result_fd: int,
    flag_fd: int,
    parent_pid: int,
    output_fd: int = -1,
    link: int = -1,
) -> None:
    """Run the task in this (freshly forked) process, report, and then serve
    the zygote's next runs on ``link`` while each leaves nothing behind
    (``_reuse``); exit when one does, or when the zygote says so.
    ``payload`` is the run's payload, or a pipe to read it from."""
    os.setpgid(0, 0)  # its own group: a kernel interrupt does not reach it
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a kernel interrupt is not for us
    worker = _reuse.Worker(link, _prctl, _streams, _log_handler) if link >= 0 else None
    while True:
        messages = _run(payload, result_fd, flag_fd, output_fd)
        if worker is None or not messages.own or not worker.fit_after(flag_fd, output_fd >= 0):
            # A copy the task forked, or a process the run left something in.
            os._exit(0)  # threads the task left behind must not keep the child alive
        # The zygote first, so it has this process free by the time the
        # kernel, told next, asks for another run.
        worker.idle()
        messages.finish()
        os.close(flag_fd)
        following = worker.next_run()
        if following is None:
            os._exit(0)
        payload, result_fd, flag_fd, output_fd = following


def _run(payload: bytes | int, result_fd: int, flag_fd: int, output_fd: int) -> Messages:
    """One run in this process, up to its report."""
    messages = Messages(result_fd)
    if output_fd >= 0:
        _capture_output(output_fd)
    flag_event = PipeFlagEvent(flag_fd)
    # Only now, next to the try: the exception raised from here on is the
    # run's outcome. (Raised before, it left this function with no report,
    # and the child exited with "no result".) A SIGTERM before now kills a
    # fresh child, as much a termination, and a kept one ignores it, as
    # between runs: the flag, set before any SIGTERM of the run is sent, is
    # looked at before the function is called.
    signal.signal(signal.SIGTERM, _Termination(flag_event).handler)
    message: Report
    try:
        if _context.error is not None:
            raise OSError(f"the kernel's directory cannot be entered here:\n{_context.error}")
        data = payload if isinstance(payload, bytes) else read_all(payload)
        blob, args, progress_params = pickle.loads(data)  # made by handle.py
        func, flag_params = pickle.loads(blob)  # made by payload.serialize
        kwargs: dict[str, object] = dict.fromkeys(flag_params, TerminationFlag(flag_event))
        if args:
            kwargs.update(pickle.loads(args))  # made by payload.serialize_args
        if progress_params:
            kwargs.update(dict.fromkeys(progress_params, Progress(messages.progress)))
        # Terminated before it began (its SIGTERM follows the first message,
        # and may land just before the task's first blocking call): ends here.
        flag_event.is_set()
        message = call_away(func, kwargs)
    except BaseException as exc:  # the payload itself could not be loaded
        import traceback

        message = ("fail", "".join(traceback.format_exception(exc)).rstrip(), None, None)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the run is over: do not cut the report
    _flush_streams()  # what it wrote goes first: the kernel reads the output up to the report
    messages.report(message)  # nothing, in a copy the task forked
    return messages
