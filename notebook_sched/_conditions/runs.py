"""What conditions read from the run history of the task they belong to."""

from __future__ import annotations

from .base import Context

__all__ = ["own_last_start", "since"]


def own_last_start(ctx: Context) -> float | None:
    """When the task being evaluated last started. A scheduler-level condition
    (``ctx.task is None``, e.g. ``shut_cond``) counts from the scheduler's start."""
    if ctx.task is None:
        return ctx.started_at
    return ctx.last_start(ctx.task)


def since(ctx: Context) -> float:
    """Since when another task's runs count for this one: this task's last
    start, or the scheduler's start if that is later (or ``-inf``)."""
    last = ctx.last_start(ctx.task) if ctx.task is not None else None
    return max((t for t in (last, ctx.started_at) if t is not None), default=float("-inf"))
