"""A ``runs_db`` file deleted, or replaced by another file, while open.

SQLite goes on writing into the file it opened, even once no path leads to
it: the runs would be lost with the process. Worse, the deleted file's
``-wal`` and ``-shm`` stay beside the path, and the next connection to
whatever file is put there reads that WAL as its own — another database's
pages: "database disk image is malformed", or a history silently replaced.

So the writer's thread looks at the path every second (an ``os.stat``,
compared with the identity of the file opened) and, when it changed, the
history follows the path:

* What the open file holds is read out (after a checkpoint that empties its
  WAL), the old connections are closed, and reads are answered from that
  copy meanwhile. Its ``-wal`` and ``-shm``, if still beside the path, are
  unlinked — known by their identity when the file was opened, so a new
  file's own (made by another kernel that shared the old one) is never
  touched: another process still writing the old file keeps them through
  its open descriptors, and the file put at the path gets sidecars of its own.
* Nothing at the path (deleted): a new file is made there and the history
  written into it.
* A run history at the path (the file restored from a backup, copied back,
  or remade by another kernel that shared it) whose runs agree with ours —
  the same run id is the same run: the runs it lacks, and the ends it lacks,
  are written into it; it is used from now on. An empty file counts as one.
* Anything else (not SQLite, another program's database, another history
  whose run ids name other runs): it is left as it is, and the history goes
  on in a new file beside it, ``<name>.kept-<time><suffix>``.

Either way every run recorded so far stays recorded, and a warning names the
path and what was done.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Literal

from . import schema
from .transactions import transaction

__all__ = [
    "Change",
    "Identity",
    "change",
    "drop_stale",
    "identity",
    "keys_of",
    "move",
    "read_out",
    "sidecars",
]

Change = Literal["deleted", "replaced"]
Identity = tuple[int, int]

_ALL = 'run_id, task, status, reason, start, "end", error, result, owner, output, attempt'


def identity(path: str) -> Identity | None:
    """``(device, inode)`` of the file at ``path``; ``None`` if there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def change(path: str, opened: Identity) -> Change | None:
    """What became of the file opened at ``path``: ``None`` while it is still there."""
    now = identity(path)
    if now is None:
        return "deleted"
    return None if now == opened else "replaced"


def keys_of(
    given: str | None, path: str | None
) -> tuple[frozenset[object], Identity | None, dict[str, Identity]]:
    """For the file opened at ``path`` (asked for as ``given``): what tells it
    from another file (its identity, its real paths), its identity, and its
    sidecars'. Nothing in memory."""
    if given is None or path is None:
        return frozenset(), None, {}
    opened = identity(path)
    keys: set[object] = {os.path.realpath(given), os.path.realpath(path)}
    if opened is not None:
        keys.add(opened)
    return frozenset(keys), opened, sidecars(path)


def sidecars(path: str) -> dict[str, Identity]:
    """The ``-wal`` and ``-shm`` of the file at ``path`` now, by their paths
    (beside the file a symbolic link leads to: SQLite names them so)."""
    real = os.path.realpath(path)
    found = {}
    for suffix in ("-wal", "-shm"):
        known = identity(real + suffix)
        if known is not None:
            found[real + suffix] = known
    return found


def drop_stale(opened: dict[str, Identity]) -> None:
    """Unlink the sidecars (from ``sidecars``) that are still those of the
    file opened; leave any other that took their names."""
    for path, known in opened.items():
        if identity(path) == known:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def read_out(conn: sqlite3.Connection) -> tuple[sqlite3.Connection, list[tuple[Any, ...]], int]:
    """Copy the database of ``conn`` into memory: ``(copy, rows, last id set
    aside)``. Its WAL is emptied first (into the file opened), so that the
    ``-wal`` left beside the path holds nothing another file could take in."""
    with contextlib.suppress(sqlite3.Error):  # busy (another process reads): the copy is whole
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    copy = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    conn.backup(copy)
    rows = copy.execute(f"SELECT {_ALL} FROM runs ORDER BY run_id").fetchall()
    seq = copy.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    return copy, rows, int(seq[0]) if seq else 0


