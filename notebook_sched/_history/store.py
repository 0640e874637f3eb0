"""``RunStore``: the run history in SQLite (in memory, or a file that
outlives the kernel) — the synchronous layer under the scheduler's writer.

* Every write is its own transaction, committed before the call returns, so a
  process killed right after loses nothing it recorded (WAL with
  ``synchronous=NORMAL``: durable against the crash of a process, not of the
  machine's power).
* A writer that finds the file locked waits (SQLite's busy timeout, then a
  bounded retry) and raises ``RunStoreError`` naming the path if it stays
  locked; a record is never dropped silently. The scheduler never calls a
  write from its loop: its ``Writer`` thread does (``writer.py``).
* Reads of a file go through a connection of their own: in WAL mode a reader
  never waits for a writer, this process's or another's.
* Finishing a run that is already final is a no-op that returns the existing
  record: the first final status wins.
* A file deleted or replaced while open is noticed by ``follow_path`` (the
  writer asks every second) and the history follows the path, whole
  (``moved_file.py``).
* Run ids: ``start`` takes the next one (AUTOINCREMENT); ``reserve_ids`` sets
  a block aside for a writer that hands ids out before its rows are written.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..exc import RunStoreError
from . import moved_file, queries, schema
from .records import FINAL_STATUSES, REASONS, RunRecord
from .schema import COLUMNS, SCHEMA_VERSION
from .transactions import transaction

__all__ = ["SCHEMA_VERSION", "RunStore", "RunStoreError"]

T = TypeVar("T")

_STATUSES = ("run", *FINAL_STATUSES)
_FINISH = (
    'UPDATE runs SET status = ?, reason = ?, "end" = ?, error = ?, result = ?, output = ? '
    "WHERE run_id = ? AND status = 'run'"
)


def _epoch(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be finite epoch seconds (a float), got {value!r}")
    return float(value)


def _check_final(status: str, reason: str | None) -> None:
    if status not in FINAL_STATUSES:
        raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}")
    if reason is not None and reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)} or None, got {reason!r}")


def final_row(record: RunRecord) -> tuple[Any, ...]:
    """The UPDATE parameters that give ``record``'s run its final state."""
    assert record.end is not None
    return (
        record.status, record.reason, record.end.timestamp(), record.error, record.result,
        record.output, record.run_id,
    )  # fmt: skip


