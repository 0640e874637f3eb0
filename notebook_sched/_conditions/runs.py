"""What conditions read from the run history of the task they belong to."""

from __future__ import annotations

from .base import Context

__all__ = ["own_last_start"]


def own_last_start(ctx: Context) -> float | None:
    """When the task being evaluated last started. A scheduler-level condition
    (``ctx.task is None``, e.g. ``shut_cond``) counts from the scheduler's start."""
    if ctx.task is None:
        return ctx.started_at
    return ctx.last_start(ctx.task)
