"""``History``: the scheduler's run history — records kept in memory until
the writer has them in the file, and every read answered from both.

A record is *pending* from the moment the loop makes it (a run starts, a run
ends) until the writer has committed it. Readers take the pending records
first and then read the file; a batch committed in between is noticed (a
sequence number) and the read is made again, so a reader never sees a
finished run as alive, nor a run twice.

Run ids are handed out at once, on whatever thread starts the run: from a
block the store set aside (``RunStore.reserve_ids``). The next block is asked
for, off the loop, while half of the present one is left.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime

from .live_output import LiveOutput, Written
from .records import RunRecord, new_record
from .store import RunStore, check_query
from .writer import Writer

__all__ = ["History", "IdsExhausted", "flush_all"]

# Run ids set aside at a time for a file. Small, so that the runs of two
# kernels sharing a file stay nearly in start order by run id; a block is
# asked for while half of the present one is left.
BLOCK = 256
MAX_BLOCK = 1 << 16
EXIT_FLUSH = 1.0  # seconds the exit waits for unwritten records (a kernel has 2.5 s to exit)
_READ_TRIES = 5

log = logging.getLogger("notebook_sched")


class IdsExhausted(RuntimeError):
    """No run id is at hand: the file stayed locked while a whole block was used."""


class History:
    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.store = RunStore(path)
        self._lock = threading.Lock()
        self._pending: dict[int, RunRecord] = {}
        self._written = 0  # batches committed: a read that saw a change reads again
        self._next_block: tuple[int, int] | None = None
        self._asked = False
        self._burst = 0  # the most runs started at once: blocks are at least twice that
        self._block = BLOCK  # grows while runs start faster than a block a second
        self._asked_at = -1.0
        self._short = False  # a start found too few ids
        self._warned_short = False  # that the file holds back run ids, while it does
        #: Called (on the writer's thread) when ids are at hand again after a shortage.
        self.on_ids: Callable[[], None] | None = None
        if self.path is None:
            # One process, one database: ids need no reservation.
            self._next_id, self._end_id = 1, 1 << 62
        else:
            first = self.store.reserve_ids(BLOCK)  # at construction: the file is opened now
            self._next_id, self._end_id = first, first + BLOCK
        #: Every run of this history has this run id or a higher one; the
        #: file's runs below it were there before.
        self.first_own_id: int = self._next_id
        self._writer = Writer(self.store, self._on_written, self._on_reserved)
        # In memory, the history dies with the process anyway: nothing to save as it goes.
        self._live = LiveOutput(self._writer.put_outputs) if self.path is not None else None
        _OPEN.add(self)

    @property
    def path(self) -> str | None:
        """The file's path (``None`` in memory); it moves beside the one given
        when that was replaced by a file that cannot take the history."""
        return self.store.path

    def file_keys(self) -> frozenset[object]:
        return self.store.file_keys()

    def watch_file(self, on: bool) -> None:
        """Look every second whether the file was deleted or replaced (while
        the scheduler runs; a flush looks once too)."""
        self._writer.watch(on)

    @property
    def backlog(self) -> int:
        """How many records are not in the file yet."""
        return len(self._pending)

    @property
    def problem(self) -> str | None:
        """Why records are held back from the file right now, or ``None``."""
        return self._writer.problem

    # ------------------------------------------------------------ writes

    def start_records(
        self, runs: Sequence[tuple[str, datetime]], attempts: Sequence[int] | None = None
    ) -> list[RunRecord]:
        """New records (status ``"run"``) for ``(task, start)``, of attempt
        ``attempts[i]`` (default 1); written soon.

        With a file, as many as the run ids at hand allow, in order: the rest
        (rare: the file stayed locked while a whole block was used) must wait,
        and ``IdsExhausted`` says so when not even one can start."""
        with self._lock:
            wanted = len(runs)
            self._burst = max(self._burst, wanted)
            if self._end_id - self._next_id < wanted and self._next_block is not None:
                # Whatever is left of this block is skipped: ids need not be dense.
                self._next_id, self._end_id = self._next_block
                self._next_block = None
                self._asked = False
            count = min(wanted, self._end_id - self._next_id)
            if self._end_id - self._next_id - count < max(self._block, self._burst) // 2:
                self._ask_for_ids()
            if count < wanted:
                self._short = True  # on_ids is called when the next block is at hand
            if count == 0:
                raise IdsExhausted(f"runs_db {self.path!r}: no run id set aside is left")
            first = self._next_id
            self._next_id += count
            if attempts is None:
                records = [
                    new_record(task, first + i, "run", None, start, None)
                    for i, (task, start) in enumerate(runs[:count])
                ]
            else:
                records = [
                    new_record(task, first + i, "run", None, start, None, attempt=attempts[i])
                    for i, (task, start) in enumerate(runs[:count])
                ]
            pending = self._pending
            for record in records:
                pending[record.run_id] = record
        self._writer.put(starts=records)
        return records

    def finish_records(self, records: Sequence[RunRecord]) -> None:
        """Final records of runs that ended; written soon."""
        with self._lock:
            for record in records:
                self._pending[record.run_id] = record
        if self._live is not None:
            for record in records:
                self._live.forget(record.run_id)
        self._writer.put(finals=records)

    def watch_output(self, run_id: int, output: Written) -> None:
        """Save what live run ``run_id`` writes to the file as it goes (every
        few seconds), so that a kernel killed outright does not lose it."""
        if self._live is not None:
            self._live.watch(run_id, output)

    def _ask_for_ids(self) -> None:  # under _lock
        if not self._asked and self.path is not None:
            self._asked = True
            now = time.monotonic()
            if now - self._asked_at < 1.0:  # runs start fast: set more aside at a time
                self._block = min(2 * self._block, MAX_BLOCK)
            self._asked_at = now
            self._writer.reserve(max(self._block, 2 * self._burst))

    def short_of_ids(self, exc: IdsExhausted) -> None:
        """A run found no run id at hand (it starts once ids come). Usually
        they follow within milliseconds; when the file will not take writes
        (locked, full) that is said once, until ids come again."""
        if self.problem is not None and not self._warned_short:
            self._warned_short = True
            log.warning("notebook_sched: %s; runs start once it takes writes again", exc)

    def _on_reserved(self, first: int, count: int) -> None:
        with self._lock:
            self._next_block = (first, first + count)
            self._warned_short = False
            short, self._short = self._short, False
        if short and self.on_ids is not None:
            self.on_ids()

    def _on_written(self, starts: Sequence[RunRecord], finals: Sequence[RunRecord]) -> None:
        with self._lock:
            pending = self._pending
            for record in (*starts, *finals):
                # A newer version (the run's end) stays until it is written too.
                if pending.get(record.run_id) is record:
                    del pending[record.run_id]
            self._written += 1

    def flush(self, timeout: float) -> bool:
        """Wait (bounded) until every record is in the file; not on the loop."""
        return self._writer.flush(timeout)

    def is_flushed(self) -> bool:
        return self._writer.idle()

    def close(self, timeout: float = EXIT_FLUSH) -> bool:
        """Write what is pending (bounded), give back the run ids set aside
        but not used, and close the file."""
        if self._live is not None:
            self._live.close()
        done = self._writer.close(timeout)
        _OPEN.discard(self)
        if done and self.path is not None:
            with self._lock:
                first, end = self._next_id, self._end_id
                if self._next_block is not None and self._next_block[0] == end:
                    end = self._next_block[1]
                self._next_id = self._end_id = first  # no id is handed out after this
                self._next_block = None
            with contextlib.suppress(Exception):  # a locked file keeps the gap: harmless
                self.store.release_ids(first, end)
        self.store.close()
        return done

    # ------------------------------------------------------------ reads

    def runs(
        self, task: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """The records oldest first (by ``run_id``), from memory and file."""
        check_query(status, limit)
        pending: list[RunRecord] = []
        found: list[RunRecord] = []
        for _ in range(_READ_TRIES):
            with self._lock:
                pending = list(self._pending.values())
                written = self._written
            wider = None if limit is None else limit + len(pending)
            found = self.store.runs(task=task, status=status, limit=wider)
            with self._lock:
                if self._written == written:
                    break
        if not pending:
            return found  # the file has it all (the usual case): no merge
        merged = {record.run_id: record for record in found}
        for record in pending:
            if task is not None and record.task != task:
                continue
            known = merged.get(record.run_id)
            if known is not None and known.status != "run":
                continue  # the file already has its end: the first final wins
            if status is not None and record.status != status:
                merged.pop(record.run_id, None)  # the run moved on since the file's record
                continue
            merged[record.run_id] = record
        records = sorted(merged.values(), key=lambda r: r.run_id)
        if limit is None:
            return records
        return records[max(0, len(records) - limit) :] if limit else []

    def __repr__(self) -> str:
        return f"History({self.store!r}, {len(self._pending)} pending)"


_OPEN: weakref.WeakSet[History] = weakref.WeakSet()


def flush_all(path: str | None = None, timeout: float = EXIT_FLUSH) -> None:
    """Write what every open history of this process holds (of ``path`` only,
    if given), waiting at most ``timeout`` seconds each."""
    where = None if path is None else os.path.realpath(path)
    for history in list(_OPEN):
        if where is None or (history.path and os.path.realpath(history.path) == where):
            history.flush(timeout)


def _at_exit() -> None:
    # The interpreter is exiting: write what is pending (bounded) and give
    # back unused run ids, so the next kernel's runs number on from these.
    for history in list(_OPEN):
        history.close(EXIT_FLUSH)


atexit.register(_at_exit)
