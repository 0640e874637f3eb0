"""Crash recovery: a run left at ``"run"`` by a process that is gone is
marked ``"crash"`` when the file is opened. A run whose owner may still live
(this process, another live kernel, a pid namespace we cannot see into) is
never marked."""

from __future__ import annotations

import sqlite3
import time

from . import _owner

__all__ = ["mark_crashed"]


def mark_crashed(conn: sqlite3.Connection) -> int:
    """Mark the runs of dead owners ``"crash"`` (inside the caller's
    transaction); returns how many."""
    rows = conn.execute("SELECT run_id, owner FROM runs WHERE status = 'run'").fetchall()
    now = time.time()
    verdicts: dict[str, str] = {}
    marked = 0
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
        marked += 1
    return marked
