"""What a process run's child does, once the zygote has forked it.

The parent passes three or four pipe ends: the payload to read (the
function and the run's arguments, cloudpickled, so functions, lambdas and
closures defined in a notebook's ``__main__`` work), the result to write
(messages, ``channel.py``: progress reports, then the report — plain pickle of
strings and the return value's own pickle: an unpicklable return value is
never a problem, its ``repr()`` is taken here instead), the termination flag
(readable once the parent sets it), and, when output is captured, the pipe
that becomes the child's file descriptors 1 and 2. Only the child itself
writes messages: a copy that the task forks and that returns from it exits
without a word (its process group dies with the run anyway).
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

# Imported here, so that the zygote has them loaded before it forks a child.
from ...args import Progress, TerminationFlag
from ..call import Report, call_away, params_with_default
from ..capture import LOG_FORMAT, set_log_levels
from ..output import Coalescer
from .channel import frame

_PR_SET_PDEATHSIG = 1


class PipeFlagEvent:
    """The child's side of the run's termination flag: set once the parent
    writes to (or closes) the flag pipe."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._set = False

    def is_set(self) -> bool:
        return self.wait(0)

    def wait(self, timeout: float | None = None) -> bool:
        if not self._set:
            readable, _, _ = select.select([self._fd], [], [], timeout)
            self._set = bool(readable)
        return self._set


def _die_with_parent(parent_pid: int) -> None:
    # The kernel may be killed with SIGKILL: the child must not outlive it.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's cleanup still applies
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _on_sigterm(flag: PipeFlagEvent):  # type: ignore[no-untyped-def]
    def handler(signum: int, frame: object) -> None:
        if not flag.is_set():
            # Not the scheduler (it sets the flag before it signals): die of the
            # signal, as the sender meant, so the run is recorded as killed by it.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        from notebook_sched.exc import TaskTerminationException

        raise TaskTerminationException(f"terminated by the scheduler (signal {signum})")

    return handler


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


class Messages:
    """The child's end of the result pipe: progress reports (coalesced),
    then the report."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        # The run's own child writes here; a copy it forks (os.fork() in the
        # task) inherits the pipe but must never speak for the run.
        self._owner = os.getpid()
        self.progress = Coalescer(self._send_progress)

    def _send_progress(self, value: tuple[float, str]) -> None:
        if os.getpid() == self._owner:
            self._write(frame("progress", value))

    def report(self, message: Report) -> None:
        if os.getpid() != self._owner:
            return  # a forked copy that returned from the task: not the run's outcome
        with self.progress.lock:
            self.progress.close()
            self._write(frame("report", message))
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
    """Make ``fd`` this child's file descriptors 1 and 2, with ``sys.stdout``
    line-buffered (as at a terminal), so a ``print`` reaches the record when
    it is made."""
    _flush_streams()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    # New streams: the zygote's may be absent, and their encoding is the
    # zygote's locale's, where the kernel reads UTF-8.
    for name, number in (("stdout", 1), ("stderr", 2)):
        stream = open(  # noqa: SIM115 (the process's own, for its whole life)
            number, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
        )
        setattr(sys, name, stream)


def _log_to_output(levels: dict[str, int]) -> None:
    """Log records as lines of the output (``LEVEL logger: message``), at
    the levels the kernel's loggers have."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger().addHandler(handler)
    set_log_levels(levels)


def run_child(
    payload_fd: int, result_fd: int, flag_fd: int, parent_pid: int, output_fd: int = -1
) -> None:
    """Run the task in this (freshly forked) process, report, and exit."""
    os.setpgid(0, 0)  # its own group: a kernel interrupt does not reach it
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a kernel interrupt is not for us
    flag_event = PipeFlagEvent(flag_fd)
    signal.signal(signal.SIGTERM, _on_sigterm(flag_event))
    if output_fd >= 0:
        _capture_output(output_fd)
    messages = Messages(result_fd)
    message: Report
    try:
        sys_path, cwd, env, blob, args, levels = pickle.loads(_read_all(payload_fd))
        # The zygote started long ago: take the kernel's present directory,
        # environment and import path, as a fresh process would.
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        sys.path[:] = sys_path
        if levels is not None:
            _log_to_output(levels)
        func, flag_params = pickle.loads(blob)  # made by payload.serialize
        kwargs: dict[str, object] = dict.fromkeys(flag_params, TerminationFlag(flag_event))
        if args:
            kwargs.update(pickle.loads(args))  # made by payload.serialize_args
        for name in params_with_default(func, Progress):
            kwargs[name] = Progress(messages.progress)
        message = call_away(func, kwargs)
    except BaseException as exc:  # the payload itself could not be loaded
        import traceback

        message = ("fail", "".join(traceback.format_exception(exc)).rstrip(), None, None)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the run is over: do not cut the report
    _flush_streams()  # what it wrote goes first: the kernel reads the output up to the report
    messages.report(message)  # nothing, in a copy the task forked
    os._exit(0)  # the run is over: threads the task left behind must not keep the child alive
