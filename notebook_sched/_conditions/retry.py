"""``retry(n)``: Rocketry's way to run a failed task again —
``@app.task(daily | retry(2))`` runs a daily task again after a failure, at
most twice in a row.

It is a condition like any other, so it can be combined; the scheduler's own
retries (``@app.task(retries=2, retry_delay=...)``) are another mechanism,
with delays and attempt numbers.
"""

from __future__ import annotations

from .base import Condition, Context

__all__ = ["Retry", "retry"]


class Retry(Condition):
    """True when the task's latest run failed and it has failed at most ``n``
    times in a row (``n=-1``: any number of times). False while a run is
    alive, and for a scheduler-level condition."""

    def __init__(self, n: int) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < -1:
            raise ValueError(f"retry() takes how many times to retry (an int >= 0), got {n!r}")
        self.n = n

    def __call__(self, n: int) -> Retry:
        """``retry(2)``: at most two retries in a row (``retry`` alone: any number)."""
        return Retry(n)

    def _is_true(self, ctx: Context) -> bool:
        task = ctx.task
        if task is None or self.n == 0 or ctx.running_since(task) is not None:
            return False
        streak = ctx.fail_streak(task)
        return streak > 0 and (self.n == -1 or streak <= self.n)

    def __str__(self) -> str:
        return "retry" if self.n == -1 else f"retry {self.n}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Retry) and other.n == self.n

    def __hash__(self) -> int:
        return hash((Retry, self.n))


retry: Retry = Retry(-1)
retry.__doc__ = """``retry(n)``: true after the task failed, at most ``n`` times in a row;
``retry`` alone: after any number of failures in a row."""
