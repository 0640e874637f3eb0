"""Conditions on other tasks' runs: ``after_success(a)``, ``after_fail(a)``,
``after_finish(a)`` and their ``after_all_*`` / ``after_any_*`` forms
(``running`` is in ``running.py``)."""

from __future__ import annotations

from .base import All, Any, Condition, Context

__all__ = [
    "TaskFinished",
    "after_all_fail",
    "after_all_finish",
    "after_all_success",
    "after_any_fail",
    "after_any_finish",
    "after_any_success",
    "after_fail",
    "after_finish",
    "after_success",
    "task_name",
]

# how= of Context.last_finish -> the word str() and the string syntax use
_OUTCOMES = {
    "success": "succeeded",
    "fail": "failed",
    "finish": "finished",
    "terminate": "terminated",
}


def task_name(task: object, *, what: str) -> str:
    """The name of ``task``: a name, a ``Task`` (anything with a string
    ``name`` that is not callable), or the decorated function."""
    if isinstance(task, str):
        if not task.strip():
            raise ValueError(f"{what} needs a task name, got {task!r}")
        return task
    name = getattr(task, "name", None)
    if isinstance(name, str) and not callable(task):
        return name
    name = getattr(task, "__name__", None)
    if callable(task) and isinstance(name, str):
        return name
    raise TypeError(f"{what} takes a task, its name or its function, got {task!r}")


class TaskFinished(Condition):
    """True when ``task`` has finished ``how`` (``"success"``, ``"fail"``,
    ``"terminate"`` or ``"finish"``: any end) since this task last started, or since the
    scheduler started if this task has not started in this session.

    A finish at the very instant of this task's own last start counts as an
    earlier one: that finish is what started this task, and with a coarse or
    manual clock counting it again would start this task over and over.
    """

    def __init__(self, task: str, how: str) -> None:
        if how not in _OUTCOMES:
            raise ValueError(f"how must be one of {', '.join(map(repr, _OUTCOMES))}, got {how!r}")
        self.task, self.how = task, how

    def _is_true(self, ctx: Context) -> bool:
        finished = ctx.last_finish(self.task, self.how)
        if finished is None:
            return False
        own = ctx.last_start(ctx.task) if ctx.task is not None else None
        if own is not None and (ctx.started_at is None or own >= ctx.started_at):
            return finished > own
        return ctx.started_at is None or finished >= ctx.started_at

    def task_refs(self) -> frozenset[str]:
        return frozenset({self.task})

    def __str__(self) -> str:
        return f"after task {self.task!r} {_OUTCOMES[self.how]}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskFinished) and (other.task, other.how) == (self.task, self.how)

    def __hash__(self) -> int:
        return hash((TaskFinished, self.task, self.how))


def after_success(task: object) -> Condition:
    """True when ``task`` (a ``Task``, its name or its function) has succeeded
    since this task last started (or since the scheduler started)."""
    return TaskFinished(task_name(task, what="after_success()"), "success")


def after_fail(task: object) -> Condition:
    """True when ``task`` has failed since this task last started (or since
    the scheduler started)."""
    return TaskFinished(task_name(task, what="after_fail()"), "fail")


def after_finish(task: object) -> Condition:
    """True when ``task`` has finished in any way since this task last started
    (or since the scheduler started)."""
    return TaskFinished(task_name(task, what="after_finish()"), "finish")


def after_all_success(*tasks: object) -> Condition:
    """True when every one of ``tasks`` has succeeded since this task last
    started (``"after tasks 'a', 'b' succeeded"``)."""
    return _after_many(All, "success", tasks, "after_all_success()")


def after_all_fail(*tasks: object) -> Condition:
    """True when every one of ``tasks`` has failed since this task last started."""
    return _after_many(All, "fail", tasks, "after_all_fail()")


def after_all_finish(*tasks: object) -> Condition:
    """True when every one of ``tasks`` has finished since this task last started."""
    return _after_many(All, "finish", tasks, "after_all_finish()")


def after_any_success(*tasks: object) -> Condition:
    """True when any of ``tasks`` has succeeded since this task last started
    (``"after any tasks 'a', 'b' succeeded"``)."""
    return _after_many(Any, "success", tasks, "after_any_success()")


def after_any_fail(*tasks: object) -> Condition:
    """True when any of ``tasks`` has failed since this task last started."""
    return _after_many(Any, "fail", tasks, "after_any_fail()")


def after_any_finish(*tasks: object) -> Condition:
    """True when any of ``tasks`` has finished since this task last started."""
    return _after_many(Any, "finish", tasks, "after_any_finish()")


def _after_many(
    combine: type[All] | type[Any], how: str, tasks: tuple[object, ...], what: str
) -> Condition:
    if not tasks:
        raise TypeError(f"{what} needs at least one task")
    each = [TaskFinished(task_name(t, what=what), how) for t in tasks]
    return each[0] if len(each) == 1 else combine(*each)
