"""``RunStore``: the run history in SQLite (in memory, or a file that
outlives the kernel).

* Every write is its own transaction, committed before the call returns, so a
  process killed right after loses nothing it recorded (WAL with
  ``synchronous=NORMAL``: durable against the crash of a process, not of the
  machine's power).
* A file is created readable and writable by its owner only (``0o600``) and
  used in WAL mode, so several schedulers (kernels) can share it. A writer
  that finds the file locked waits (SQLite's busy timeout, then a bounded
  retry) and raises ``RunStoreError`` naming the path if it stays locked; a
  record is never dropped silently.
* When a file is opened, records left at ``"run"`` by a process that is gone
  are marked ``"crash"``. A run whose owner still lives is never marked.
* Finishing a run that is already final is a no-op that returns the existing
  record: the first final status wins.
* The store holds no records in memory; every query goes to SQLite, with
  indexes that keep one task's newest runs fast in a long history.
"""

from __future__ import annotations

import math
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from . import _owner
from .records import FINAL_STATUSES, REASONS, RunRecord

__all__ = ["SCHEMA_VERSION", "RunStore", "RunStoreError"]

T = TypeVar("T")

SCHEMA_VERSION = 1

# Rowids are the last column of every SQLite index, so an index on (task)
# already returns one task's runs in run_id order: the newest N are a seek.
_SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS schema_version (
        version     INTEGER NOT NULL,
        last_opened REAL
    )""",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id  INTEGER PRIMARY KEY AUTOINCREMENT,
        task    TEXT NOT NULL,
        status  TEXT NOT NULL,
        reason  TEXT,
        start   REAL NOT NULL,
        "end"   REAL,
        error   TEXT,
        result  TEXT,
        owner   TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS runs_by_task ON runs (task, run_id)",
    "CREATE INDEX IF NOT EXISTS runs_by_task_status ON runs (task, status, run_id)",
    "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, run_id)",
    # The latest start (how = 'start') and the latest end per final status of
    # each task, kept by triggers so that ``last_times`` does not scan the
    # history. Deleting runs does not lower them: they stay the latest ever.
    """CREATE TABLE IF NOT EXISTS task_times (
        task TEXT NOT NULL,
        how  TEXT NOT NULL,
        at   REAL NOT NULL,
        PRIMARY KEY (task, how)
    ) WITHOUT ROWID""",
    """CREATE TRIGGER IF NOT EXISTS runs_inserted AFTER INSERT ON runs BEGIN
        INSERT INTO task_times (task, how, at) VALUES (NEW.task, 'start', NEW.start)
            ON CONFLICT (task, how) DO UPDATE SET at = MAX(at, excluded.at);
        INSERT INTO task_times (task, how, at)
            SELECT NEW.task, NEW.status, NEW."end"
            WHERE NEW.status != 'run' AND NEW."end" IS NOT NULL
            ON CONFLICT (task, how) DO UPDATE SET at = MAX(at, excluded.at);
    END""",
    """CREATE TRIGGER IF NOT EXISTS runs_finished AFTER UPDATE OF status, "end" ON runs
    WHEN NEW.status != 'run' AND NEW."end" IS NOT NULL BEGIN
        INSERT INTO task_times (task, how, at) VALUES (NEW.task, NEW.status, NEW."end")
            ON CONFLICT (task, how) DO UPDATE SET at = MAX(at, excluded.at);
    END""",
)
# For a file written before task_times existed (no schema_version row yet).
_FILL_TASK_TIMES = (
    "INSERT OR REPLACE INTO task_times (task, how, at) "
    "SELECT task, 'start', MAX(start) FROM runs GROUP BY task",
    'INSERT OR REPLACE INTO task_times (task, how, at) SELECT task, status, MAX("end") '
    "FROM runs WHERE status != 'run' AND \"end\" IS NOT NULL GROUP BY task, status",
)
_COLUMNS = 'task, run_id, status, reason, start, "end", error, result'
_STATUSES = ("run", *FINAL_STATUSES)


class RunStoreError(ValueError):
    """The run history file cannot serve; the message names the path and why."""


def _to_datetime(epoch: float | None) -> datetime | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).astimezone()


def _record(row: tuple[Any, ...]) -> RunRecord:
    task, run_id, status, reason, start, end, error, result = row
    return RunRecord(
        task,
        run_id,
        status,
        reason,
        _to_datetime(start),  # type: ignore[arg-type]
        _to_datetime(end),
        error,
        result,
    )


def _epoch(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be finite epoch seconds (a float), got {value!r}")
    return float(value)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


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
        self._owner = _owner.identity()
        self._lock = threading.Lock()
        self._closed = False
        if self.path is None:
            self._conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            for statement in _SCHEMA:
                self._conn.execute(statement)
            self._conn.execute(
                "INSERT INTO schema_version (version, last_opened) VALUES (?, ?)",
                (SCHEMA_VERSION, time.time()),
            )
        else:
            self._conn = self._open_file(self.path)

    # ------------------------------------------------------------ opening

    def _fail(self, why: str) -> RunStoreError:
        return RunStoreError(f"runs_db {self.path!r} cannot be used: {why}")

    def _open_file(self, path: str) -> sqlite3.Connection:
        if path == "":
            raise self._fail("the path is empty")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.exists(folder):
            raise self._fail(f"folder {folder!r} does not exist")
        if not os.path.isdir(folder):
            raise self._fail(f"{folder!r} is not a folder")
        if os.path.isdir(path):
            raise self._fail("it is a directory")
        if not os.path.exists(path):
            # Create it readable by its owner only, before SQLite opens it.
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process created it in between: use theirs
            except OSError as exc:
                raise self._fail(f"it cannot be created ({exc.strerror or exc})") from exc
            else:
                os.close(fd)
        elif not os.path.isfile(path):
            raise self._fail("it is not a regular file")
        try:
            conn = sqlite3.connect(
                path, timeout=self.busy_timeout, check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise self._fail(self._explain(exc)) from exc
        try:
            self._setup(conn)
        except RunStoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise self._fail(self._explain(exc)) from exc
        self._protect_sidecars(path)
        return conn

    def _explain(self, exc: sqlite3.Error) -> str:
        """SQLite's message, with the likely cause for the common ones."""
        text = str(exc)
        path = self.path
        assert path is not None
        folder = os.path.dirname(os.path.abspath(path))
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            if os.path.exists(path) and not os.access(path, os.W_OK):
                return f"the file is read-only ({text})"
            if not os.access(folder, os.W_OK):
                return (
                    f"its folder {folder!r} is read-only; SQLite needs to create "
                    f"the -wal and -shm files next to it ({text})"
                )
        if "not a database" in text:
            return f"it is not a SQLite database ({text})"
        return text

    def _setup(self, conn: sqlite3.Connection) -> None:
        # Reads the header: a file that is not SQLite fails here.
        mode = self._retry(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        if str(mode).lower() != "wal":
            raise self._fail(f"SQLite could not switch it to WAL mode (journal_mode={mode})")
        conn.execute("PRAGMA synchronous=NORMAL")

        def prepare(conn: sqlite3.Connection) -> None:
            for statement in _SCHEMA:
                conn.execute(statement)
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                for statement in _FILL_TASK_TIMES:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, last_opened) VALUES (?, ?)",
                    (SCHEMA_VERSION, time.time()),
                )
            elif row[0] > SCHEMA_VERSION:
                raise self._fail(
                    f"it was written by a newer notebook_sched (schema version {row[0]}; "
                    f"this one reads up to {SCHEMA_VERSION})"
                )
            else:
                # A real write, so a file that cannot take one fails here, now.
                conn.execute("UPDATE schema_version SET last_opened = ?", (time.time(),))
            self._mark_crashed(conn)

        self._transaction(conn, prepare)

    def _protect_sidecars(self, path: str) -> None:
        """Give the -wal and -shm files the database's own (owner-only) mode."""
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            return
        for suffix in ("-wal", "-shm"):
            try:
                if stat.S_IMODE(os.stat(path + suffix).st_mode) != mode & 0o600:
                    os.chmod(path + suffix, mode & 0o600)
            except OSError:
                pass  # not there (yet), or another user's: nothing to tighten

    def _mark_crashed(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute("SELECT run_id, owner FROM runs WHERE status = 'run'").fetchall()
        now = time.time()
        verdicts: dict[str, str] = {}
        for run_id, owner in rows:
            if owner not in verdicts:
                verdicts[owner] = _owner.liveness(owner)
            if verdicts[owner] != "dead":
                continue  # its scheduler may be alive, and the run with it
            conn.execute(
                "UPDATE runs SET status = 'crash', \"end\" = ?, error = ? "
                "WHERE run_id = ? AND status = 'run'",
                (
                    now,
                    f"the scheduler's process ({_owner.describe(owner)}) ended while "
                    "this run was alive",
                    run_id,
                ),
            )

    # ------------------------------------------------------------ transactions

    def _transaction(
        self, conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T], write: bool = True
    ) -> T:
        """Run ``body`` in one transaction, committed before returning.

        While another writer holds the file, SQLite waits ``busy_timeout``
        and then this retries, ``lock_wait`` seconds in all; then
        ``RunStoreError`` naming the path.
        """

        def attempt() -> T:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                out = body(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return out

        return self._retry(attempt)

    def _retry(self, attempt: Callable[[], T]) -> T:
        deadline = time.monotonic() + self.lock_wait
        while True:
            try:
                return attempt()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise RunStoreError(
                        f"runs_db {self.path!r} stayed locked by another writer for "
                        f"{self.lock_wait:g} s: {exc}"
                    ) from exc
                _pause()

    def _do(self, body: Callable[[sqlite3.Connection], T], write: bool = True) -> T:
        with self._lock:
            if self._closed:
                raise RunStoreError(f"runs_db {self.path!r}: the run store is closed")
            return self._transaction(self._conn, body, write)

    # ------------------------------------------------------------ API

    def start(self, task: str, start: float) -> RunRecord:
        """Record a new run of ``task`` (status ``"run"``) started at
        ``start`` (epoch seconds); the record carries its new ``run_id``."""
        return self.start_many([(task, start)])[0]

    def start_many(self, runs: list[tuple[str, float]]) -> list[RunRecord]:
        """Record several new runs ``(task, start)`` in one transaction (the
        scheduler starts every run due at one moment together)."""
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
            RunRecord(task, run_id, "run", None, _to_datetime(start), None)  # type: ignore[arg-type]
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
    ) -> RunRecord:
        """Give a run its final record and return it.

        A run is finished once: if it is already final (finished, or marked
        ``"crash"``), nothing changes and the existing record is returned.
        ``KeyError`` if there is no run ``run_id``.
        """
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}")
        if reason is not None and reason not in REASONS:
            raise ValueError(f"reason must be one of {', '.join(REASONS)} or None, got {reason!r}")
        end = _epoch(end, "end")
        for name, value in (("error", error), ("result", result)):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a str or None, got {type(value).__name__}")

        def update(conn: sqlite3.Connection) -> tuple[Any, ...] | None:
            conn.execute(
                'UPDATE runs SET status = ?, reason = ?, "end" = ?, error = ?, result = ? '
                "WHERE run_id = ? AND status = 'run'",
                (status, reason, end, error, result, run_id),
            )
            return conn.execute(
                f"SELECT {_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()

        row = self._do(update)
        if row is None:
            raise KeyError(f"no run with run_id {run_id!r} in the run history")
        return _record(row)

    def finish_many(
        self, finals: list[tuple[int, str, float, str | None, str | None, str | None]]
    ) -> None:
        """Give several runs ``(run_id, status, end, reason, error, result)``
        their final records in one transaction; a run already final is left
        as it is (as with ``finish``)."""
        rows = []
        for run_id, status, end, reason, error, result in finals:
            if status not in FINAL_STATUSES:
                raise ValueError(
                    f"status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}"
                )
            if reason is not None and reason not in REASONS:
                raise ValueError(
                    f"reason must be one of {', '.join(REASONS)} or None, got {reason!r}"
                )
            rows.append((status, reason, _epoch(end, "end"), error, result, run_id))

        def update(conn: sqlite3.Connection) -> None:
            conn.executemany(
                'UPDATE runs SET status = ?, reason = ?, "end" = ?, error = ?, result = ? '
                "WHERE run_id = ? AND status = 'run'",
                rows,
            )

        if rows:
            self._do(update)

    def runs(
        self, task: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Records oldest first (by ``run_id``), optionally of one task and/or
        status; with ``limit``, the newest ``limit`` of them, still oldest first."""
        if status is not None and status not in _STATUSES:
            raise ValueError(f"status must be one of {', '.join(_STATUSES)}, got {status!r}")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValueError(f"limit must be an int >= 0 or None, got {limit!r}")
        where: list[str] = []
        params: list[Any] = []
        if task is not None:
            where.append("task = ?")
            params.append(task)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {_COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if limit is None:
            sql += " ORDER BY run_id"
        else:
            sql += " ORDER BY run_id DESC LIMIT ?"
            params.append(limit)
        rows = self._do(lambda conn: conn.execute(sql, params).fetchall(), write=False)
        if limit is not None:
            rows.reverse()
        return [_record(row) for row in rows]

    def last(self, task: str) -> RunRecord | None:
        """The newest record of ``task`` (alive or final), or ``None``."""
        found = self.runs(task=task, limit=1)
        return found[0] if found else None

    def last_times(self) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
        """``(latest start per task, latest end per (task, how))``, ``how`` in
        ``success | fail | terminate | crash``."""

        rows = self._do(
            lambda conn: conn.execute("SELECT task, how, at FROM task_times").fetchall(),
            write=False,
        )
        starts: dict[str, float] = {}
        ends: dict[tuple[str, str], float] = {}
        for task, how, at in rows:
            if how == "start":
                starts[task] = at
            else:
                ends[task, how] = at
        return starts, ends

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of runs per task and status (the panel's run counts)."""
        rows = self._do(
            lambda conn: conn.execute(
                "SELECT task, status, COUNT(*) FROM runs GROUP BY task, status"
            ).fetchall(),
            write=False,
        )
        counts: dict[str, dict[str, int]] = {}
        for task, status, n in rows:
            counts.setdefault(task, {})[status] = n
        return counts

    def close(self) -> None:
        """Close the database (idempotent); later calls raise ``RunStoreError``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._conn.close()

    def __repr__(self) -> str:
        where = "memory" if self.path is None else repr(self.path)
        return f"RunStore({where}{', closed' if self._closed else ''})"


def _pause() -> None:
    """Between retries of a locked write (a hook tests can replace)."""
    time.sleep(0.02)
