"""A task's arguments (``notebook_sched.args``): found among its parameter
defaults when the task is defined, resolved in the kernel when a run starts.

Resolving happens on the scheduler's loop, once per run of a task that has
arguments (a task without any costs nothing here), so each kind is a lookup:
the latest successful return value is kept by the ledger, ``app.params`` is a
dict, the environment is ``os.environ``. Only a ``FuncArg`` calls the user's
code; if it raises, the run fails with that error (recorded as any failure),
and the task's function is not called — a value the function expected is
missing, and running it on ``None`` would hide why.

Process and Ray runs receive the values pickled; ``Session()`` and ``Task()``
stand for the kernel's live scheduler, which a copy in another process would
only pretend to be, so such tasks are refused when they are defined.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .. import args
from .._execution.base import failure_text

__all__ = [
    "NO_RESULT",
    "ArgumentFailed",
    "Params",
    "Resolver",
    "argument_params",
    "refuse_live",
]

ArgumentParams = tuple[tuple[str, args.Argument], ...]


class Params(dict[str, Any]):
    """``app.params``: the values ``Arg("name")`` gives, a mutable mapping
    (``app.params["db"] = url``). Calling it updates it, as Rocketry's
    ``app.params(db=url)`` does."""

    def __call__(self, **values: Any) -> None:
        self.update(values)

    def __repr__(self) -> str:
        return f"Params({dict.__repr__(self)})"


class ArgumentFailed(Exception):
    """A ``FuncArg`` raised while a run's arguments were resolved."""

    def __init__(self, param: str, marker: args.Argument, error: BaseException) -> None:
        super().__init__(param, marker)
        self.text = (
            f"{marker!r}, the argument of parameter {param!r}, raised when the run "
            f"started (the task's function was not called):\n{failure_text(error)}"
        )


def argument_params(defaults: Iterable[tuple[str, object]]) -> ArgumentParams:
    """Of a function's ``(parameter, default)`` pairs, those whose defaults
    are arguments."""
    return tuple((name, d) for name, d in defaults if isinstance(d, args.Argument))


def refuse_live(params: ArgumentParams, execution: str, label: str) -> None:
    """``Session()`` and ``Task()`` cannot go where a process or Ray run goes."""
    for name, marker in params:
        if isinstance(marker, args.Session | args.Task):
            raise ValueError(
                f"{label}: parameter {name!r} takes {marker!r}, the kernel's live "
                f"scheduler object, which a run with execution {execution!r} cannot "
                "hold (it runs in another process); use execution 'thread', 'async' "
                "or 'main', or pass what the run needs with Arg, Return or FuncArg"
            )


class Resolver:
    """Resolves the arguments of a scheduler's runs: what ``Return``, ``Arg``,
    ``Session()`` and ``Task()`` read of it, and ``app.params`` itself."""

    def __init__(
        self,
        results: Mapping[str, tuple[int, object]],
        tasks: Mapping[str, object],
        session: Callable[[], object],
    ) -> None:
        self._results = results  # the ledger's: (run id, value) of each latest success
        self._tasks = tasks
        self._session = session
        self.params = Params()

    def result_of(self, name: str) -> object:
        """The latest successful return value of task ``name``, or ``NO_RESULT``."""
        kept = self._results.get(name)
        return NO_RESULT if kept is None else kept[1]

    def resolve(self, params: ArgumentParams, own: object) -> dict[str, object]:
        """The values of a run's arguments, by parameter name (``own``: the
        run's ``Task``); raises ``ArgumentFailed`` when a ``FuncArg`` does."""
        values: dict[str, object] = {}
        for name, marker in params:
            if isinstance(marker, args.Return):
                value = self.result_of(marker.task)
                values[name] = marker.default if value is NO_RESULT else value
            elif isinstance(marker, args.Arg):
                values[name] = self.params.get(marker.key, marker.default)
            elif isinstance(marker, args.EnvArg):
                values[name] = os.environ.get(marker.name, marker.default)
            elif isinstance(marker, args.FuncArg):
                try:
                    values[name] = marker.func(*marker.args, **marker.kwargs)
                except BaseException as exc:  # the user's code: the run fails, not the scheduler
                    raise ArgumentFailed(name, marker, exc) from exc
            elif isinstance(marker, args.Session):
                values[name] = self._session()
            elif isinstance(marker, args.Task):
                values[name] = own if marker.task is None else self._tasks.get(marker.task)
        return values


class _NoResult:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<no successful run>"


NO_RESULT: Any = _NoResult()  # what ``result_of`` gives for a task with no successful run
