"""Exceptions of notebook_sched."""

from __future__ import annotations

__all__ = ["SchedulerNotRunning", "TaskTerminationException"]


class TaskTerminationException(Exception):
    """Raised inside a run to stop it.

    A task may raise it itself when its ``TerminationFlag`` is set; the
    scheduler injects it into a thread run that has not stopped within the
    grace period, and raises it in a process run's child on SIGTERM. A run that
    ends with it is recorded as ``"terminate"``.
    """


class SchedulerNotRunning(RuntimeError):
    """An action needs a running scheduler (for example ``Task.run()`` on a
    stopped one)."""
