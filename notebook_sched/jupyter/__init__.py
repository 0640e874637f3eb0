"""The Jupyter layer: the widget panel. It depends on the engine; the engine
never imports it."""

from .panel import SchedulerPanel as SchedulerPanel
from .panel import TaskRow as TaskRow

__all__ = ["SchedulerPanel", "TaskRow"]
