"""What a process run's child sends back while it runs, and how the kernel
reads it.

Two pipes come back from a child. Its result pipe carries messages, each a
length-prefixed pickle of ``(kind, value)``: ``("progress", (fraction,
message))`` any number of times, then ``("report", (status, error, result))``
once. Its output pipe — file descriptors 1 and 2 of the child, when output is
captured — carries raw bytes: whatever the child, C code in it and processes
it starts write.

The kernel's waiter thread reads both with one ``select`` until the report is
whole or the child is gone — not until end of file, which a grandchild that
inherited a pipe could hold off long after the run is over.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
from collections.abc import Callable
from typing import Any

__all__ = ["frame", "read_child"]

_HEADER = 8
_CHUNK = 1 << 16


def frame(kind: str, value: object) -> bytes:
    """One message of a child's result pipe."""
    data = pickle.dumps((kind, value))
    return len(data).to_bytes(_HEADER, "big") + data


def read_child(
    result_fd: int,
    output_fd: int,
    pid: int,
    on_output: Callable[[bytes], object] | None,
    on_progress: Callable[[float, str], None] | None,
) -> Any:
    """Read a child's pipes until its report (returned), or until it is gone
    (``None``). ``output_fd`` is ``-1`` when its output is not captured. Both
    descriptors are closed on return."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # already gone (and reaped), or no pidfd: end of file will do
        pidfd = -1
    messages = bytearray()
    report: Any = None
    watched = [fd for fd in (result_fd, output_fd, pidfd) if fd >= 0]
    try:
        while report is None and result_fd in watched:
            readable, _, _ = select.select(watched, [], [])
            if output_fd in readable and not _read_output(output_fd, on_output):
                watched.remove(output_fd)
            if result_fd in readable:
                chunk = os.read(result_fd, 1 << 20)
                if not chunk:
                    watched.remove(result_fd)
                messages += chunk
                report = _take_messages(messages, on_progress)
            elif pidfd in readable:  # the child exited: take what it wrote, if anything
                _drain(result_fd, messages.extend)
                report = _take_messages(messages, on_progress)
                break
        if output_fd >= 0:
            # Written before the report (or the exit): already in the pipe.
            _drain(output_fd, on_output)
    finally:
        for fd in (result_fd, output_fd, pidfd):
            if fd >= 0:
                os.close(fd)
    return report


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


def _take_messages(messages: bytearray, on_progress: Callable[[float, str], None] | None) -> Any:
    """Handle the whole messages in ``messages`` (removing them); the report, if one came."""
    while len(messages) >= _HEADER:
        size = int.from_bytes(messages[:_HEADER], "big")
        if len(messages) < _HEADER + size:
            break
        kind, value = pickle.loads(bytes(messages[_HEADER : _HEADER + size]))
        del messages[: _HEADER + size]
        if kind == "report":
            return value
        if kind == "progress" and on_progress is not None:
            on_progress(*value)
    return None
