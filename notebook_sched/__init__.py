"""notebook_sched — a task scheduler that lives on the Jupyter kernel's loop.

Public names: ``Scheduler``, ``Task``, ``Session``, ``RunRecord``, and the
modules ``notebook_sched.conds`` (conditions), ``notebook_sched.args`` (what a
task function receives), ``notebook_sched.exc`` (exceptions),
``notebook_sched.events`` (what ``app.subscribe`` delivers) and
``notebook_sched.testing`` (``ManualClock``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["RunRecord", "Scheduler", "Session", "Task", "__version__"]

from . import _app  # noqa: F401  (the panel, made by the Jupyter layer when asked)

if TYPE_CHECKING:
    from . import args as args
    from . import conds as conds
    from . import events as events
    from . import exc as exc
    from . import testing as testing
    from ._engine.scheduler import Scheduler as Scheduler
    from ._engine.session import Session as Session
    from ._engine.task import Task as Task
    from ._history.records import RunRecord as RunRecord

_LAZY = {
    "Scheduler": "._engine.scheduler",
    "Session": "._engine.session",
    "Task": "._engine.task",
    "RunRecord": "._history.records",
}
_MODULES = ("args", "conds", "events", "exc", "testing")


def __getattr__(name: str) -> Any:
    # Lazy, so a process run's child imports only what it needs and starts fast.
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'notebook_sched' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, *_MODULES])
