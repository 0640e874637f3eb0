"""Conditions: when tasks start, when their runs end, when the scheduler stops.

``every``, ``cron``, ``time_of_day``, ``time_of_week``, ``hourly``, ``daily``,
``weekly``, ``monthly``, ``after_success``, ``after_fail``, ``after_finish``,
``running``, ``true``, ``false``, ``condition``; combine them with ``&``, ``|``
and ``~``, or write them as strings (``parse_condition``).
"""

from ._conditions.base import Condition as Condition
from ._conditions.base import condition as condition
from ._conditions.base import false as false
from ._conditions.base import true as true
from ._conditions.calendar import DAY, HOUR, MONTH, WEEK, Period, WindowBuilder
from ._conditions.parse import ConditionSyntaxError as ConditionSyntaxError
from ._conditions.parse import parse_condition as parse_condition
from ._conditions.tasks import after_fail as after_fail
from ._conditions.tasks import after_finish as after_finish
from ._conditions.tasks import after_success as after_success
from ._conditions.tasks import running as running
from ._conditions.timing import cron as cron
from ._conditions.timing import every as every

time_of_day = WindowBuilder(DAY, "time of day")
time_of_week = WindowBuilder(WEEK, "time of week")
hourly = Period(HOUR, "hourly")
daily = Period(DAY, "daily")
weekly = Period(WEEK, "weekly")
monthly = Period(MONTH, "monthly")

__all__ = [
    "Condition",
    "ConditionSyntaxError",
    "after_fail",
    "after_finish",
    "after_success",
    "condition",
    "cron",
    "daily",
    "every",
    "false",
    "hourly",
    "monthly",
    "parse_condition",
    "running",
    "time_of_day",
    "time_of_week",
    "true",
    "weekly",
]
