"""What runs inside a Ray worker: the run itself, and the actor that carries
termination flags from the kernel to the workers.

The run reports like a process child does: ``(status, error, result)`` as
plain strings, so an unpicklable return value or exception is never a
problem, and the error keeps the task's own traceback.

The flag: a worker cannot read a pipe of the kernel's, so one ``FlagBoard``
actor per connection holds the flags. A run asks it ``wait(key)`` before its
function starts; the kernel's ``set(key)`` answers that call with ``True``
(the polite step of termination), and ``release(key)`` with ``False`` when
the run is over. Calls from one caller reach an actor in order, so a run's
``release`` never overtakes its ``wait``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..call import Report

__all__ = ["FlagBoard", "RemoteFlagEvent", "run_remote"]


class FlagBoard:
    """The termination flags of the runs on the cluster, and their progress
    reports (an async actor).

    Progress: a run's worker calls ``progress(key, ...)`` (coalesced to ten a
    second); the kernel asks ``next_progress(key, seen)``, which answers when
    a report newer than ``seen`` is there — one call per report, none while
    nothing changes — and ``None`` once the run is released."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[bool]] = {}
        self._set: set[str] = set()
        self._reports: dict[str, tuple[int, tuple[float, str]]] = {}
        self._watchers: dict[str, asyncio.Future[tuple[int, tuple[float, str]] | None]] = {}

    async def progress(self, key: str, fraction: float, message: str) -> None:
        seen = self._reports.get(key, (0, (0.0, "")))[0]
        self._reports[key] = report = (seen + 1, (fraction, message))
        watcher = self._watchers.pop(key, None)
        if watcher is not None and not watcher.done():
            watcher.set_result(report)

    async def next_progress(self, key: str, seen: int) -> tuple[int, tuple[float, str]] | None:
        report = self._reports.get(key)
        if report is not None and report[0] > seen:
            return report
        watcher = self._watchers.get(key)
        if watcher is None:
            watcher = self._watchers[key] = asyncio.get_running_loop().create_future()
        return await watcher

    async def wait(self, key: str) -> bool:
        if key in self._set:
            return True
        future = self._waiting.get(key)
        if future is None:
            future = self._waiting[key] = asyncio.get_running_loop().create_future()
        return await future

    async def set(self, key: str) -> None:
        self._set.add(key)
        self._answer(key, True)

    async def release(self, key: str) -> None:
        self._set.discard(key)
        self._answer(key, False)
        self._reports.pop(key, None)
        watcher = self._watchers.pop(key, None)
        if watcher is not None and not watcher.done():
            watcher.set_result(None)

    def _answer(self, key: str, value: bool) -> None:
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(value)

    async def size(self) -> int:
        """Keys still held (a test checks that finished runs leave none)."""
        return len(self._waiting) + len(self._set) + len(self._reports) + len(self._watchers)


class RemoteFlagEvent:
    """The worker's side of a run's ``TerminationFlag``."""

    def __init__(self, board: Any, key: str) -> None:
        self._board = board
        self._key = key
        self._ref = board.wait.remote(key)
        self._value: bool | None = None

    def is_set(self) -> bool:
        return self.wait(0)

    def wait(self, timeout: float | None = None) -> bool:
        if self._value is None:
            import ray

            ready, _ = ray.wait([self._ref], timeout=timeout)
            if ready:
                self._value = bool(ray.get(self._ref))
        return bool(self._value)

    def close(self) -> None:
        self._board.release.remote(self._key)


def run_remote(
    payload: bytes, args: bytes, key: str, board: Any, capture: dict[str, Any] | None = None
) -> tuple[Report, tuple[int, str] | None]:
    """Run a task's function on this worker: its report ``(status, error,
    result, value)``, and what it wrote when ``capture`` (the kernel's output
    limit and logger levels) asks for that."""
    import pickle

    from notebook_sched._execution import capture as capturing
    from notebook_sched._execution.call import call_away, params_with_default
    from notebook_sched._execution.output import Coalescer, OutputBuffer
    from notebook_sched.args import Progress, TerminationFlag

    func, flag_params = pickle.loads(payload)  # made by payload.serialize
    event = RemoteFlagEvent(board, key) if flag_params and board is not None else None
    output = token = progress = None
    if capture is not None:
        capturing.install()
        capturing.set_log_levels(capture["levels"])
        output = OutputBuffer(capture["limit"])
        token = capturing.CURRENT.set(output)
    try:
        kwargs: dict[str, object] = (
            dict.fromkeys(flag_params, TerminationFlag(event)) if event else {}
        )
        if args:
            kwargs.update(pickle.loads(args))  # made by payload.serialize_args
        if board is not None and (names := params_with_default(func, Progress)):
            progress = Coalescer(lambda value: board.progress.remote(key, *value))
            kwargs.update(dict.fromkeys(names, Progress(progress)))
        report = call_away(func, kwargs)
    finally:
        if progress is not None:
            progress.close()
        if event is not None:
            event.close()
        if token is not None:
            capturing.CURRENT.reset(token)
    if output is None:
        return report, None
    output.seal()
    return report, output.parts()
