"""The public module notebook_sched.conds: the names the contract gives."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import notebook_sched.conds as conds
from notebook_sched._conditions.base import Condition, StaticContext

UTC = ZoneInfo("UTC")
CONTRACT = [
    "Condition",
    "every",
    "cron",
    "time_of_day",
    "time_of_week",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "after_success",
    "after_fail",
    "after_finish",
    "running",
    "true",
    "false",
    "condition",
    "parse_condition",
]


def test_every_contract_name_is_exported_and_documented():
    for name in CONTRACT:
        assert name in conds.__all__
        assert f"``{name}" in conds.__doc__ or name == "Condition"
    assert all(hasattr(conds, name) for name in conds.__all__)


def test_the_periods_are_conditions_with_windows_and_the_windows_are_not():
    for period in (conds.hourly, conds.daily, conds.weekly, conds.monthly):
        assert isinstance(period, Condition)
        assert all(callable(getattr(period, m)) for m in ("at", "between", "after", "before"))
    for factory in (conds.time_of_day, conds.time_of_week):
        assert not isinstance(factory, Condition)


def test_the_documented_example():
    every10 = conds.every("10 seconds")
    window = conds.time_of_day.between("08:00", "18:00")
    both = every10 & window | ~conds.running("a")
    assert (
        str(both)
        == "((every 10 seconds & time of day between 08:00 and 18:00) | ~task 'a' is running)"
    )
    assert both == conds.parse_condition(str(both))
    # 2023-11-14 22:13 UTC: outside the window, but 'a' is not running
    assert both.is_true(StaticContext(now=1_700_000_000.0, tz=UTC))
    assert not both.is_true(StaticContext(now=1_700_000_000.0, tz=UTC, running={"a": 0.0}))
    assert both.task_refs() == frozenset({"a"})
