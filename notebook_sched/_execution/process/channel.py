"""What comes back from a process run, and how the kernel reads it.

Two pipes come back from a child. Its result pipe carries messages, each a
length-prefixed pickle of ``(kind, value)``: from the child ``("pid", pid)``
first, ``("progress", (fraction, message))`` any number of times, then
``("report", (status, error, result))`` once; and last, from the zygote once
the child has exited and its process group is gone, ``("exited", exit
code)`` — after ``("deadline", None)`` if the zygote ended the run at its
deadline (``_deadlines``) — or ``("exited", 0)`` from the child itself when
it is kept for the next run with nothing of this one left (``_reuse``).
Its output pipe — file descriptors 1 and 2 of the child, when output is
captured — carries raw bytes: whatever the child, C code in it and
processes it starts write.

The kernel's waiter thread reads both with one ``poll`` until the
last message — not until end of file, which a grandchild that
inherited a pipe could hold off long after the run is over — or until the
zygote is gone (its pidfd, watched too). ``poll``, not ``select``: a kernel
holding more than 1,024 open files gets descriptors that ``select`` refuses.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["RELEASE", "Ended", "frame", "read_child"]

#: Written on a run's termination flag by the kernel once the child's report
#: has come: no signal of the run's termination follows, so the child may
#: serve the next run (``_reuse``). Any other byte there is a termination.
RELEASE = b"r"
_HEADER = 8
_CHUNK = 1 << 16


def frame(kind: str, value: object) -> bytes:
    """One message of a child's result pipe."""
    data = pickle.dumps((kind, value))
    return len(data).to_bytes(_HEADER, "big") + data


class Ended(NamedTuple):
    """How a run's reading ended."""

    report: Any  # the child's report, or None if it sent none
    exit: int | str | None  # its exit code; why it never started (str); None: the zygote died
    at_deadline: bool = False  # the zygote ended it at its deadline


def read_child(
    result_fd: int,
    output_fd: int,
    zygote_fd: int,
    on_output: Callable[[bytes], object] | None,
    on_progress: Callable[[float, str], None] | None,
    on_pid: Callable[[int], None],
    on_report: Callable[[], None] | None = None,
) -> Ended:
    """Read a run's pipes until the last message on them, or until the
    zygote (whose pidfd is ``zygote_fd``) is gone. ``output_fd`` is ``-1``
    when the output is not captured. ``on_report`` is called when the
    child's report has come. Both descriptors are closed on return."""
    reader = _Messages(on_progress, on_pid, on_report)
    watched = select.poll()
    for fd in (result_fd, output_fd, zygote_fd):
        if fd >= 0:
            watched.register(fd, select.POLLIN)
    try:
        while not reader.over:
            readable = {fd for fd, _ in watched.poll()}
            if output_fd in readable and not _read_output(output_fd, on_output):
                watched.unregister(output_fd)
            if result_fd in readable:
                chunk = os.read(result_fd, 1 << 20)
                if not chunk:  # the zygote is gone (it holds the pipe until its last message)
                    break
                reader.take(chunk)
            elif zygote_fd in readable:  # gone: take what the child wrote, if anything
                _drain(result_fd, reader.take)
                break
        if output_fd >= 0:
            # Written before the report (or the exit): already in the pipe.
            _drain(output_fd, on_output)
    finally:
        for fd in (result_fd, output_fd):
            if fd >= 0:
                os.close(fd)
    return Ended(reader.report, reader.exit, reader.at_deadline)


def _read_output(fd: int, on_output: Callable[[bytes], object] | None) -> bool:
    chunk = os.read(fd, _CHUNK)
    if chunk and on_output is not None:
        on_output(chunk)
    return bool(chunk)


def _drain(fd: int, take: Callable[[bytes], object] | None) -> None:
    os.set_blocking(fd, False)
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, _CHUNK):
            if take is not None:
                take(chunk)


class _Messages:
    """The messages of one result pipe, as they come in chunks."""

    def __init__(
        self,
        on_progress: Callable[[float, str], None] | None,
        on_pid: Callable[[int], None],
        on_report: Callable[[], None] | None,
    ) -> None:
        self._on_progress = on_progress
        self._on_pid = on_pid
        self._on_report = on_report
        self._buffer = bytearray()
        self.report: Any = None
        self.exit: int | str | None = None
        self.at_deadline = False
        self.over = False

    def take(self, chunk: bytes) -> None:
        buffer = self._buffer
        buffer += chunk
        while len(buffer) >= _HEADER:
            size = int.from_bytes(buffer[:_HEADER], "big")
            if len(buffer) < _HEADER + size:
                break
            kind, value = pickle.loads(bytes(buffer[_HEADER : _HEADER + size]))
            del buffer[: _HEADER + size]
            if kind == "pid":
                self._on_pid(value)
            elif kind == "progress" and self._on_progress is not None:
                self._on_progress(*value)
            elif kind == "report" and self.report is None:
                self.report = value
                if self._on_report is not None:
                    self._on_report()
            elif kind == "deadline":
                self.at_deadline = True
            elif kind == "exited":
                self.exit, self.over = value, True
