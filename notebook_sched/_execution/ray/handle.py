"""``execution="ray"``: a run on a Ray cluster, with a process run's
termination semantics.

The function travels cloudpickled (functions, lambdas and closures defined in
a notebook cell work), as a Ray task with the task's resources and no
retries. Termination: the polite step sets the run's ``TerminationFlag``
(through the connection's ``FlagBoard`` actor); the forced step, after the
grace period, is ``ray.cancel(ref, force=True)``, which kills the worker. The
run's end arrives as a callback of its ``ObjectRef``'s future — nothing polls
and nothing blocks the scheduler's loop.

A run's deadline counts from its launch, even while the local Ray is still
starting (seconds): a run stopped before its connection is made ends at once,
and is never sent to Ray.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import uuid
from typing import Any

from ..base import Executor, Job, Outcome
from ..call import outcome_of_report
from ..capture import log_levels
from ..payload import serialize_args
from .cluster import RayConnection, connect

__all__ = ["RayHandle", "start"]

log = logging.getLogger("notebook_sched")

NOT_SENT = "terminated before it reached Ray"


class RayHandle:
    def __init__(self, job: Job) -> None:
        self._job = job
        self._key = f"{job.task}:{job.run_id}:{uuid.uuid4().hex}"
        self._lock = threading.Lock()
        self._connection: RayConnection | None = None
        self._board: Any = None
        self._ref: Any = None
        self._stop_requested = False
        self._kill_requested = False
        self._settled = False  # the connection's answer was taken: sent, or never to be
        self._finished = False
        # Runs in the connecting thread, or here at once when already connected.
        connect(job.extra.get("ray_address")).add_done_callback(self._connected)

    def _connected(self, future: concurrent.futures.Future[RayConnection]) -> None:
        job = self._job
        try:
            connection = future.result()
        except BaseException as exc:
            self._finish(Outcome("crash", job.now(), error=f"could not connect to Ray: {exc}"))
            return
        error: str | None = None
        with self._lock:
            self._settled = True
            stopped = self._stop_requested
            if not stopped:
                try:
                    self._board = (
                        connection.board() if job.flag_params or job.progress_params else None
                    )
                    self._ref = connection.submit(
                        job.extra["payload"],
                        serialize_args(dict(job.args)) if job.args else b"",
                        self._key,
                        self._board,
                        name=f"notebook_sched:{job.task}",
                        options=dict(job.extra.get("resources") or ()),
                        capture=self._capture(),
                    )
                except Exception as exc:
                    error = f"could not send the run to Ray: {exc!r}"
                    self._ref = None
                else:
                    self._connection = connection
        if stopped:  # stop() came first and reported the end: the run is never sent
            return
        if error is not None:
            self._finish(Outcome("crash", job.now(), error=error))
            return
        self._ref.future().add_done_callback(self._ended)
        if job.progress_params and job.progress is not None:
            self._watch_progress(0)

    def _watch_progress(self, seen: int) -> None:
        # One call waits for the next report: nothing is sent while nothing changes.
        with self._lock:
            board = None if self._finished else self._board
        if board is not None:
            board.next_progress.remote(self._key, seen).future().add_done_callback(
                self._progress_came
            )

    def _progress_came(self, future: concurrent.futures.Future[Any]) -> None:
        try:
            report = future.result()
        except Exception:  # the board is gone (Ray stopped): the run ends on its own
            return
        if report is not None and self._job.progress is not None:
            seen, (fraction, message) = report
            self._job.progress(fraction, message)
            self._watch_progress(seen)

    def _capture(self) -> dict[str, Any] | None:
        output = self._job.output
        if output is None:
            return None
        return {"limit": output.limit, "levels": log_levels()}

    def _ended(self, future: concurrent.futures.Future[Any]) -> None:
        end = self._job.now()
        try:
            sent, written = future.result()
        except BaseException as exc:
            self._finish(self._failure(exc, end))
        else:
            if written is not None and self._job.output is not None:
                self._job.output.extend(*written)
            self._finish(outcome_of_report(sent, end))

    def _failure(self, exc: BaseException, end: float) -> Outcome:
        from ray.exceptions import TaskCancelledError

        if isinstance(exc, TaskCancelledError | concurrent.futures.CancelledError):
            if self._kill_requested:
                return Outcome(
                    "terminate", end, error="the Ray worker was killed (ray.cancel, force=True)"
                )
            return Outcome("crash", end, error="the Ray task was cancelled outside the scheduler")
        text = str(exc).strip() or repr(exc)
        return Outcome("crash", end, error=f"{type(exc).__name__}: {text}")

    def _finish(self, outcome: Outcome) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
            connection, board = self._connection, self._board
        if connection is not None and board is not None:
            # The run is over: its flag is no longer held on the actor.
            with contextlib.suppress(Exception):
                connection.release_flag(board, self._key)
        self._job.done(outcome)

    def stop(self) -> None:
        with self._lock:
            self._stop_requested = True
            connection, board = self._connection, self._board
            live = not self._finished
            before_ray = live and not self._settled
        if before_ray:
            # Ray is still starting (that takes seconds): the run ends now — at
            # its deadline, say — and the connection, once made, does not send it.
            self._finish(Outcome("terminate", self._job.now(), error=NOT_SENT))
        elif live and connection is not None and board is not None:
            connection.set_flag(board, self._key)

    def force(self) -> None:
        with self._lock:
            self._kill_requested = True
            connection, ref = self._connection, self._ref
            live = not self._finished
        if live and connection is not None and ref is not None:
            try:
                connection.cancel(ref)
            except Exception:  # it ended in between; the forced step comes again otherwise
                log.debug("notebook_sched: ray.cancel failed", exc_info=True)


start: Executor = RayHandle
