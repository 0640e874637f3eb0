"""notebook_sched — a task scheduler that lives on the Jupyter kernel's loop.

Public names: ``Scheduler``, ``Task``, ``Session``, ``RunRecord``, and the
modules ``notebook_sched.conds``, ``notebook_sched.args``, ``notebook_sched.exc``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["RunRecord", "Scheduler", "Session", "Task", "__version__"]

if TYPE_CHECKING:
    from ._app import Scheduler
    from ._engine.scheduler import Session
    from ._engine.task import Task
    from ._history.records import RunRecord

_LAZY = {
    "Scheduler": "._app",
    "Session": "._engine.scheduler",
    "Task": "._engine.task",
    "RunRecord": "._history.records",
}


def __getattr__(name: str) -> Any:
    # Lazy, so a process run's child imports only what it needs and starts fast.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'notebook_sched' has no attribute {name!r}")
