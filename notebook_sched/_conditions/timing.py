"""Interval and cron conditions, measured from the task's own last start."""

from __future__ import annotations

from datetime import datetime

from croniter import croniter

from .._durations import format_duration, parse_timedelta
from .base import Condition, Context
from .calendar import epoch_of, local

__all__ = ["Cron", "Every", "cron", "every"]


def _reference(ctx: Context) -> float:
    """Since when the task counts as "not run": its last start in this
    scheduler session, or the session's start."""
    last = ctx.last_start(ctx.task) if ctx.task is not None else None
    return max(last, ctx.started_at) if last is not None else ctx.started_at


class Every(Condition):
    """True at once for a task that has not run since the scheduler started,
    then once per interval measured from its last start."""

    def __init__(self, interval: object) -> None:
        self.seconds = parse_timedelta(interval, what="every() interval")

    def _due(self, ctx: Context) -> float | None:
        last = ctx.last_start(ctx.task) if ctx.task is not None else None
        if last is None or last < ctx.started_at:
            return None  # not run in this session: due now
        return last + self.seconds

    def _is_true(self, ctx: Context) -> bool:
        due = self._due(ctx)
        return due is None or ctx.now >= due

    def next_change(self, ctx: Context) -> float | None:
        due = self._due(ctx)
        return due if due is not None and due > ctx.now else None

    def __str__(self) -> str:
        return f"every {format_duration(self.seconds)}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Every) and other.seconds == self.seconds

    def __hash__(self) -> int:
        return hash((Every, self.seconds))


class Cron(Condition):
    """True when a fire time of the five-field cron expression has passed
    since the task last started (missed fire times collapse into one run)."""

    def __init__(self, expression: object) -> None:
        if not isinstance(expression, str):
            raise TypeError(f"cron() needs a string like '*/5 * * * *', got {expression!r}")
        fields = expression.split()
        if len(fields) != 5 or not croniter.is_valid(expression):
            raise ValueError(
                f"cron expression {expression!r} is not valid: use five fields "
                "'minute hour day-of-month month day-of-week', e.g. '*/5 * * * *'"
            )
        self.expression = " ".join(fields)

    def _next_fire(self, after: float, ctx: Context) -> float:
        start = local(after, ctx.tz)
        nxt: datetime = croniter(self.expression, start).get_next(datetime)
        return epoch_of(nxt, ctx.tz)

    def _is_true(self, ctx: Context) -> bool:
        return self._next_fire(_reference(ctx), ctx) <= ctx.now

    def next_change(self, ctx: Context) -> float | None:
        fire = self._next_fire(_reference(ctx), ctx)
        return fire if fire > ctx.now else None

    def __str__(self) -> str:
        return f"cron {self.expression}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cron) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash((Cron, self.expression))


def every(interval: object) -> Every:
    """``every("10 seconds")``: at once, then once per interval."""
    return Every(interval)


def cron(expression: str) -> Cron:
    """``cron("*/5 * * * *")``: standard five-field cron."""
    return Cron(expression)