def foreign(conn: sqlite3.Connection) -> str | None:
    """Why the database of ``conn`` is not a run history that can take ours,
    or ``None`` (it is one, or it is empty)."""
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        return f"it is not a SQLite database ({exc})"
    if not tables:
        return None  # an empty file: a new history
    if "runs" not in tables or "schema_version" not in tables:
        return "it is a SQLite database, but not a run history"
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    if row[0] is not None and row[0] > schema.SCHEMA_VERSION:
        return f"it was written by a newer notebook_sched (schema version {row[0]})"
    return None


def conflict(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> str | None:
    """Why the run history of ``conn`` is another one than ``rows``' (a run id
    of both names another run in each), or ``None``."""
    query = "SELECT run_id, task, start FROM runs"
    theirs = {run_id: (task, start) for run_id, task, start in conn.execute(query)}
    for row in rows:
        other = theirs.get(row[0])
        if other is not None and other != (row[1], row[4]):
            return f"it is another run history (its run {row[0]} is of task {other[0]!r})"
    return None


def merge(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], seq: int) -> int:
    """Write into ``conn``'s history (inside the caller's transaction) the
    runs of ``rows`` it lacks and the ends it lacks; ids set aside up to
    ``seq`` stay set aside. Returns how many runs it lacked."""
    insert = f"INSERT OR IGNORE INTO runs ({_ALL}) VALUES ({', '.join('?' * 11)})"
    added = conn.executemany(insert, rows).rowcount
    conn.executemany(
        'UPDATE runs SET status = ?, reason = ?, "end" = ?, error = ?, result = ?, output = ? '
        "WHERE run_id = ? AND status = 'run'",
        [(r[2], r[3], r[5], r[6], r[7], r[9], r[0]) for r in rows if r[2] != "run"],
    )
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    if row is None:
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", (seq,))
    elif row[0] < seq:
        conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'runs'", (seq,))
    return added


def beside(path: str) -> str:
    """A new file's name beside ``path``, for a history that cannot go there."""
    root, suffix = os.path.splitext(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = f"{root}.kept-{stamp}{suffix}"
    n = 1
    while os.path.lexists(candidate):
        n += 1
        candidate = f"{root}.kept-{stamp}-{n}{suffix}"
    return candidate


def move(
    path: str,
    change: Change,
    rows: list[tuple[Any, ...]],
    seq: int,
    busy_timeout: float,
    fail: Callable[[str, str], Exception],
) -> tuple[sqlite3.Connection, sqlite3.Connection, str, str]:
    """Put the history ``rows`` (read out of the file that was at ``path``)
    where it goes on: ``(writer, reader, its path, what was done)``. Whatever
    stands in the way raises ``fail(why, path)``."""
    refused = refusal(path, rows, busy_timeout) if os.path.lexists(path) else None
    target = path if refused is None else beside(path)
    conn = schema.open_file(target, busy_timeout, 1.0, lambda why: fail(why, target))
    try:
        added = transaction(conn, lambda c: merge(c, rows, seq), target, 1.0)
        reader = schema.connect(target, busy_timeout)
    except BaseException:
        conn.close()
        raise
    n = len(rows)
    if refused is not None:
        done = (
            f"runs_db {path!r} was replaced by another file while open ({refused}): that file "
            f"is left as it is, and this history ({n} runs) goes on in {target!r}"
        )
    elif change == "deleted" and added == n:
        done = (
            f"runs_db {path!r} was deleted while open: its history ({n} runs) is written "
            "into a new file at the same path, and recording goes on there"
        )
    else:
        lacked = (
            f"the {added} of its {n} runs it lacked are written into it"
            if added
            else f"it already holds its {n} runs"
        )
        done = (
            f"runs_db {path!r} was {change} while open; the file now at the path is a run "
            f"history that agrees with this one: {lacked}, and recording goes on there"
        )
    return conn, reader, target, done


def refusal(path: str, rows: list[tuple[Any, ...]], busy_timeout: float) -> str | None:
    """Why the file now at ``path`` cannot take the history ``rows``, or
    ``None`` (looked at without writing to it)."""
    try:
        look = schema.connect(path, busy_timeout)
    except sqlite3.Error as exc:
        return schema.explain(path, exc)
    try:
        why = foreign(look)
        if why is not None:
            return why
        has_runs = look.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone()
        return conflict(look, rows) if has_runs else None
    except sqlite3.Error as exc:
        return schema.explain(path, exc)
    finally:
        look.close()
