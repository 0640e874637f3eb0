"""The writer: one thread owns every write to a run store.

The scheduler's loop hands it records and never waits: a locked, slow or
full file delays the records, never the loop. A batch that cannot be written
is kept, in order, and tried again with a growing pause (20 ms up to 250 ms), so
nothing is dropped; the first failure of an episode is logged once, naming
the path and the error, and its end is logged too.

While the scheduler runs, and before a flush is done, the thread also looks
whether the file is still the one at its path (``RunStore.follow_path``: an
``os.stat`` every ``WATCH`` seconds, here, never on the loop); a file deleted
or replaced is followed before the next batch is written.
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
WATCH = 1.0  # seconds between two looks at the file's path while watching


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
        self._watching = False  # look at the path every WATCH seconds
        self._look_at = 0.0  # monotonic time of the next look, while watching
        self._look_due = False  # a flush asked for a look
        self._final = False  # closing: the last flush's look is not retried
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

    def watch(self, on: bool) -> None:
        """Look at the file's path every ``WATCH`` seconds (or stop)."""
        if self._store.path is None:
            return  # in memory: no path
        with self._cv:
            self._watching = on
            if on:
                self._look_at = time.monotonic()
                self._wake()

    def _look_needed(self) -> bool:  # under _cv
        return self._look_due or (self._watching and time.monotonic() >= self._look_at)

    def _until_look(self) -> float | None:  # under _cv
        return max(0.0, self._look_at - time.monotonic()) if self._watching else None

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
            if self._thread is not None and self._store.path is not None:
                self._look_due = True  # it wrote: the records must be in the file at the path
            self._cv.notify_all()
            try:
                while self._starts or self._finals or self._busy or self._look_due:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cv.wait(remaining)
            finally:
                self._urgent -= 1
        return True

    def close(self, timeout: float) -> bool:
        """Flush (bounded), then stop the thread; ``True`` if all was written."""
        with self._cv:
            self._final = True  # one last look at the path, not retried
        done = self.flush(timeout)
        with self._cv:
            self._closing = True
            self._watching = self._look_due = False
            self._cv.notify_all()
        return done

    def _serve(self) -> None:
        pause = RETRY_FIRST
        while True:
            with self._cv:
                while not (
                    self._starts
                    or self._finals
                    or self._outputs
                    or self._reserve
                    or self._closing
                    or self._look_needed()
                ):
                    self._cv.wait(self._until_look())
                look = self._look_needed()
                if look:
                    self._look_due, self._busy = False, True
            if look:
                pause = RETRY_FIRST if self._look(pause) else min(pause * 2, RETRY_MAX)
                continue
            with self._cv:
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
            self._recovered()
            try:
                self._on_written(starts, finals)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def _look(self, pause: float) -> bool:
        """Follow the file if it was deleted or replaced; ``False`` if that
        failed (it is tried again after ``pause``)."""
        try:
            done = self._store.follow_path()
        except Exception as exc:
            with self._cv:
                # Closing: no more looks; the batch's own failure says what was lost.
                last = self._closing or self._final
                self._look_due = not last
                self._watching = self._watching and not last
            if last:
                if self._store.stranded() or self._starts or self._finals:  # else: none lost
                    log.warning("notebook_sched: %s; at the close, it is not tried again", exc)
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()
                return False
            self._held_back(exc, [], [], 0)
            time.sleep(pause)
            return False
        with self._cv:
            self._busy = False
            self._look_at = time.monotonic() + WATCH
            self._cv.notify_all()
        if done is not None:
            log.warning("notebook_sched: %s", done)
            self._recovered()
        return True

    def _recovered(self) -> None:
        if self.problem is not None:
            log.warning(
                "notebook_sched: runs_db %r takes records again; none was lost",
                self._store.path,
            )
            self.problem = None

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
            held = len(self._starts) + len(self._finals)
        if self.problem is None and not held:  # the history could not follow its file
            log.warning("notebook_sched: %s; it is kept in memory and tried again", exc)
        elif self.problem is None:
            log.warning(
                "notebook_sched: could not record %d runs in runs_db %r (%s); they are kept "
                "in memory and retried",
                held,
                self._store.path,
                exc,
            )
        self.problem = f"{type(exc).__name__}: {exc}"
