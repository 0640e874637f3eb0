"""Arguments the scheduler passes into task functions."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Progress", "TerminationFlag"]


class _Event(Protocol):
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class TerminationFlag:
    """Set when termination of the run that received it is requested.

    Use an instance as a parameter default to ask for it::

        @app.task(execution="thread")
        def work(flag=TerminationFlag()):
            while not flag.is_set():
                ...

    The scheduler then passes the run's own flag. It is set at once on
    timeout, end condition, forced shutdown or ``Task.terminate()``, in thread,
    process and async runs alike. In a process run the SIGTERM that follows
    raises ``TaskTerminationException`` in the child's main thread, and so
    does ``wait()`` or ``is_set()`` there when it is what finds the flag set
    (unless the task handles SIGTERM itself): the run ends the same way
    whichever comes first.
    """

    __slots__ = ("_event",)

    def __init__(self, _event: _Event | None = None) -> None:
        if _event is None:
            import threading

            _event = threading.Event()
        self._event = _event

    def is_set(self) -> bool:
        """Whether termination was requested."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the flag is set or ``timeout`` seconds pass; return
        whether it is set. (In an async run, prefer ``is_set()`` between awaits:
        the run is cancelled anyway.)"""
        return self._event.wait(timeout)

    def __reduce__(self) -> tuple[type[TerminationFlag], tuple[()]]:
        # A process task's function travels pickled by value, defaults included:
        # the default flag is only a marker (the child gets the run's own flag),
        # so it travels as a fresh, unset one instead of its lock.
        return (TerminationFlag, ())

    def __repr__(self) -> str:
        return f"TerminationFlag(set={self.is_set()})"


# ---------------------------------------------------------------- values resolved at a run's start
#
# Rocketry's arguments. Each is only a marker: the scheduler finds them among a
# task's parameter defaults when the task is defined, and replaces each with
# its value in the kernel when a run starts (``_engine/arguments.py``); a
# process or Ray run receives the values, pickled.


__all__ += ["Arg", "Argument", "EnvArg", "FuncArg", "Return", "Session", "Task"]


class Argument:
    """A parameter default the scheduler replaces with a value when a run starts."""

    __slots__ = ()


class Return(Argument):
    """The return value of ``task``'s latest successful run (its
    ``Task.result``); ``default`` while it has none::

        @app.task(after_success("fetch"))
        def store(rows=Return("fetch")):
            ...

    ``task`` is a task's name, its ``Task`` or its decorated function."""

    __slots__ = ("default", "task")

    def __init__(self, task: object, default: object = None) -> None:
        self.task: str = _task_name(task, "Return")
        self.default: object = default

    def __repr__(self) -> str:
        return f"Return({self.task!r}{_default_repr(self.default)})"


class Arg(Argument):
    """The value of ``app.params[key]``, read when the run starts; ``default``
    when there is no such parameter::

        app.params["db"] = "sqlite:///data.db"

        @app.task("daily")
        def load(db=Arg("db")):
            ...
    """

    __slots__ = ("default", "key")

    def __init__(self, key: str, default: object = None) -> None:
        if not isinstance(key, str) or not key:
            raise TypeError(f"Arg takes the name of a parameter of app.params, got {key!r}")
        self.key: str = key
        self.default: object = default

    def __repr__(self) -> str:
        return f"Arg({self.key!r}{_default_repr(self.default)})"


class FuncArg(Argument):
    """The return value of ``func(*args, **kwargs)``, called on the scheduler's
    loop when the run starts (keep it quick). If it raises, the run fails with
    that error and the task's function is not called."""

    __slots__ = ("args", "func", "kwargs")

    def __init__(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        if not callable(func):
            raise TypeError(f"FuncArg takes a function to call, got {func!r}")
        self.func: Callable[..., Any] = func
        self.args: tuple[Any, ...] = args
        self.kwargs: dict[str, Any] = kwargs

    def __repr__(self) -> str:
        name = getattr(self.func, "__qualname__", None) or repr(self.func)
        return f"FuncArg({name})"


class EnvArg(Argument):
    """The environment variable ``name`` of the kernel when the run starts;
    ``default`` when it is not set."""

    __slots__ = ("default", "name")

    def __init__(self, name: str, default: object = None) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"EnvArg takes the name of an environment variable, got {name!r}")
        self.name: str = name
        self.default: object = default

    def __repr__(self) -> str:
        return f"EnvArg({self.name!r}{_default_repr(self.default)})"


class Session(Argument):
    """The scheduler's ``app.session``. Thread, async and main runs only: a
    process or Ray run cannot hold the kernel's live scheduler."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Session()"


class Task(Argument):
    """The run's own ``Task`` — or, given ``task`` (a name, ``Task`` or
    function), that task's (``None`` if no such task is defined). Thread,
    async and main runs only, like ``Session``."""

    __slots__ = ("task",)

    def __init__(self, task: object = None) -> None:
        self.task: str | None = None if task is None else _task_name(task, "Task")

    def __repr__(self) -> str:
        return "Task()" if self.task is None else f"Task({self.task!r})"


def _task_name(task: object, kind: str) -> str:
    if isinstance(task, str) and task.strip():
        return task
    name = getattr(task, "name", None)
    if isinstance(name, str) and name and not callable(task):
        return name  # a Task handle
    name = getattr(task, "__name__", None)
    if callable(task) and isinstance(name, str) and name:
        return name  # the decorated function
    raise TypeError(f"{kind} takes a task, its name or its function, got {task!r}")


def _default_repr(default: object) -> str:
    return "" if default is None else f", default={default!r}"


class Progress:
    """The run's progress reporter: ``progress(fraction, message="")``.

    Use an instance as a parameter default to ask for it::

        @app.task(execution="process")
        def train(progress=Progress()):
            for epoch in range(10):
                ...
                progress((epoch + 1) / 10, f"epoch {epoch + 1}")

    ``fraction`` is a number from 0 to 1 (anything else is a ``ValueError``
    naming it). ``Task.progress`` and the panel's row show the latest report
    of a live run. Reporting is cheap — the latest value wins, however often
    it is called — in thread, async, main, process and ray runs alike. Called
    outside a run (the function called directly), it checks its arguments
    and does nothing else.
    """

    __slots__ = ("_sink",)

    def __init__(self, _sink: Callable[[float, str], None] | None = None) -> None:
        self._sink = _sink

    def __call__(self, fraction: float, message: str = "") -> None:
        """Report that ``fraction`` of the run's work is done."""
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, int | float)
            or math.isnan(fraction)
            or not 0 <= fraction <= 1
        ):
            raise ValueError(f"progress must be a fraction from 0 to 1, got {fraction!r}")
        if not isinstance(message, str):
            raise TypeError(f"the progress message must be a str, got {message!r}")
        if self._sink is not None:
            self._sink(float(fraction), message)

    def __reduce__(self) -> tuple[type[Progress], tuple[()]]:
        # As with TerminationFlag: the default travels as a marker; the run
        # where it lands gets a reporter of its own.
        return (Progress, ())

    def __repr__(self) -> str:
        return "Progress()"


def __dir__() -> list[str]:
    return sorted(__all__)
