"""Reading the run history: SQL rows as ``RunRecord``s."""

from __future__ import annotations

import sqlite3
from typing import Any

from .records import RunRecord, new_record, to_datetime
from .schema import COLUMNS

__all__ = ["counts", "events", "last_per_task", "last_times", "select_runs", "to_datetime"]


def record(row: tuple[Any, ...]) -> RunRecord:
    task, run_id, status, reason, start, end, error, result, output, attempt = row
    opened = to_datetime(start)
    assert opened is not None  # every run has a start
    return new_record(
        task, run_id, status, reason, opened, to_datetime(end), error, result, output, attempt
    )


def select_runs(
    conn: sqlite3.Connection, task: str | None, status: str | None, limit: int | None
) -> list[RunRecord]:
    """Oldest first; with ``limit``, the newest ``limit`` of them."""
    where: list[str] = []
    params: list[Any] = []
    if task is not None:
        where.append("task = ?")
        params.append(task)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    sql = f"SELECT {COLUMNS} FROM runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if limit is None:
        sql += " ORDER BY run_id"
    else:
        sql += " ORDER BY run_id DESC LIMIT ?"
        params.append(limit)
    rows = conn.execute(sql, params).fetchall()
    if limit is not None:
        rows.reverse()
    return [record(row) for row in rows]


def last_per_task(conn: sqlite3.Connection) -> dict[str, RunRecord]:
    """The newest record of every task (one seek per task on ``runs_by_task``)."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM runs WHERE run_id IN (SELECT MAX(run_id) FROM runs GROUP BY task)"
    ).fetchall()
    return {row[0]: record(row) for row in rows}


def last_times(
    conn: sqlite3.Connection,
) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """``(latest start per task, latest end per (task, how))``."""
    starts: dict[str, float] = {}
    ends: dict[tuple[str, str], float] = {}
    for task, how, at in conn.execute("SELECT task, how, at FROM task_times").fetchall():
        if how == "start":
            starts[task] = at
        else:
            ends[task, how] = at
    return starts, ends


def counts(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Number of runs per task and status."""
    found: dict[str, dict[str, int]] = {}
    for task, status, n in conn.execute(
        "SELECT task, status, COUNT(*) FROM runs GROUP BY task, status"
    ).fetchall():
        found.setdefault(task, {})[status] = n
    return found


def events(conn: sqlite3.Connection, before: int) -> list[tuple[str, str, float, float | None]]:
    """``(task, status, start, end)`` of every run with a ``run_id`` below
    ``before``, in ``run_id`` order."""
    return conn.execute(
        'SELECT task, status, start, "end" FROM runs WHERE run_id < ? ORDER BY run_id', (before,)
    ).fetchall()
