"""A task's definition: what to run, where, and when — validated when the
decorator runs, so a bad value fails at once, naming the task and the value.
Re-running a cell makes a new definition; the ``Task`` handle stays."""

from __future__ import annotations

import inspect
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._conditions.base import Condition
from .._conditions.phrases import Phrases
from .._execution.call import parameter_defaults, params_with_default
from .._execution.ray.options import Resources, parse_resources, require_ray
from ..args import Progress, TerminationFlag
from .arguments import ArgumentParams, argument_params, refuse_live
from .config import EXECUTIONS, SessionConfig
from .pools import check_pool, check_priority
from .retries import NO_RETRY, RetryPolicy, retry_policy

__all__ = ["TaskDefinition", "bare_use", "define_task"]


@dataclass(frozen=True)
class TaskDefinition:
    """One definition of a task; re-running a cell makes a new one.

    ``timeout`` is seconds or ``None``; ``timeout_set`` tells whether the task
    set it (``"never"`` sets it to ``None``) or inherits the session's.
    """

    name: str
    func: Callable[..., Any]
    execution: str
    start_cond: Condition | None
    end_cond: Condition | None
    timeout: float | None
    timeout_set: bool
    flag_params: tuple[str, ...]
    is_async: bool
    payload: bytes | None = None  # cloudpickled function, for process and ray runs
    resources: Resources = ()  # Ray's reservations for a ray run
    arg_params: ArgumentParams = ()  # parameters whose defaults are arguments (Return, Arg, ...)
    retry: RetryPolicy = NO_RETRY
    pool: str | None = None
    priority: float = 0
    multilaunch: bool = False  # runs of it may overlap
    on_startup: bool = False  # runs when the scheduler starts (lifecycle.py)
    on_shutdown: bool = False  # runs when the scheduler shuts down
    progress_params: tuple[str, ...] = ()  # parameters whose defaults are Progress()

    def effective_timeout(self, config: SessionConfig) -> float | None:
        if self.execution == "main" and not self.is_async:
            return None  # a synchronous run cannot be stopped: no deadline to promise
        return self.timeout if self.timeout_set else config.timeout


