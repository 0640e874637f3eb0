"""Arguments the scheduler passes into task functions."""

from __future__ import annotations

from typing import Protocol

__all__ = ["TerminationFlag"]


class _Event(Protocol):
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class TerminationFlag:
    """Set when termination of the run that received it is requested.

    Use an instance as a parameter default to ask for it::

        @app.task(execution="thread")
        def work(flag=TerminationFlag()):
            while not flag.is_set():
                ...

    The scheduler then passes the run's own flag. It is set at once on
    timeout, end condition, forced shutdown or ``Task.terminate()``, in thread,
    process and async runs alike.
    """

    __slots__ = ("_event",)

    def __init__(self, _event: _Event | None = None) -> None:
        if _event is None:
            import threading

            _event = threading.Event()
        self._event = _event

    def is_set(self) -> bool:
        """Whether termination was requested."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the flag is set or ``timeout`` seconds pass; return
        whether it is set. (In an async run, prefer ``is_set()`` between awaits:
        the run is cancelled anyway.)"""
        return self._event.wait(timeout)

    def __reduce__(self) -> tuple[type[TerminationFlag], tuple[()]]:
        # A process task's function travels pickled by value, defaults included:
        # the default flag is only a marker (the child gets the run's own flag),
        # so it travels as a fresh, unset one instead of its lock.
        return (TerminationFlag, ())

    def __repr__(self) -> str:
        return f"TerminationFlag(set={self.is_set()})"
