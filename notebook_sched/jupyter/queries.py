"""What a view asks of the run history: a page of runs, one run's record.

These read ``app.runs()`` for the newest few records that answer (a page
deep in a long history reads every record above it: paging is by offset,
as ``app.runs()`` offers ``limit`` only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .words import detail, summary

if TYPE_CHECKING:
    from .._engine.scheduler import Scheduler
    from .._history.records import RunRecord

__all__ = ["PAGE", "find_run", "runs_page"]

PAGE = 25  # runs per page of the recent-runs list
_STATUSES = ("run", "success", "fail", "terminate", "crash")
_LOOKUPS = (50, 2000, None)  # a chosen run is nearly always among the newest


def runs_page(app: Scheduler, request: dict[str, Any]) -> dict[str, Any]:
    """Newest first: the runs ``offset`` to ``offset + limit`` of those of
    ``task`` (any when empty) with ``status`` (any when empty)."""
    task = request.get("task") or None
    status = request.get("status") or None
    if status not in (None, *_STATUSES) or (task is not None and not isinstance(task, str)):
        return {"kind": "runs", "req": request.get("req"), "error": "bad filter", "records": []}
    offset = max(0, int(request.get("offset") or 0))
    limit = min(200, max(1, int(request.get("limit") or PAGE)))
    newest = app.runs(task=task, status=status, limit=offset + limit + 1)
    newest.reverse()
    page = newest[offset : offset + limit]
    return {
        "kind": "runs",
        "req": request.get("req"),
        "offset": offset,
        "more": len(newest) > offset + limit,
        "records": [summary(record) for record in page],
    }


def find_run(app: Scheduler, task: str, run_id: int) -> RunRecord | None:
    """The record of run ``run_id`` of ``task``, or ``None``."""
    for limit in _LOOKUPS:
        records = app.runs(task=task, limit=limit)
        for record in reversed(records):
            if record.run_id == run_id:
                return record
        if limit is None or len(records) < limit:
            return None
    return None


def run_detail(app: Scheduler, task: str, run_id: int) -> dict[str, Any]:
    record = find_run(app, task, run_id)
    if record is None:
        return {"kind": "detail", "run_id": run_id, "task": task, "missing": True}
    return {"kind": "detail", **detail(record)}
