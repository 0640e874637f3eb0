"""Capturing what thread, async and main runs write, into their own records.

These runs share the kernel's process, its ``sys.stdout`` and ``sys.stderr``
and its loggers with the user's cells. A context variable says which run, if
any, the code now running belongs to; everything below reads it, and does
exactly what it did before when no run is current:

* ``sys.stdout`` and ``sys.stderr`` are wrapped once (``install``) by
  ``RunAwareStream``: a write from a run goes to the run's buffer; any other
  write — a cell's, the kernel's — goes to the wrapped stream as before, so a
  cell shows only its own lines while fifty tasks print. (Everything else,
  ``set_parent``, ``fileno``, ``isatty``…, is the wrapped stream's.)
* A log record emitted in a run becomes one line of its output
  (``LEVEL logger: message``). The user's handlers still get it, except those
  that would print it to the notebook — a ``StreamHandler`` on a standard
  stream — since the record already holds it: not lost, not logged twice.
* Warnings are written to ``sys.stderr`` by ``warnings.showwarning``: they
  follow.
* Context variables follow asyncio tasks and callbacks on their own; for
  threads they do not, so a thread started in a run (``threading.Thread``,
  ``ThreadPoolExecutor.submit``, ``loop.run_in_executor``) is given the run
  it was started in. These two small patches of the standard library act only
  when a run is current.

C code writing to file descriptors 1 and 2 from a thread run is not caught:
one process has one pair of descriptors. A process run's are its own
(``process/``).
"""

from __future__ import annotations

import concurrent.futures.thread as futures_thread
import contextvars
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, TextIO

from .output import OutputBuffer

__all__ = [
    "CURRENT",
    "LOG_FORMAT",
    "RunAwareStream",
    "install",
    "log_levels",
    "log_line",
    "set_log_levels",
]

#: The output buffer of the run the running code belongs to, if any.
CURRENT: contextvars.ContextVar[OutputBuffer | None] = contextvars.ContextVar(
    "notebook_sched_run_output", default=None
)

#: How a log record reads as a line of a run's output, wherever the run runs.
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
_LINE = logging.Formatter(LOG_FORMAT)
_lock = threading.Lock()
_patched = False


class RunAwareStream:
    """``sys.stdout``/``sys.stderr`` as the kernel had them, but a run's
    writes go to that run's buffer."""

    def __init__(self, wrapped: TextIO) -> None:
        self._wrapped = wrapped

    @property
    def wrapped(self) -> TextIO:
        return self._wrapped

    def write(self, text: str) -> int:
        # Every print of a run passes here twice (its text, then its end): one
        # context-variable read, and the wrapped stream's own checks otherwise.
        buffer = CURRENT.get()
        if buffer is not None:
            if not isinstance(text, str):
                raise TypeError(f"write() argument must be str, not {type(text).__name__}")
            if buffer.write(text):
                return len(text)
        return self._wrapped.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if CURRENT.get() is None:
            self._wrapped.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)

    def __repr__(self) -> str:
        return f"<notebook_sched run-aware stream over {self._wrapped!r}>"


def install() -> None:
    """Wrap the standard streams (again, if something replaced them since)
    and patch logging and threading (once). Cheap when already done."""
    if isinstance(sys.stdout, RunAwareStream) and isinstance(sys.stderr, RunAwareStream):
        return
    global _patched
    with _lock:
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is not None and not isinstance(stream, RunAwareStream):
                setattr(sys, name, RunAwareStream(stream))
        if not _patched:
            _patched = True
            _patch_logging()
            _patch_threads()


def log_line(record: logging.LogRecord) -> str:
    """A log record as a line of a run's output."""
    try:
        return _LINE.format(record) + "\n"
    except Exception as exc:  # bad arguments for its message: say so, do not lose it
        return f"{record.levelname} {record.name}: {record.msg!r} (unformattable: {exc!r})\n"


class _Unchanged:
    """The mark ``log_levels`` leaves in the root logger's level cache."""


_UNCHANGED = _Unchanged()
_levels: dict[str, int] | None = None


def log_levels() -> dict[str, int]:
    """The levels set on this process's loggers, root (``""``) included: a
    process child or a Ray worker logs what the kernel would. (Not to be
    changed: the same dict is given while no level changes.)

    Read for every process and Ray run, and a kernel has a hundred loggers
    or more (90 us to read them, on the run's way out): so they are read
    again only after a level changed. ``Logger.setLevel`` and
    ``logging.disable`` empty every logger's level cache, the root's too,
    where a mark of ours stays as long as nothing did. (A level assigned to
    ``logger.level`` directly, bypassing ``setLevel``, goes unseen.)"""
    global _levels
    root = logging.getLogger()
    if _levels is not None and _UNCHANGED in root._cache:  # type: ignore[attr-defined]
        return _levels
    # Marked first: a level that changes while they are read clears the mark.
    root._cache[_UNCHANGED] = True  # type: ignore[attr-defined]
    levels: dict[str, int] = {}
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        level = getattr(logger, "level", logging.NOTSET)  # a PlaceHolder has none
        if level != logging.NOTSET:
            levels[name] = level
    levels[""] = root.level
    _levels = levels
    return levels


def set_log_levels(levels: dict[str, int]) -> None:
    """Give this process's loggers the levels ``log_levels()`` read elsewhere."""
    for name, level in levels.items():
        logging.getLogger(name or None).setLevel(level)


def _prints_to_notebook(handler: logging.Handler) -> bool:
    if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
        return False
    stream = handler.stream
    if isinstance(stream, RunAwareStream) or stream in (sys.__stdout__, sys.__stderr__):
        return True
    return any(
        isinstance(s, RunAwareStream) and s.wrapped is stream for s in (sys.stdout, sys.stderr)
    )


def _patch_logging() -> None:
    call_handlers = logging.Logger.callHandlers

    def call_handlers_in_runs(self: logging.Logger, record: logging.LogRecord) -> None:
        buffer = CURRENT.get()
        if buffer is None or not buffer.write(log_line(record)):
            call_handlers(self, record)
            return
        # The run's record holds it: the user's handlers get it, but for
        # those that would print it into a cell (and ``lastResort``).
        logger: logging.Logger | None = self
        while logger is not None:
            for handler in logger.handlers:
                if record.levelno >= handler.level and not _prints_to_notebook(handler):
                    handler.handle(record)
            logger = logger.parent if logger.propagate else None

    logging.Logger.callHandlers = call_handlers_in_runs  # type: ignore[method-assign]


def _in_run(buffer: OutputBuffer, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    token = CURRENT.set(buffer)
    try:
        return func(*args, **kwargs)
    finally:
        CURRENT.reset(token)


def _patch_threads() -> None:
    start = threading.Thread.start
    submit = futures_thread.ThreadPoolExecutor.submit

    def start_in_run(self: threading.Thread) -> None:
        buffer = CURRENT.get()
        # A pool's worker serves whoever submits later: its items carry their own run.
        if buffer is not None and getattr(self, "_target", None) is not futures_thread._worker:
            run = self.run
            self.run = lambda: _in_run(buffer, run)  # type: ignore[method-assign]
        start(self)

    def submit_in_run(
        self: futures_thread.ThreadPoolExecutor,
        fn: Callable[..., Any],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> Future[Any]:
        buffer = CURRENT.get()
        if buffer is None:
            return submit(self, fn, *args, **kwargs)
        return submit(self, _in_run, buffer, fn, *args, **kwargs)

    threading.Thread.start = start_in_run  # type: ignore[method-assign]
    futures_thread.ThreadPoolExecutor.submit = submit_in_run  # type: ignore[method-assign,assignment]
