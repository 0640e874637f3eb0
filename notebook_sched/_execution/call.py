"""Calling a run's function: the one place where what the function did —
returned, raised, was terminated or cancelled — becomes the run's ``Outcome``.

Every execution method calls the user's function through here: ``call`` where
the function runs synchronously (a worker thread, the scheduler's loop, a
process child, a Ray worker), ``call_async`` where it is awaited on the
scheduler's loop. ``call_away`` is what a process child and a Ray worker do,
and ``report``/``outcome_of_report`` carry its result back to the kernel as
plain strings, and the return value pickled (its ``repr()`` when it cannot
be: an unpicklable return value is never an error). Light to import: a
freshly forked child imports it.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .base import Outcome, Status, outcome_of_error, outcome_of_value, without_wrapper_frame

__all__ = [
    "Report",
    "call",
    "call_async",
    "call_away",
    "outcome_of_report",
    "parameter_defaults",
    "params_with_default",
    "report",
]

# What a run away from the kernel sends back: (status, error, result, value),
# value the return value pickled (bytes), its repr() (str) if it cannot be, or None.
Report = tuple[Status, str | None, str | None, bytes | str | None]


def call(
    func: Callable[..., Any],
    kwargs: Mapping[str, object],
    now: Callable[[], float],
    *,
    run_coroutine: bool = False,
    strip_wrapper: bool = False,
    finished: Callable[[], None] | None = None,
) -> Outcome:
    """Call ``func(**kwargs)`` and return how the run ended; never raises.

    ``run_coroutine``: a coroutine it returns is run to completion with
    ``asyncio.run`` (there is no loop running here). ``strip_wrapper``: a
    traceback starts at the task's frame, not at this function's.
    ``finished`` is called once the function is over, whether it returned or
    raised, before the outcome is built. ``now`` gives the end time.
    """
    try:
        try:
            value = func(**kwargs)
            if run_coroutine and isinstance(value, types.CoroutineType):
                import asyncio  # only then: a process child does not load it to start

                value = asyncio.run(value)
        finally:
            if finished is not None:
                finished()
    except BaseException as exc:  # the scheduler must outlive any task
        return outcome_of_error(without_wrapper_frame(exc) if strip_wrapper else exc, now())
    return outcome_of_value(value, now())


async def call_async(
    func: Callable[..., Awaitable[Any]],
    kwargs: Mapping[str, object],
    now: Callable[[], float],
) -> Outcome:
    """Await ``func(**kwargs)`` on the running loop; being cancelled is being
    terminated. Never raises — but ``GeneratorExit``: the coroutine is being
    closed (its loop closed under it), and one that went on would be an error
    inside the garbage collector."""
    import asyncio  # loaded: this runs on a loop

    try:
        value = await func(**kwargs)
    except asyncio.CancelledError:
        return Outcome("terminate", now())
    except GeneratorExit:
        raise
    except BaseException as exc:  # the scheduler must outlive any task
        return outcome_of_error(exc, now())
    return outcome_of_value(value, now())


def call_away(func: Callable[..., Any], kwargs: Mapping[str, object]) -> Report:
    """Run a task where a process child or a Ray worker runs it: its own
    coroutine run here, its traceback from its own frame on. The end time is
    the kernel's to take, when the report arrives."""
    return report(call(func, kwargs, _no_clock, run_coroutine=True, strip_wrapper=True))


def report(outcome: Outcome) -> Report:
    """``outcome`` as strings and bytes, which any pickle can carry."""
    return (outcome.status, outcome.error, outcome.result, _portable(outcome.value))


def outcome_of_report(sent: Report, end: float) -> Outcome:
    """The outcome a ``report`` stands for, ended at ``end``; its return
    value unpickled (not on the scheduler's loop: where the report arrives)."""
    status, error, result, value = sent
    return Outcome(status, end, error=error, result=result, value=_restored(value, result))


def _portable(value: object) -> bytes | str | None:
    if value is None:
        return None
    import pickle

    try:
        # Plain pickle first: what most values need, and a fourth of
        # cloudpickle's cost in a freshly forked child (80 against 300 us).
        # What it cannot name — a class or function made in a cell, whose
        # module here is not the kernel's __main__ — it refuses.
        return pickle.dumps(value)
    except Exception:
        pass
    import cloudpickle  # by value: a class or function made in a cell travels too

    try:
        return cloudpickle.dumps(value)
    except Exception:
        try:
            return repr(value)
        except Exception as exc:
            return f"<unrepresentable {type(value).__name__}: {exc!r}>"


def _restored(value: bytes | str | None, result: str | None) -> object:
    if not isinstance(value, bytes):
        return value
    import pickle

    try:
        return pickle.loads(value)
    except Exception:  # pickled where it ran, but not loadable here: its repr() then
        return result


def parameter_defaults(func: Callable[..., Any]) -> tuple[tuple[str, object], ...]:
    """``(name, default)`` of each of ``func``'s parameters that has a default
    (none when its signature cannot be read). Read once per definition: a
    signature costs tens of microseconds, and a cell may define thousands."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return ()
    return tuple((p.name, p.default) for p in params if p.default is not p.empty)


def params_with_default(
    func: Callable[..., Any] | tuple[tuple[str, object], ...], kind: type
) -> tuple[str, ...]:
    """The names of the parameters whose default is a ``kind``
    (``TerminationFlag``, ``Progress``: what the scheduler passes in), of a
    function or of its ``parameter_defaults``."""
    defaults = func if isinstance(func, tuple) else parameter_defaults(func)
    return tuple(name for name, default in defaults if isinstance(default, kind))


def _no_clock() -> float:
    return 0.0
