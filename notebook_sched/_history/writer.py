"""The writer: one thread owns every write to a run store.

The scheduler's loop hands it records and never waits: a locked, slow or
full file delays the records, never the loop. A batch that cannot be written
is kept, in order, and tried again with a growing pause (20 ms up to 250 ms), so
nothing is dropped; the first failure of an episode is logged once, naming
the path and the error, and its end is logged too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from .records import RunRecord
from .store import RunStore

__all__ = ["Writer"]

log = logging.getLogger("notebook_sched")

# While records keep coming (the last batch was written less than BUSY ago),
# the writer waits GATHER for more before writing: a burst of runs is written
# in a few transactions after it, and the writer does not contend for the
# interpreter while the loop starts runs. A lone record is written at once.
GATHER = 0.01
BUSY = 0.05
RETRY_FIRST = 0.02
RETRY_MAX = 0.25


class Writer:
    """Writes batches ``(starts, finals)`` to ``store`` on a thread of its own.

    ``on_written(starts, finals)`` is called on that thread after each
    committed batch; ``reserve`` asks the thread to set run ids aside
    (``on_reserved(first, count)`` follows).
    """

    def __init__(
        self,
        store: RunStore,
        on_written: Callable[[Sequence[RunRecord], Sequence[RunRecord]], None],
        on_reserved: Callable[[int, int], None],
    ) -> None:
        self._store = store
        self._on_written = on_written
        self._on_reserved = on_reserved
        self._cv = threading.Condition()
        self._starts: list[RunRecord] = []
        self._finals: list[RunRecord] = []
        self._outputs: dict[int, str] = {}  # live runs' output so far, by run id
        self._reserve = 0
        self._busy = False  # a batch is being written
        self._closing = False
        self._urgent = 0  # flushes waiting: write at once
        self._last = -1.0  # monotonic time of the last batch written
        self._thread: threading.Thread | None = None
        self.problem: str | None = None  # the error that holds records back, if any

    def put(self, starts: Sequence[RunRecord] = (), finals: Sequence[RunRecord] = ()) -> None:
        """Queue records to write (any thread; never waits for the file)."""
        with self._cv:
            if self._closing:
                return  # the store is closed (the interpreter is exiting): nowhere to write
            self._starts.extend(starts)
            self._finals.extend(finals)
            self._wake()

    def put_outputs(self, outputs: Sequence[tuple[str, int]]) -> None:
        """Queue the output so far of live runs ``(output, run_id)``; a newer
        one of the same run replaces an older one not yet written."""
        with self._cv:
            if self._closing:
                return
            for text, run_id in outputs:
                self._outputs[run_id] = text
            self._wake()

    def reserve(self, count: int) -> None:
        """Ask for ``count`` more run ids, set aside in the file."""
        with self._cv:
            self._reserve = max(self._reserve, count)
            self._wake()

    def _wake(self) -> None:  # under _cv
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._serve, name="notebook_sched-writer", daemon=True
            )
            self._thread.start()
        else:
            self._cv.notify()

    def idle(self) -> bool:
        with self._cv:
            return not (self._starts or self._finals or self._busy)

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far is written, at most ``timeout``
        seconds; ``True`` if it was. Never call it on the scheduler's loop but
        at its very end."""
        deadline = time.monotonic() + timeout
        with self._cv:
            self._urgent += 1
            self._cv.notify_all()
            try:
                while self._starts or self._finals or self._busy:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cv.wait(remaining)
            finally:
                self._urgent -= 1
        return True

    def close(self, timeout: float) -> bool:
        """Flush (bounded), then stop the thread; ``True`` if all was written."""
        done = self.flush(timeout)
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        return done

    def _serve(self) -> None:
        pause = RETRY_FIRST
        while True:
            with self._cv:
                while not (
                    self._starts or self._finals or self._outputs or self._reserve or self._closing
                ):
                    self._cv.wait()
                if self._closing and not (self._starts or self._finals):
                    self._thread = None
                    self._cv.notify_all()
                    return
                gather = not (self._urgent or self._closing or self._reserve)
                if gather and time.monotonic() - self._last < BUSY:
                    self._cv.wait(GATHER)  # let the rest of a burst come
                starts, self._starts = self._starts, []
                finals, self._finals = self._finals, []
                outputs, self._outputs = self._outputs, {}
                reserve, self._reserve = self._reserve, 0
                self._busy = True
            try:
                if reserve:
                    first = self._store.reserve_ids(reserve)
                    self._on_reserved(first, reserve)
                    reserve = 0
                if starts or finals or outputs:
                    self._store.write(starts, finals, [(t, i) for i, t in outputs.items()])
            except Exception as exc:
                if self._closing:  # closed while the file would not take them: give up
                    log.warning(
                        "notebook_sched: %d runs not recorded in runs_db %r at its close (%s)",
                        len(starts) + len(finals),
                        self._store.path,
                        exc,
                    )
                    with self._cv:
                        self._starts, self._finals, self._busy = [], [], False
                        self._thread = None
                        self._cv.notify_all()
                    return
                with self._cv:  # newer outputs of the same runs came meanwhile: they win
                    self._outputs = {**outputs, **self._outputs}
                self._held_back(exc, starts, finals, reserve)
                time.sleep(pause)  # on this thread: nothing else waits for it
                pause = min(pause * 2, RETRY_MAX)
                continue
            pause = RETRY_FIRST
            self._last = time.monotonic()
            if self.problem is not None:
                log.warning(
                    "notebook_sched: runs_db %r takes records again; none was lost",
                    self._store.path,
                )
                self.problem = None
            try:
                self._on_written(starts, finals)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def _held_back(
        self,
        exc: Exception,
        starts: list[RunRecord],
        finals: list[RunRecord],
        reserve: int,
    ) -> None:
        """Put a failed batch back in front, so order is kept and nothing is lost."""
        with self._cv:
            self._starts[:0] = starts
            self._finals[:0] = finals
            self._reserve = max(self._reserve, reserve)
            self._busy = False
            self._cv.notify_all()
        if self.problem is None:
            log.warning(
                "notebook_sched: could not record %d runs in runs_db %r (%s); they are kept "
                "in memory and retried",
                len(starts) + len(finals),
                self._store.path,
                exc,
            )
        self.problem = f"{type(exc).__name__}: {exc}"
