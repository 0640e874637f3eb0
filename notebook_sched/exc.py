"""The exceptions notebook_sched raises, and the one a task raises to stop.

Each lives here, not in the module that raises it, so user code catches them
by one public name: ``from notebook_sched.exc import RunStoreError``.
"""

from __future__ import annotations

__all__ = ["RunStoreError", "SchedulerNotRunning", "TaskTerminationException"]


class TaskTerminationException(Exception):
    """Raised inside a run to stop it.

    A task may raise it itself when its ``TerminationFlag`` is set; the
    scheduler injects it into a thread run that has not stopped within the
    grace period, and raises it in a process run's child on SIGTERM. A run that
    ends with it is recorded as ``"terminate"``.

    Example:
        ```python
        @app.task(execution="thread")
        def poll(flag=TerminationFlag()):
            while True:
                ...
                if flag.is_set():
                    raise TaskTerminationException()
        ```
    """


class SchedulerNotRunning(RuntimeError):
    """An action needs a running scheduler.

    Raised by ``Task.run()`` on a stopped scheduler (call ``app.start()``
    first). A ``RuntimeError``, so ``except RuntimeError`` still catches it.
    """


class RunStoreError(ValueError):
    """The run history file (``runs_db``) cannot serve.

    Raised when the ``Scheduler`` is constructed with a ``runs_db`` path that
    cannot be opened or created, is not a SQLite database, was written by a
    newer notebook_sched, or stays locked by another process. The message
    names the path and the reason.
    """


def __dir__() -> list[str]:
    return sorted(__all__)
