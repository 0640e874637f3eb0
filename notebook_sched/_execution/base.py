"""What every execution method shares: the job it is given, the handle it
returns, the outcome it reports, and how return values and exceptions become
record fields (``call.py`` calls the function and builds that outcome)."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, runtime_checkable

from ..args import Progress, TerminationFlag
from ..exc import TaskTerminationException
from .output import OutputBuffer, ProgressSink

if TYPE_CHECKING:  # not imported here: a process child (and the zygote) never needs asyncio
    import asyncio

__all__ = [
    "Executor",
    "Job",
    "Outcome",
    "RunHandle",
    "Status",
    "Timeout",
    "failure_text",
    "on_loop",
    "outcome_of_error",
    "outcome_of_value",
    "short_repr",
    "without_wrapper_frame",
]

RESULT_LIMIT = 200

# A MemoryError's text when memory is too short even to format its traceback
# (made at import, when there was memory).
OUT_OF_MEMORY = "MemoryError (its traceback could not be formatted: out of memory)"

Status = Literal["success", "fail", "terminate", "crash"]


class Outcome(NamedTuple):
    """How a run ended, as its executor saw it. ``end`` is epoch seconds.
    (A named tuple: made once per run, three times faster than a frozen
    dataclass.)"""

    status: Status
    end: float
    error: str | None = None
    result: str | None = None
    value: object = None  # the return value itself (``Task.result``), where it can be had


@dataclass(slots=True)
class Job:
    """Everything an executor needs to start one run."""

    task: str
    run_id: int
    func: Callable[..., Any]
    flag_params: tuple[str, ...]
    loop: asyncio.AbstractEventLoop
    now: Callable[[], float]
    done: Callable[[Outcome], None]
    is_async: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    args: Mapping[str, object] = field(default_factory=dict)  # resolved arguments, by parameter

    #: Where what the run writes goes; ``None``: where the kernel sends it.
    output: OutputBuffer | None = None
    progress_params: tuple[str, ...] = ()
    #: Where the run's ``Progress()`` reports go.
    progress: ProgressSink | None = None
    #: The run's timeout, when it has one: for an executor that can enforce it
    #: away from the kernel as well (a process run's zygote).
    timeout: Timeout | None = None

    def kwargs(self, flag: TerminationFlag | None) -> dict[str, object]:
        """What the function is called with: the run's flag, its progress
        reporter, its arguments."""
        kwargs: dict[str, object] = dict.fromkeys(self.flag_params, flag)
        if self.progress_params:
            kwargs.update(dict.fromkeys(self.progress_params, Progress(self.progress)))
        if self.args:
            kwargs.update(self.args)
        return kwargs


class Timeout(Protocol):
    """A run's timeout, as an executor that enforces it itself sees it.

    The kernel's watchdog takes the steps at the deadline — unless a thread
    of the kernel holds the GIL (a C call that never lets go of it), which the
    watchdog needs too; an executor that can take them where the GIL is not
    needed does, and says so with ``reached()``."""

    @property
    def grace(self) -> float:
        """Seconds between the polite step and the forced one."""
        ...

    def real_time_left(self) -> float | None:
        """Real seconds from now to the deadline (``None``: real time does
        not bring it, the scheduler's clock is a manual one)."""
        ...

    def reached(self) -> None:
        """The run was ended at its deadline by the executor: it is recorded
        as terminated for ``"timeout"`` (unless a reason came first)."""
        ...


@runtime_checkable
class RunHandle(Protocol):
    """One started run, as its execution method holds it.

    Both steps may be called from any thread, more than once, and after the
    run has ended (then they do nothing). Whatever happens, the handle reports
    the run's end exactly once, through ``job.done(outcome)``."""

    def stop(self) -> None:
        """Ask the run to stop, at once: the polite step (flag, cancel, SIGTERM)."""
        ...

    def force(self) -> None:
        """Make the run stop, after the grace period: the forced step
        (an injected exception, SIGKILL, ``ray.cancel``)."""
        ...


class Executor(Protocol):
    """An execution method: ``start(job)`` starts the run and returns its handle.

    It may report the run's end before it returns (``main`` does), and it
    raises only when the run could not be started at all."""

    def __call__(self, job: Job, /) -> RunHandle: ...


def on_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
    """Call ``callback`` on ``loop``: now if that is the running loop, else
    soon through ``call_soon_threadsafe`` (nothing if the loop is closed)."""
    import asyncio  # loaded wherever there is a loop

    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        callback()
    elif not loop.is_closed():
        loop.call_soon_threadsafe(callback)


def short_repr(value: object, limit: int = RESULT_LIMIT) -> str:
    """A ``repr()`` cut to ``limit`` characters; never raises."""
    try:
        text = repr(value)
    except Exception as exc:
        try:
            text = f"<unrepresentable {type(value).__name__}: {exc!r}>"
        except MemoryError:
            text = "<unrepresentable: out of memory>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_text(exc: BaseException) -> str:
    """The traceback of ``exc`` as the run record keeps it.

    Out of memory, the task's frames (which the traceback holds) most likely
    hold what filled it: their variables are dropped, and the traceback is
    formatted again — or, failing that too, only the error's type name is kept."""
    try:
        return _traceback_text(exc)
    except Exception:  # MemoryError, or SystemError: CPython short of memory loses its error
        pass
    traceback.clear_frames(exc.__traceback__)
    try:
        return _traceback_text(exc)
    except Exception:
        return OUT_OF_MEMORY if isinstance(exc, MemoryError) else type(exc).__name__


def _traceback_text(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}): the task called sys.exit()"
    return "".join(traceback.format_exception(exc)).rstrip()


def without_wrapper_frame(exc: BaseException) -> BaseException:
    """``exc`` with its traceback starting at the task's frame: a child's or a
    Ray worker's wrapper called the function, and is none of the user's business."""
    if exc.__traceback__ is not None:
        return exc.with_traceback(exc.__traceback__.tb_next)
    return exc


def outcome_of_value(value: object, end: float) -> Outcome:
    """A run that returned ``value``."""
    return Outcome("success", end, result=short_repr(value), value=value)


def outcome_of_error(exc: BaseException, end: float) -> Outcome:
    """A run that raised: ``terminate`` for ``TaskTerminationException``, else ``fail``."""
    status: Status = "terminate" if isinstance(exc, TaskTerminationException) else "fail"
    try:
        return Outcome(status, end, error=failure_text(exc))
    except MemoryError:  # what the task's frames hold goes first
        traceback.clear_frames(exc.__traceback__)
        return Outcome(status, end, error=failure_text(exc))