def define_task(
    func: object,
    config: SessionConfig,
    *,
    start_cond: object = None,
    name: object = None,
    execution: object = None,
    timeout: object = None,
    end_cond: object = None,
    resources: object = None,
    retries: object = 0,
    retry_delay: object = 0,
    retry_backoff: object = 1.0,
    pool: object = None,
    priority: object = 0,
    multilaunch: object = False,
    on_startup: object = False,
    on_shutdown: object = False,
    phrases: Phrases | None = None,
) -> TaskDefinition:
    """Validate everything the decorator was given, naming the bad value."""
    from .._conditions.parse import to_condition
    from .._durations import parse_timeout

    if not callable(func):
        raise TypeError(f"@app.task decorates a function, got {func!r}")
    if name is None:
        name = getattr(func, "__name__", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"cannot name the task {func!r}: pass name='...'")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"task name must be a non-empty string, got {name!r}")
    label = f"task {name!r}"
    is_async = inspect.iscoroutinefunction(func)

    if execution is None:
        execution = config.execution or ("async" if is_async else "thread")
    if execution not in EXECUTIONS:
        raise ValueError(
            f"{label}: execution {execution!r} is not one of {', '.join(map(repr, EXECUTIONS))}"
        )
    if execution == "async" and not is_async:
        raise ValueError(
            f"{label}: execution 'async' needs an 'async def' function; "
            f"{name} is a plain def (use 'thread', 'process' or 'main')"
        )
    if execution == "ray":
        require_ray(label)
    reserved: Resources = ()
    if resources is not None:
        if execution != "ray":
            raise ValueError(
                f"{label}: resources are reserved on a Ray cluster; they need "
                f"execution='ray', not {execution!r}"
            )
        reserved = parse_resources(resources, label)

    timeout_set = timeout is not None
    seconds: float | None = None
    if timeout_set:
        try:
            seconds = parse_timeout(timeout)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{label}: {exc}") from None

    retry = retry_policy(retries, retry_delay, retry_backoff, label)
    pool_name = check_pool(pool, config.pools, label)
    rank = check_priority(priority, label)
    if not isinstance(multilaunch, bool):
        raise TypeError(f"{label}: multilaunch must be True or False, got {multilaunch!r}")
    check_phase_task(start_cond, on_startup, on_shutdown, label)
    start = to_condition(start_cond, what=f"start_cond of {label}", phrases=phrases)
    end = to_condition(end_cond, what=f"end_cond of {label}", phrases=phrases)

    # An 'async def' on 'main' is awaited on the scheduler's loop, as Rocketry
    # does: as an 'async' run, which cancellation stops.
    if execution == "main" and not is_async and (seconds is not None or end is not None):
        warnings.warn(
            f"{label} runs with execution 'main' (synchronously on the scheduler's loop), "
            "which cannot be terminated: its timeout and end condition will not stop it",
            UserWarning,
            stacklevel=4,
        )

    defaults = parameter_defaults(func)
    arg_params = argument_params(defaults)
    flag_params = params_with_default(defaults, TerminationFlag)
    if execution in ("process", "ray"):
        refuse_live(arg_params, execution, label)

    payload = None
    if execution in ("process", "ray"):
        from .._execution.payload import serialize

        try:
            payload = serialize(func, flag_params)
        except Exception as exc:
            where = "a child process" if execution == "process" else "a Ray worker"
            raise TypeError(
                f"{label}: execution {execution!r} needs a function that can be sent to "
                f"{where}, but {name} cannot be pickled: {exc!r}"
            ) from exc
    if execution == "process":
        from .._execution.process import zygote

        zygote.prestart()  # boot the zygote now, not at the first run's expense
    progress_params = params_with_default(defaults, Progress)
    if execution == "ray" and (flag_params or progress_params):
        from .._execution.ray import cluster

        cluster.want_flags()  # the flag board's actor starts with Ray, not at a deadline

    return TaskDefinition(
        name=name,
        func=func,
        execution=execution,
        start_cond=start,
        end_cond=end,
        timeout=seconds,
        timeout_set=timeout_set,
        flag_params=flag_params,
        progress_params=progress_params,
        is_async=is_async,
        payload=payload,
        resources=reserved,
        arg_params=arg_params,
        retry=retry,
        pool=pool_name,
        priority=rank,
        multilaunch=multilaunch,
        on_startup=bool(on_startup),
        on_shutdown=bool(on_shutdown),
    )


def check_phase_task(
    start_cond: object, on_startup: object, on_shutdown: object, label: str
) -> None:
    """A startup or shutdown task runs when its phase comes, not on a condition."""
    for key, value in (("on_startup", on_startup), ("on_shutdown", on_shutdown)):
        if not isinstance(value, bool):
            raise TypeError(f"{label}: {key} must be True or False, got {value!r}")
        if value and start_cond is not None:
            raise ValueError(
                f"{label}: an {key} task runs when the scheduler "
                f"{'starts' if key == 'on_startup' else 'shuts down'}, so it takes no "
                f"start condition (got {start_cond!r})"
            )


def bare_use(arg: object) -> bool:
    """Whether ``task(arg)`` is the bare ``@app.task`` above a ``def``: the
    function was made on the very line of the call (a decorated function's
    first line is its first decorator's). ``@app.task(ready)``, a function
    made elsewhere given as a start condition, is not: the decorator it returns
    refuses it, naming the task, as any other bad condition."""
    if isinstance(arg, Condition) or not callable(arg):
        return False
    code = getattr(arg, "__code__", None)
    if code is None:
        return False
    caller = sys._getframe(2)
    return caller.f_lineno == code.co_firstlineno and caller.f_code.co_filename == code.co_filename
