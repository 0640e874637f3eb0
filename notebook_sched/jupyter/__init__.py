"""The Jupyter layer: the widget panel. It depends on the engine; the engine
never imports it."""

from .panel import SchedulerPanel as SchedulerPanel
from .panel import TaskRow as TaskRow
from .table import TaskTable as TaskTable

__all__ = ["SchedulerPanel", "TaskRow", "TaskTable"]
