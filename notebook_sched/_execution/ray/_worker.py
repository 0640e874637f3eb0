"""What runs inside a Ray worker: the run itself, and its side of the
termination flag and of its progress (both carried by the connection's
``FlagBoard`` actor, see ``board.py``).

The run reports like a process child does: ``(status, error, result)`` as
plain strings, so an unpicklable return value or exception is never a
problem, and the error keeps the task's own traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..call import Report

__all__ = ["RemoteFlagEvent", "run_remote"]


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
    import itertools
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
            # Numbered as sent (the coalescer sends under its lock): the board
            # keeps the newest, whatever order the reports reach it in.
            numbers = itertools.count(1)
            progress = Coalescer(lambda value: board.progress.remote(key, next(numbers), *value))
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
