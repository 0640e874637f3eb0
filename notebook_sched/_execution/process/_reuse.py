"""A process run's child kept for the next process run, when that is safe.

A fork and an exit per run are most of what a short process run costs
(issue 16: 10,000 runs on two slots), so a child whose run is over asks the
zygote for the next one instead of exiting (``_workers`` is the zygote's
side). It is still one process per run at a time, the leader of a group of
its own that a kernel interrupt does not reach; what changes is that a
group that holds nothing but it outlives the run.

It is kept only when nothing of the run is left in it, and otherwise exits
as every child did before (the zygote kills its group):
  * the kernel has let go of the run (``released``): no signal of the run's
    termination can come after this, so none can reach the next run; a run
    whose termination was asked for, by the kernel or at its deadline by
    the zygote, is never followed by another in its process;
  * no thread but the main one, and no child process: the worker is its
    descendants' subreaper (``PR_SET_CHILD_SUBREAPER``), so what a run
    forked stays its descendant, orphaned or not, however it detached;
  * no signal handler, timer or blocked signal the run set, no handler it
    added to the root logger, no logging level it changed, standard
    streams not closed.
What a run changed that can be put back exactly is put back: what it
left buffered in the streams (Python's, the C library's) goes into its own
output first; file descriptors 1 and 2 and ``sys.stdout``/``sys.stderr``,
the warning filters and their once-only registries (every run shows its
warnings), and the kernel's directory, environment and import path
(``_context``) — or the kernel's new ones, which come with the next run.
What a run's imports left in memory (modules and their state) stays, as in
any pool of worker processes: a module-level task function is imported
once per worker, not once per run.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import socket
import sys
import warnings
from collections.abc import Callable
from typing import Any

from . import _context
from .channel import RELEASE

__all__ = ["Worker", "released"]

_PR_SET_CHILD_SUBREAPER = 36
_RELEASE_WAIT = 5.0  # seconds: a kernel that takes longer costs a fork, not a wait
_PACKET = 1 << 16
_MAX_FDS = 6
_TIMERS = (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF)
_UNTOUCHED = (signal.SIGTERM, signal.SIGKILL, signal.SIGSTOP)  # SIGTERM: set per run

#: What the next run is: its payload (or the pipe to read it from), its result
#: pipe, its termination flag and its output pipe (-1 when not captured).
NextRun = tuple[bytes | int, int, int, int]


def _handlers() -> list[object]:
    return [signal.getsignal(s) for s in signal.valid_signals() if s not in _UNTOUCHED]


def released(flag_fd: int) -> bool:
    """Wait for the kernel to let go of the run; ``False`` if its
    termination was asked for (a byte other than ``RELEASE``), or the kernel
    did not answer in time."""
    watched = select.poll()  # not select(): a run may have left descriptors past 1,023
    watched.register(flag_fd, select.POLLIN)
    while True:
        if not watched.poll(_RELEASE_WAIT * 1000):
            return False
        data = os.read(flag_fd, 64)
        if not data:  # the kernel closed it: it is done with the run
            return True
        if data.strip(RELEASE):
            return False
        if RELEASE in data:
            return True


class Worker:
    """This child's state between runs, and what it was before the first."""

    def __init__(
        self,
        link: int,
        prctl: Callable[..., Any] | None,
        streams: tuple[Any, Any] | None,
        log_handler: logging.Handler | None,
    ) -> None:
        self._link = socket.socket(fileno=link)
        if prctl is not None:
            prctl(_PR_SET_CHILD_SUBREAPER, 1)
        self._children = f"/proc/{os.getpid()}/task/{os.getpid()}/children"
        self._streams = streams
        self._log_handler = log_handler
        try:
            self._fflush: Callable[..., Any] | None = ctypes.CDLL(None).fflush
        except (OSError, AttributeError):
            self._fflush = None
        # What file descriptors 1 and 2 are while no run's output is captured.
        self._stdio = (os.dup(1), os.dup(2))
        self._sys_streams = (sys.stdout, sys.stderr)
        self._handlers = _handlers()
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        self._root_handlers = list(logging.root.handlers)
        self._disabled = logging.root.manager.disable
        self._filters = list(warnings.filters)
        self._showwarning = warnings.showwarning

    def fit_after(self, flag_fd: int, captured: bool) -> bool:
        """After the run's report: whether this process may serve another run."""
        if not released(flag_fd):
            return False
        self._put_back(captured)
        return self._nothing_left()

    def _put_back(self, captured: bool) -> None:
        # What is still buffered is the run's: into its pipe, before its last
        # message (the kernel reads the output up to that), not the next run's.
        for stream in (*(self._streams or ()), sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # closed, or not a stream at all
                stream.flush()
        if self._fflush is not None:
            self._fflush(None)  # the C library's own buffers (C code's printf)
        if captured:
            for number, saved in zip((1, 2), self._stdio, strict=True):
                os.dup2(saved, number)  # the output pipe's write end is closed here
            if self._log_handler is not None:
                logging.root.removeHandler(self._log_handler)
        sys.stdout, sys.stderr = self._sys_streams
        if warnings.filters != self._filters:
            warnings.filters[:] = self._filters  # type: ignore[index]  # a list, at run time
        warnings.showwarning = self._showwarning
        warnings.onceregistry.clear()  # type: ignore[attr-defined]
        warnings._filters_mutated()  # type: ignore[attr-defined]  # clears every __warningregistry__

    def _nothing_left(self) -> bool:
        if len(os.listdir(f"/proc/{os.getpid()}/task")) != 1:
            return False  # a thread the run started is alive
        try:
            with open(self._children) as f:
                if f.read().strip():
                    return False  # a process the run started, or one orphaned under it
        except OSError:
            return False
        streams = (*self._sys_streams, *(self._streams or ()))
        return (
            not any(stream is None or stream.closed for stream in streams)
            and _handlers() == self._handlers
            and all(signal.getitimer(timer) == (0.0, 0.0) for timer in _TIMERS)
            and signal.pthread_sigmask(signal.SIG_BLOCK, []) == self._mask
            and logging.root.handlers == self._root_handlers
            and logging.root.manager.disable == self._disabled
            and _context.levels_kept()
        )

    def idle(self) -> None:
        """Tell the zygote this process is free for the next run."""
        self._link.send(b"I")

    def next_run(self) -> NextRun | None:
        """Wait for the zygote's next run (``_workers.Workers.hand``);
        ``None`` when it ends this process instead."""
        try:
            message, fds, _, _ = socket.recv_fds(self._link, _PACKET, _MAX_FDS)
        except OSError:
            return None
        if not message:
            return None
        kind, with_context, data = message[:1], message[1:2], message[2:]
        if with_context == b"1":
            context = fds.pop()
            size = os.fstat(context).st_size
            taken = os.pread(context, size, 0)
            os.close(context)
            _context.take(taken)
        else:
            _context.restore()
        payload: bytes | int = fds.pop() if kind == b"s" else data
        result_fd, flag_fd, *output = fds
        return payload, result_fd, flag_fd, output[0] if output else -1
