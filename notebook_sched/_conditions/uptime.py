"""``scheduler_running(more_than=..., less_than=...)``: how long the scheduler
has been running, as Rocketry has it — mostly for a ``shut_cond``
(``scheduler_running(more_than="5 minutes")``)."""

from __future__ import annotations

from .._durations import format_duration, parse_timedelta
from .base import All, Condition, Context

__all__ = ["Uptime", "scheduler_running"]


class Uptime(Condition):
    """True once the scheduler has been running ``more_than`` seconds and,
    with ``less_than``, until it has been running that long."""

    def __init__(self, more_than: float | None = None, less_than: float | None = None) -> None:
        self.near, self.far = more_than, less_than

    def _is_true(self, ctx: Context) -> bool:
        up = ctx.uptime()  # monotonic: a step of the wall clock changes no duration
        if up is None:
            return False
        return up >= (self.near or 0.0) and (self.far is None or up < self.far)

    def next_change(self, ctx: Context) -> float | None:
        up = ctx.uptime()
        if up is None:
            return None
        times = [ctx.now + (b - up) for b in (self.near, self.far) if b is not None]
        return min((t for t in times if t > ctx.now), default=None)

    def __str__(self) -> str:
        if self.far is not None:
            return f"scheduler started {format_duration(self.far)} ago"
        if self.near is not None:
            return f"scheduler has run over {format_duration(self.near)}"
        return "scheduler is running"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Uptime) and (other.near, other.far) == (self.near, self.far)

    def __hash__(self) -> int:
        return hash((Uptime, self.near, self.far))


def scheduler_running(more_than: object = None, less_than: object = None) -> Condition:
    """True once the scheduler has been running ``more_than`` (seconds,
    ``"5 minutes"``, a ``timedelta``) and, with ``less_than``, until it has
    been running that long."""
    near = None if more_than is None else parse_timedelta(more_than, what="more_than")
    far = None if less_than is None else parse_timedelta(less_than, what="less_than")
    if near is not None and far is not None:
        # one condition per bound, each with Rocketry's string
        return All(Uptime(more_than=near), Uptime(less_than=far))
    return Uptime(near, far)
