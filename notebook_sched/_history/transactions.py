"""One SQLite transaction, committed before it returns, and the bounded wait
for a file another writer holds.

SQLite itself waits ``busy_timeout`` for a lock; past that a write is tried
again until ``lock_wait`` seconds have gone, and then fails with
``RunStoreError`` naming the path — never silently. Only the writer's thread
and the opening of a file come here: the scheduler's loop never waits on a
lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from ..exc import RunStoreError

__all__ = ["is_busy", "retry", "transaction"]

T = TypeVar("T")


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether ``exc`` says the file is held by another writer."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def transaction(
    conn: sqlite3.Connection,
    body: Callable[[sqlite3.Connection], T],
    path: str | None,
    lock_wait: float,
    write: bool = True,
) -> T:
    """Run ``body`` in one transaction of ``conn``, committed before returning;
    a locked file is waited for as ``retry`` says."""

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

    return retry(attempt, path, lock_wait)


def retry(attempt: Callable[[], T], path: str | None, lock_wait: float) -> T:
    """``attempt()``, again while the file is locked, ``lock_wait`` seconds in
    all; then ``RunStoreError`` naming ``path``."""
    deadline = time.monotonic() + lock_wait
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            if time.monotonic() >= deadline:
                raise RunStoreError(
                    f"runs_db {path!r} stayed locked by another writer for {lock_wait:g} s: {exc}"
                ) from exc
            pause()


def pause() -> None:
    """Between retries of a locked write (a hook tests can replace)."""
    time.sleep(0.02)
