"""Conditions on other tasks' runs: pipelines and "running for too long"."""

from __future__ import annotations

from .._durations import format_duration, parse_timedelta
from .base import Condition, Context

__all__ = ["AfterTask", "Running", "after_fail", "after_finish", "after_success", "running"]

_WORDS = {"success": "succeeded", "fail": "failed", "finish": "finished"}


def task_name(task: object) -> str:
    """A task given as its name, a ``Task``, or the decorated function."""
    if isinstance(task, str) and task:
        return task
    name = getattr(task, "name", None)
    if isinstance(name, str) and not callable(task):
        return name
    if callable(task) and isinstance(getattr(task, "__name__", None), str):
        return task.__name__  # type: ignore[union-attr]
    raise TypeError(f"expected a task (its name, the Task or the decorated function), got {task!r}")


class AfterTask(Condition):
    """True when the other task has finished ``how`` since this task last
    started (or, if this task has not run, since the scheduler started)."""

    def __init__(self, task: object, how: str) -> None:
        self.name, self.how = task_name(task), how

    def _is_true(self, ctx: Context) -> bool:
        finished = ctx.last_finish(self.name, self.how)
        if finished is None:
            return False
        own = ctx.last_start(ctx.task) if ctx.task is not None else None
        if own is not None and own >= ctx.started_at:
            return finished > own  # strictly after: a finish at its very start is an older one
        return finished >= ctx.started_at

    def task_refs(self) -> frozenset[str]:
        return frozenset({self.name})

    def __str__(self) -> str:
        return f"after task {self.name!r} {_WORDS[self.how]}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AfterTask) and (other.name, other.how) == (self.name, self.how)

    def __hash__(self) -> int:
        return hash((AfterTask, self.name, self.how))


class Running(Condition):
    """True while the task has a live run (for longer than ``more_than``)."""

    def __init__(self, task: object, more_than: float | None = None) -> None:
        self.name, self.more_than_seconds = task_name(task), more_than

    def more_than(self, duration: object) -> Running:
        return Running(self.name, parse_timedelta(duration, what="more_than() duration"))

    def _is_true(self, ctx: Context) -> bool:
        since = ctx.running_since(self.name)
        if since is None:
            return False
        return self.more_than_seconds is None or ctx.now >= since + self.more_than_seconds

    def next_change(self, ctx: Context) -> float | None:
        since = ctx.running_since(self.name)
        if since is None or self.more_than_seconds is None:
            return None
        when = since + self.more_than_seconds
        return when if when > ctx.now else None

    def task_refs(self) -> frozenset[str]:
        return frozenset({self.name})

    def __str__(self) -> str:
        text = f"task {self.name!r} running"
        if self.more_than_seconds is not None:
            text += f" more than {format_duration(self.more_than_seconds)}"
        return text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Running) and (other.name, other.more_than_seconds) == (
            self.name,
            self.more_than_seconds,
        )

    def __hash__(self) -> int:
        return hash((Running, self.name, self.more_than_seconds))


def after_success(task: object) -> AfterTask:
    return AfterTask(task, "success")


def after_fail(task: object) -> AfterTask:
    return AfterTask(task, "fail")


def after_finish(task: object) -> AfterTask:
    return AfterTask(task, "finish")


def running(task: object) -> Running:
    return Running(task)
