"""``RunStore``: the run history in SQLite (in memory, or a file that
outlives the kernel).

Every write commits at once, so a killed process loses nothing it recorded.
A file is created readable by its owner only and used in WAL mode, so several
schedulers (kernels) can share it. Records left at ``"run"`` by a process that
is gone are marked ``"crash"`` when the file is opened.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import Any

from .records import FINAL_STATUSES, REASONS, RunRecord

__all__ = ["RunStore", "RunStoreError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    task    TEXT NOT NULL,
    status  TEXT NOT NULL,
    reason  TEXT,
    start   REAL NOT NULL,
    "end"   REAL,
    error   TEXT,
    result  TEXT,
    owner   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_task ON runs (task, run_id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, run_id);
"""
_COLUMNS = 'task, run_id, status, reason, start, "end", error, result'
_LOCK_RETRY_SECONDS = 10.0


class RunStoreError(ValueError):
    """The run history file cannot serve; the message names the path."""


def _process_identity(pid: int) -> str | None:
    """``pid:start-time`` — so a reused pid is not mistaken for the owner."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] in ("Z", "X"):
        return None
    return f"{pid}:{fields[19]}"


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
        _to_datetime(start),
        _to_datetime(end),  # type: ignore[arg-type]
        error,
        result,
    )


class RunStore:
    """Thread-safe run history. ``path=None`` keeps it in memory."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = os.fspath(path) if path is not None else None
        self._owner = _process_identity(os.getpid()) or f"{os.getpid()}:?"
        self._lock = threading.Lock()
        try:
            self._conn = self._open()
        except RunStoreError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise RunStoreError(f"runs_db {self.path!r} cannot be used: {exc}") from exc

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            conn.executescript(_SCHEMA)
            return conn
        path = self.path
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise RunStoreError(
                f"runs_db {path!r} cannot be used: folder {folder!r} does not exist"
            )
        if os.path.isdir(path):
            raise RunStoreError(f"runs_db {path!r} cannot be used: it is a directory")
        # Create it readable by its owner only, before SQLite opens it.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        conn = sqlite3.connect(
            path, timeout=_LOCK_RETRY_SECONDS, check_same_thread=False, isolation_level=None
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._write(conn, _SCHEMA, script=True)
            self._mark_crashed(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise RunStoreError(f"runs_db {path!r} cannot be used: {exc}") from exc
        for suffix in ("-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.chmod(path + suffix, 0o600)
        return conn

    def _write(
        self, conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = (), script: bool = False
    ) -> sqlite3.Cursor | None:
        """One write, committed at once; retried while another writer holds the
        file, then an error naming the path — never a silently dropped record."""
        deadline = time.monotonic() + _LOCK_RETRY_SECONDS
        while True:
            try:
                if script:
                    conn.executescript(sql)
                    return None
                return conn.execute(sql, params)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise RunStoreError(
                        f"runs_db {self.path!r} stayed locked by another writer for "
                        f"{_LOCK_RETRY_SECONDS:.0f} s: {exc}"
                    ) from exc
                time.sleep(0.05)

    def _mark_crashed(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute("SELECT run_id, owner FROM runs WHERE status = 'run'").fetchall()
        now = time.time()
        for run_id, owner in rows:
            pid = int(owner.split(":", 1)[0])
            if _process_identity(pid) == owner:
                continue  # its scheduler is alive: the run may be too
            self._write(
                conn,
                "UPDATE runs SET status = 'crash', \"end\" = ?, error = ? "
                "WHERE run_id = ? AND status = 'run'",
                (
                    now,
                    f"the scheduler's process (pid {pid}) ended while this run was alive",
                    run_id,
                ),
            )

    def start(self, task: str, start: float) -> RunRecord:
        """Record a new run (status ``"run"``)."""
        with self._lock:
            cursor = self._write(
                self._conn,
                "INSERT INTO runs (task, status, start, owner) VALUES (?, 'run', ?, ?)",
                (task, start, self._owner),
            )
            assert cursor is not None
            run_id = cursor.lastrowid
        return RunRecord(task, int(run_id or 0), "run", None, _to_datetime(start), None)  # type: ignore[arg-type]

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
        """Give a run its final record; a run is finished once (later calls
        return the existing record unchanged)."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {FINAL_STATUSES}, got {status!r}")
        if reason is not None and reason not in REASONS:
            raise ValueError(f"reason must be one of {REASONS} or None, got {reason!r}")
        with self._lock:
            self._write(
                self._conn,
                'UPDATE runs SET status = ?, reason = ?, "end" = ?, error = ?, result = ? '
                "WHERE run_id = ? AND status = 'run'",
                (status, reason, end, error, result, run_id),
            )
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        if row is None:
            raise KeyError(f"no run with run_id {run_id!r}")
        return _record(row)

    def runs(
        self, task: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Records oldest first; with ``limit``, the newest ``limit`` of them."""
        if status is not None and status != "run" and status not in FINAL_STATUSES:
            raise ValueError(
                f"status must be 'run' or one of {', '.join(FINAL_STATUSES)}, got {status!r}"
            )
        where, params = [], []
        if task is not None:
            where.append("task = ?")
            params.append(task)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {_COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY run_id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [_record(row) for row in reversed(rows)]

    def last(self, task: str) -> RunRecord | None:
        found = self.runs(task=task, limit=1)
        return found[0] if found else None

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of runs per task and status."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT task, status, COUNT(*) FROM runs GROUP BY task, status"
            ).fetchall()
        counts: dict[str, dict[str, int]] = {}
        for task, status, n in rows:
            counts.setdefault(task, {})[status] = n
        return counts

    def last_times(self) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
        """The latest start per task, and the latest end per (task, status)."""
        with self._lock:
            starts = dict(self._conn.execute("SELECT task, MAX(start) FROM runs GROUP BY task"))
            ends = self._conn.execute(
                "SELECT task, status, MAX(\"end\") FROM runs WHERE status != 'run' "
                "GROUP BY task, status"
            ).fetchall()
        return starts, {(task, status): end for task, status, end in ends}

    def close(self) -> None:
        with self._lock:
            self._conn.close()
