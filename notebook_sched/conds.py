"""Conditions: when a task starts, when its run must end, when the scheduler
shuts down.

- ``every("10 seconds")`` — at once, then once per interval from the last start
  (``based="success"``, ``"fail"`` or ``"finish"``: from the last such end)
- ``cron("*/5 * * * *")`` — standard five-field cron on the local wall clock:
  true within each matching minute until the task starts in it;
  ``crontime(...)`` the matching minutes alone
- ``time_of_day.between("08:00", "18:00")``, ``.after(...)``, ``.before(...)``,
  ``.on(...)``/``.at(...)``; likewise ``time_of_week`` (``.on("Tuesday")``),
  ``time_of_month``, ``time_of_hour``, ``time_of_minute``, ``time_of_second``
- ``secondly``, ``minutely``, ``hourly``, ``daily``, ``weekly``, ``monthly`` —
  once per period; with ``.at(...)``/``.on(...)`` (one unit from it:
  ``daily.at("10:00")`` is 10:00-11:00), ``.between(...)``, ``.after(...)``,
  ``.before(...)``, ``.starting(...)`` (periods from then: ``weekly.starting("Tue")``)
- ``after_success(task)``, ``after_fail(task)``, ``after_finish(task)``;
  ``after_all_success(a, b)`` (and ``_fail``, ``_finish``) when all of them
  have, ``after_any_success(a, b)`` (and ``_fail``, ``_finish``) when any has
- ``running(task)``, ``running(task).more_than("1 hour")``, ``.less_than(...)``,
  ``.between(...)``; ``running(task) >= 2`` counts its live runs; ``running``
  alone is the task itself (``end_cond=running.more_than("2 mins")``)
- ``started``, ``succeeded``, ``failed``, ``finished``, ``terminated`` — the
  task (or ``succeeded(task=a)``) has had that ever, or ``.this_minute``,
  ``.this_hour``, ``.today``, ``.this_week``, ``.this_month`` (with or without
  ``()``), narrowed by ``.between(...)``, ``.after(...)``, ``.before(...)``,
  ``.on(...)``; compared with a number, how many times (``succeeded.today >= 2``),
  counted in the run history
- ``retry(n)`` — after a failure, at most ``n`` times in a row
- ``scheduler_running(more_than="5 minutes", less_than=...)`` — the scheduler's uptime;
  ``scheduler_cycles(more_than=1, less_than=...)`` — how many times it has
  looked at its due tasks (Rocketry's cycles)
- ``IsEnv("prod")`` — ``app.params["env"]`` is ``"prod"``; ``ParamExists("db",
  mode="fast")`` — ``app.params`` has ``"db"``, and ``"mode"`` is ``"fast"``
- ``true``, ``false``, ``condition(func)``
- ``parse_condition("daily between 08:00 and 18:00 & ~running('a')")`` — the
  same conditions as strings (``ConditionSyntaxError`` when a string is bad)

Combine conditions with ``&``, ``|`` and ``~``. Every condition is a
``Condition``: ``is_true()`` tells its present state, ``str()`` reads it back.
"""

from ._conditions.base import Condition as Condition
from ._conditions.base import condition as condition
from ._conditions.base import false as false
from ._conditions.base import true as true
from ._conditions.cron import cron as cron
from ._conditions.cron import crontime as crontime
from ._conditions.cycles import scheduler_cycles as scheduler_cycles
from ._conditions.every import every as every
from ._conditions.params import IsEnv as IsEnv
from ._conditions.params import ParamExists as ParamExists
from ._conditions.parse import ConditionSyntaxError as ConditionSyntaxError
from ._conditions.parse import parse_condition as parse_condition
from ._conditions.periods import daily as daily
from ._conditions.periods import hourly as hourly
from ._conditions.periods import minutely as minutely
from ._conditions.periods import monthly as monthly
from ._conditions.periods import secondly as secondly
from ._conditions.periods import weekly as weekly
from ._conditions.retry import retry as retry
from ._conditions.running import running as running
from ._conditions.status import failed as failed
from ._conditions.status import finished as finished
from ._conditions.status import started as started
from ._conditions.status import succeeded as succeeded
from ._conditions.status import terminated as terminated
from ._conditions.tasks import after_all_fail as after_all_fail
from ._conditions.tasks import after_all_finish as after_all_finish
from ._conditions.tasks import after_all_success as after_all_success
from ._conditions.tasks import after_any_fail as after_any_fail
from ._conditions.tasks import after_any_finish as after_any_finish
from ._conditions.tasks import after_any_success as after_any_success
from ._conditions.tasks import after_fail as after_fail
from ._conditions.tasks import after_finish as after_finish
from ._conditions.tasks import after_success as after_success
from ._conditions.time_windows import time_of_day as time_of_day
from ._conditions.time_windows import time_of_hour as time_of_hour
from ._conditions.time_windows import time_of_minute as time_of_minute
from ._conditions.time_windows import time_of_month as time_of_month
from ._conditions.time_windows import time_of_second as time_of_second
from ._conditions.time_windows import time_of_week as time_of_week
from ._conditions.uptime import scheduler_running as scheduler_running

__all__ = [
    "Condition",
    "ConditionSyntaxError",
    "IsEnv",
    "ParamExists",
    "after_all_fail",
    "after_all_finish",
    "after_all_success",
    "after_any_fail",
    "after_any_finish",
    "after_any_success",
    "after_fail",
    "after_finish",
    "after_success",
    "condition",
    "cron",
    "crontime",
    "daily",
    "every",
    "failed",
    "false",
    "finished",
    "hourly",
    "minutely",
    "monthly",
    "parse_condition",
    "retry",
    "running",
    "scheduler_cycles",
    "scheduler_running",
    "secondly",
    "started",
    "succeeded",
    "terminated",
    "time_of_day",
    "time_of_hour",
    "time_of_minute",
    "time_of_month",
    "time_of_second",
    "time_of_week",
    "true",
    "weekly",
]


def __dir__() -> list[str]:
    return sorted(__all__)