class RunStore:
    """Thread-safe run history. ``path=None`` (or ``":memory:"``) keeps it in
    memory; otherwise it is the SQLite file to open or create."""

    #: SQLite's own wait for a lock, per attempt (seconds).
    busy_timeout: float = 1.0
    #: Total time a write keeps retrying a locked file before ``RunStoreError``.
    lock_wait: float = 5.0

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        if path is not None:
            path = os.fspath(path)
            if isinstance(path, bytes):
                raise TypeError("runs_db must be a str path or os.PathLike[str]")
            if path == ":memory:":
                path = None
        self.path: str | None = path
        from . import _owner

        self._owner = _owner.identity()
        self._lock = threading.Lock()  # the write connection
        self._read_lock = threading.Lock()
        self._closed = False
        if self.path is None:
            self._conn = schema.connect(":memory:", self.busy_timeout)
            for statement in schema.SCHEMA:
                self._conn.execute(statement)
            self._conn.execute(
                "INSERT INTO schema_version (version, last_opened) VALUES (?, ?)",
                (SCHEMA_VERSION, time.time()),
            )
            self._reader = self._conn  # one database: reads share the lock of writes
            self._read_lock = self._lock
        else:
            self._conn = schema.open_file(self.path, self.busy_timeout, self.lock_wait, self._fail)
            self._reader = schema.connect(self.path, self.busy_timeout)
        self._given = self.path  # the path asked for (``path`` may move beside it: moved_file)
        # The file opened, and its -wal and -shm, by identity (``moved_file``).
        self._opened: moved_file.Identity | None = None
        self._sidecars: dict[str, moved_file.Identity] = {}
        self._find_keys()
        # While the history follows a file deleted or replaced under it: what
        # that file held, ``(change, rows, last id set aside)``.
        self._moving: tuple[moved_file.Change, list[tuple[Any, ...]], int] | None = None

    def _fail(self, why: str, path: str | None = None) -> RunStoreError:
        return RunStoreError(f"runs_db {path or self.path!r} cannot be used: {why}")

    def file_keys(self) -> frozenset[object]:
        """What tells this file from another: its identity and real paths
        (none in memory); found when it is opened, so asking costs no I/O."""
        return self._keys

    def _find_keys(self) -> None:
        self._keys, self._opened, self._sidecars = moved_file.keys_of(self._given, self.path)

    def _do(self, body: Callable[[sqlite3.Connection], T], write: bool = True) -> T:
        if not write:
            with self._read_lock:
                self._check_open(write)  # while moving: read from the copy in memory
                return transaction(self._reader, body, self.path, self.lock_wait, write=False)
        with self._lock:
            self._check_open(write)
            return transaction(self._conn, body, self.path, self.lock_wait, write)

    def _check_open(self, write: bool) -> None:
        if self._closed:
            raise RunStoreError(f"runs_db {self.path!r}: the run store is closed")
        if write and self._moving is not None:
            raise RunStoreError(f"runs_db {self.path!r}: the file was {self._moving[0]}")

    # ------------------------------------------------------------ the path

    def stranded(self) -> int:
        """How many runs a file deleted or replaced under it held that are
        not in a file at the path yet (kept in memory meanwhile)."""
        return 0 if self._moving is None else len(self._moving[1])

    def follow_path(self) -> str | None:
        """If the file at ``path`` is no longer the one opened (deleted or
        replaced), move the history to the file the path leads to now, or
        beside it (``moved_file``); returns what was done, for a warning.
        ``RunStoreError`` if it cannot be done yet (tried again: until then
        reads are answered from a copy in memory, and writes wait)."""
        if self.path is None or self._opened is None:
            return None
        with self._lock:
            if self._closed:
                return None
            if self._moving is None:
                change = moved_file.change(self.path, self._opened)
                if change is None:
                    return None
                copy, rows, seq = moved_file.read_out(self._conn)
                with self._read_lock:
                    old, self._reader = self._reader, copy
                old.close()
                self._conn.close()  # before the path's new file is opened: see moved_file
                moved_file.drop_stale(self._sidecars)
                self._moving = (change, rows, seq)
            change, rows, seq = self._moving
            try:
                conn, reader, target, done = moved_file.move(
                    self.path, change, rows, seq, self.busy_timeout, self._fail
                )
            except (sqlite3.Error, OSError, RunStoreError) as exc:
                raise RunStoreError(
                    f"runs_db {self.path!r} was {change} while open, and its history "
                    f"({len(rows)} runs) cannot be put back: {exc}"
                ) from exc
            with self._read_lock:
                copy, self._reader = self._reader, reader
            copy.close()
            self._conn, self.path, self._moving = conn, target, None
            self._find_keys()
            return done

    # ------------------------------------------------------------ writes

    def start(self, task: str, start: float) -> RunRecord:
        """Record a new run of ``task`` (status ``"run"``) started at
        ``start`` (epoch seconds); the record carries its new ``run_id``."""
        return self.start_many([(task, start)])[0]

    def start_many(self, runs: list[tuple[str, float]]) -> list[RunRecord]:
        """Record several new runs ``(task, start)`` in one transaction."""
        checked = []
        for task, start in runs:
            if not isinstance(task, str) or not task:
                raise ValueError(f"task must be a non-empty str, got {task!r}")
            checked.append((task, _epoch(start, "start")))

        def insert(conn: sqlite3.Connection) -> list[int]:
            ids = []
            for task, start in checked:
                cursor = conn.execute(
                    "INSERT INTO runs (task, status, start, owner) VALUES (?, 'run', ?, ?)",
                    (task, start, self._owner),
                )
                assert cursor.lastrowid is not None
                ids.append(cursor.lastrowid)
            return ids

        ids = self._do(insert) if checked else []
        return [
            RunRecord(task, run_id, "run", None, queries.to_datetime(start), None)  # type: ignore[arg-type]
            for (task, start), run_id in zip(checked, ids, strict=True)
        ]

    def finish(
        self,
        run_id: int,
        status: str,
        *,
        end: float,
        reason: str | None = None,
        error: str | None = None,
        result: str | None = None,
        output: str = "",
    ) -> RunRecord:
        """Give a run its final record and return it.

        A run is finished once: if it is already final (finished, or marked
        ``"crash"``), nothing changes and the existing record is returned.
        ``KeyError`` if there is no run ``run_id``.
        """
        _check_final(status, reason)
        end = _epoch(end, "end")
        for name, value in (("error", error), ("result", result)):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a str or None, got {type(value).__name__}")
        if not isinstance(output, str):
            raise ValueError(f"output must be a str, got {type(output).__name__}")

        def update(conn: sqlite3.Connection) -> tuple[Any, ...] | None:
            conn.execute(_FINISH, (status, reason, end, error, result, output, run_id))
            return conn.execute(
                f"SELECT {COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()

        row = self._do(update)
        if row is None:
            raise KeyError(f"no run with run_id {run_id!r} in the run history")
        return queries.record(row)

    def finish_many(
        self, finals: list[tuple[int, str, float, str | None, str | None, str | None]]
    ) -> None:
        """Give several runs ``(run_id, status, end, reason, error, result)``
        their final records in one transaction; a run already final is left
        as it is (as with ``finish``)."""
        rows = []
        for run_id, status, end, reason, error, result in finals:
            _check_final(status, reason)
            rows.append((status, reason, _epoch(end, "end"), error, result, "", run_id))
        if rows:
            self._do(lambda conn: conn.executemany(_FINISH, rows) and None)

    def reserve_ids(self, count: int) -> int:
        """Set ``count`` run ids aside for this process; returns the first.

        No other writer (AUTOINCREMENT, or another process's reservation) is
        given an id of the block, so rows can be written with them later."""

        def reserve(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
            if row is None:
                conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", (count,))
                return 1
            conn.execute(
                "UPDATE sqlite_sequence SET seq = ? WHERE name = 'runs'", (row[0] + count,)
            )
            return int(row[0]) + 1

        return self._do(reserve)

    def release_ids(self, first_unused: int, end: int) -> bool:
        """Give back the ids ``first_unused .. end - 1`` of a reserved block,
        if no one set ids aside after it (then the next run numbers on from
        this process's last). ``True`` if they were given back."""

        def release(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE sqlite_sequence SET seq = ? WHERE name = 'runs' AND seq = ?",
                (first_unused - 1, end - 1),
            )
            return cursor.rowcount == 1

        return self._do(release)

    def write(
        self,
        starts: Sequence[RunRecord],
        finals: Sequence[RunRecord],
        outputs: Sequence[tuple[str, int]] = (),
    ) -> None:
        """Insert ``starts`` (with their own run ids), save the output so far
        of live runs (``(output, run_id)``; a run already final keeps its
        own) and give ``finals`` their final state, in one transaction. A
        start already written is skipped; a run already final stays as it is.
        A run whose start and end are both in the batch is written once, as
        its final row (half the work for a writer catching up after a burst)."""
        ends = {r.run_id: r for r in finals}
        inserts, done = [], []
        for r in starts:
            end = ends.pop(r.run_id, None)
            if end is None:
                inserts.append((r.run_id, r.task, r.start.timestamp(), self._owner, r.attempt))
            else:
                done.append((*final_row(end), r.task, r.start.timestamp(), self._owner, r.attempt))
        updates = [final_row(r) for r in ends.values()]

        def body(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR IGNORE INTO runs (run_id, task, status, start, owner, attempt) "
                "VALUES (?, ?, 'run', ?, ?, ?)",
                inserts,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO runs "
                '(status, reason, "end", error, result, output, run_id, task, start, owner, '
                "attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                done,
            )
            conn.executemany(
                "UPDATE runs SET output = ? WHERE run_id = ? AND status = 'run'", outputs
            )
            conn.executemany(_FINISH, updates)

        self._do(body)

    # ------------------------------------------------------------ reads

    def runs(
        self, task: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Records oldest first (by ``run_id``), optionally of one task and/or
        status; with ``limit``, the newest ``limit`` of them, still oldest first."""
        check_query(status, limit)
        return self._do(lambda conn: queries.select_runs(conn, task, status, limit), write=False)

    def last(self, task: str) -> RunRecord | None:
        """The newest record of ``task`` (alive or final), or ``None``."""
        found = self.runs(task=task, limit=1)
        return found[0] if found else None

    def last_per_task(self) -> dict[str, RunRecord]:
        """The newest record of every task."""
        return self._do(queries.last_per_task, write=False)

    def last_times(self) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
        """``(latest start per task, latest end per (task, how))``, ``how`` in
        ``success | fail | terminate | crash``."""
        return self._do(queries.last_times, write=False)

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of runs per task and status."""
        return self._do(queries.counts, write=False)

    def events(self, before: int) -> list[tuple[str, str, float, float | None]]:
        """``(task, status, start, end)`` of the runs before run id ``before``,
        oldest first: every start and end the file knows of (a long read:
        not for the scheduler's loop)."""
        return self._do(lambda conn: queries.events(conn, before), write=False)

    def close(self) -> None:
        """Close the database (idempotent); later calls raise ``RunStoreError``."""
        shared = self._read_lock is self._lock  # in memory: one connection, one lock
        with self._lock, contextlib.nullcontext() if shared else self._read_lock:
            if self._closed:
                return
            self._closed = True
            self._conn.close()
            if self._reader is not self._conn:
                self._reader.close()

    def __repr__(self) -> str:
        where = "memory" if self.path is None else repr(self.path)
        return f"RunStore({where}{', closed' if self._closed else ''})"


def check_query(status: str | None, limit: int | None) -> None:
    """``ValueError`` for a status or limit that no query takes."""
    if status is not None and status not in _STATUSES:
        raise ValueError(f"status must be one of {', '.join(_STATUSES)}, got {status!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be an int >= 0 or None, got {limit!r}")
