"""Starting a run: its arguments resolved, its job built, its execution
method called — on the scheduler's loop, for a run the ledger has launched.

A run that cannot start (an argument's ``FuncArg`` raised, or the execution
method refused) still ends through the ledger, with a record that says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from .._execution import async_, capture, main, thread
from .._execution.base import Executor, Job, Outcome
from .._execution.output import OutputBuffer, ProgressSink
from .._execution.process import handle as process
from .._execution.ray import handle as ray_
from .arguments import ArgumentFailed, Resolver
from .clock import Clock
from .config import SessionConfig
from .ledger import Ledger

if TYPE_CHECKING:
    from .definition import TaskDefinition
    from .run import Run
    from .task import Task

__all__ = ["Starter"]

_NOTHING: dict[str, Any] = {}  # what async, thread and main runs need beyond the job
_IN_KERNEL = ("async", "thread", "main")  # runs whose writes the kernel's streams carry

_EXECUTORS: dict[str, Executor] = {
    "async": async_.start,
    "thread": thread.start,
    "process": process.start,
    "main": main.start,
    "ray": ray_.start,
}


def _method(definition: TaskDefinition) -> str:
    """The executor of a run: an ``async def`` on ``"main"`` is awaited on
    the scheduler's loop, which is what ``"async"`` does."""
    if definition.execution == "main" and definition.is_async:
        return "async"
    return definition.execution


class Starter:
    def __init__(
        self,
        tasks: Mapping[str, Task],
        arguments: Resolver,
        ledger: Ledger,
        clock: Clock,
        config: SessionConfig,
    ) -> None:
        self._tasks = tasks
        self._arguments = arguments
        self._ledger = ledger
        self._clock = clock
        self._config = config

    def start(self, run: Run, loop: asyncio.AbstractEventLoop) -> None:
        definition = run.definition
        args = _NOTHING
        if definition.arg_params:
            try:
                args = self._arguments.resolve(definition.arg_params, self._tasks[run.task])
            except ArgumentFailed as exc:
                self._ledger.report(run, Outcome("fail", self._clock.time(), error=exc.text))
                return
        if self._config.capture_output:
            run.output = OutputBuffer(self._config.output_limit)
            self._ledger.history.watch_output(run.run_id, run.output)
            if definition.execution in _IN_KERNEL:
                capture.install()  # once; again only if something replaced sys.stdout
        if definition.progress_params:
            run.progress_sink = ProgressSink()
        job = Job(
            definition.name,
            run.run_id,
            definition.func,
            definition.flag_params,
            loop,
            self._clock.time,
            partial(self._ledger.report, run),
            definition.is_async,
            self._extra(definition),
            args,
            run.output,
            definition.progress_params,
            run.progress_sink,
            run if run.termination.deadline is not None else None,
        )
        try:
            handle = _EXECUTORS[_method(definition)](job)
        except Exception as exc:
            error = f"could not start: {exc!r}"
            self._ledger.report(run, Outcome("crash", self._clock.time(), error=error))
            return
        run.attach(handle)

    def _extra(self, definition: TaskDefinition) -> dict[str, Any]:
        if definition.execution not in ("process", "ray"):
            return _NOTHING
        return {
            "payload": definition.payload,
            "resources": definition.resources,
            "ray_address": self._config.ray_address,
        }
