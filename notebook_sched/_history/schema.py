"""Opening a run history: the SQLite schema, and a file's checks and setup.

A file is created readable and writable by its owner only (``0o600``) and used
in WAL mode, so several schedulers (kernels) can share it and readers never
wait for a writer. Everything that can be wrong with a path is said with the
path in the message, when the file is opened.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable

from . import recovery
from .transactions import retry, transaction

__all__ = [
    "ADDED_COLUMNS",
    "COLUMNS",
    "FILL_TASK_TIMES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "add_columns",
    "check_path",
    "connect",
    "explain",
    "open_file",
    "protect_sidecars",
]

SCHEMA_VERSION = 2

# Rowids are the last column of every SQLite index, so an index on (task)
# already returns one task's runs in run_id order: the newest N are a seek.
SCHEMA: tuple[str, ...] = (
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
        owner   TEXT NOT NULL,
        output  TEXT NOT NULL DEFAULT '',
        attempt INTEGER NOT NULL DEFAULT 1
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
FILL_TASK_TIMES = (
    "INSERT OR REPLACE INTO task_times (task, how, at) "
    "SELECT task, 'start', MAX(start) FROM runs GROUP BY task",
    'INSERT OR REPLACE INTO task_times (task, how, at) SELECT task, status, MAX("end") '
    "FROM runs WHERE status != 'run' AND \"end\" IS NOT NULL GROUP BY task, status",
)
COLUMNS = 'task, run_id, status, reason, start, "end", error, result, output, attempt'
# Columns added since version 1, for a file written by an older version.
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("output", "TEXT NOT NULL DEFAULT ''"),
    ("attempt", "INTEGER NOT NULL DEFAULT 1"),
)


def add_columns(conn: sqlite3.Connection) -> None:
    """Give an older file's ``runs`` table the columns added since (in place:
    SQLite adds a column with a default without rewriting the rows)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    for name, declaration in ADDED_COLUMNS:
        if name not in have:
            conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {declaration}")


def check_path(path: str, fail: Callable[[str], Exception]) -> None:
    """Refuse a path that cannot hold the file; create it owner-only if missing."""
    if path == "":
        raise fail("the path is empty")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        raise fail(f"folder {folder!r} does not exist")
    if not os.path.isdir(folder):
        raise fail(f"{folder!r} is not a folder")
    if os.path.isdir(path):
        raise fail("it is a directory")
    if not os.path.exists(path):
        # Create it readable by its owner only, before SQLite opens it.
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it in between: use theirs
        except OSError as exc:
            raise fail(f"it cannot be created ({exc.strerror or exc})") from exc
        else:
            os.close(fd)
    elif not os.path.isfile(path):
        raise fail("it is not a regular file")


def connect(path: str, busy_timeout: float) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit)."""
    return sqlite3.connect(
        path, timeout=busy_timeout, check_same_thread=False, isolation_level=None
    )


def explain(path: str, exc: sqlite3.Error) -> str:
    """SQLite's message, with the likely cause for the common ones."""
    text = str(exc)
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


def protect_sidecars(path: str) -> None:
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


def open_file(
    path: str, busy_timeout: float, lock_wait: float, fail: Callable[[str], Exception]
) -> sqlite3.Connection:
    """The write connection of the run history at ``path``: checked, created
    if missing, in WAL mode, its schema brought up to date and the runs of
    dead owners marked crashed. Whatever is wrong raises ``fail(why)``."""
    check_path(path, fail)
    try:
        conn = connect(path, busy_timeout)
    except sqlite3.Error as exc:
        raise fail(explain(path, exc)) from exc
    try:
        _set_up(conn, path, lock_wait, fail)
    except sqlite3.Error as exc:
        conn.close()
        raise fail(explain(path, exc)) from exc
    except BaseException:
        conn.close()
        raise
    protect_sidecars(path)
    return conn


def _set_up(
    conn: sqlite3.Connection, path: str, lock_wait: float, fail: Callable[[str], Exception]
) -> None:
    # Reads the header: a file that is not SQLite fails here.
    mode = retry(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone()[0], path, lock_wait)
    if str(mode).lower() != "wal":
        raise fail(f"SQLite could not switch it to WAL mode (journal_mode={mode})")
    conn.execute("PRAGMA synchronous=NORMAL")

    def prepare(conn: sqlite3.Connection) -> None:
        for statement in SCHEMA:
            conn.execute(statement)
        add_columns(conn)
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            for statement in FILL_TASK_TIMES:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, last_opened) VALUES (?, ?)",
                (SCHEMA_VERSION, time.time()),
            )
        elif row[0] > SCHEMA_VERSION:
            raise fail(
                f"it was written by a newer notebook_sched (schema version {row[0]}; "
                f"this one reads up to {SCHEMA_VERSION})"
            )
        else:
            # A real write, so a file that cannot take one fails here, now.
            conn.execute(
                "UPDATE schema_version SET version = ?, last_opened = ?",
                (SCHEMA_VERSION, time.time()),
            )
        recovery.mark_crashed(conn)

    transaction(conn, prepare, path, lock_wait)
