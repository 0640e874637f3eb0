"""notebook_sched — a task scheduler that lives on the Jupyter kernel's loop.

Public names: ``Scheduler``, ``Task``, ``Session``, ``RunRecord``, and the
modules ``notebook_sched.conds``, ``notebook_sched.args``, ``notebook_sched.exc``.
"""

from ._engine.scheduler import Scheduler as Scheduler
from ._engine.scheduler import Session as Session
from ._engine.task import Task as Task
from ._history.records import RunRecord as RunRecord

__version__ = "0.1.0"

__all__ = ["RunRecord", "Scheduler", "Session", "Task", "__version__"]
