"""The widget panel: watch and steer a scheduler from the notebook.

The panel subscribes to the scheduler's events and changes only the widgets an
event concerns; widget traits send a message only when their value changes.
What changes with time alone (a condition's state, the next start) is
refreshed at the moment the conditions say it may change, never on a fixed
tick; countdowns tick in the browser (``Countdown``).

Button callbacks may arrive on another thread (JupyterLab sends comms over
subshells): every action is handed to the loop the panel was built on.
"""

from __future__ import annotations

import asyncio
import html
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .._engine.events import (
    Event,
    RunFinished,
    RunStarted,
    RunTerminating,
    StateChanged,
    TaskChanged,
)
from .._history.records import RunRecord
from .countdown import Countdown

if TYPE_CHECKING:
    from .._engine.scheduler import Scheduler
    from .._engine.task import Task

__all__ = ["SchedulerPanel", "TaskRow"]

RECENT_RUNS = 10
_MIN_REFRESH = 0.5  # seconds: condition states shown need not be finer than this
_COLUMNS = [
    ("task", "minmax(7em, auto)"),
    ("execution", "auto"),
    ("status", "auto"),
    ("start condition / next start", "minmax(10em, auto)"),
    ("end condition", "minmax(8em, auto)"),
    ("timeout", "6em"),
    ("last outcome", "minmax(8em, auto)"),
    ("runs", "minmax(6em, auto)"),
    ("", "auto"),
    ("", "auto"),
]
# One grid for the titles and every row, so the columns line up.
_GRID = w.Layout(
    grid_template_columns=" ".join(width for _, width in _COLUMNS),
    grid_gap="2px 12px",
    align_items="center",
)


def _cell(value: str = "") -> w.HTML:
    return w.HTML(value, layout=w.Layout(overflow="hidden"))


def _clock_text(when: datetime | None) -> str:
    if when is None:
        return ""
    if when.timestamp() <= time.time() + 0.5:
        return "due now"
    fmt = "%H:%M:%S" if when.date() == datetime.now(when.tzinfo).date() else "%a %d %b %H:%M"
    return f"next {when.strftime(fmt)}"


class TaskRow:
    """One task's cells in the panel's grid: what it is, how it is doing, and
    its Run / Terminate buttons."""

    def __init__(self, panel: SchedulerPanel, name: str) -> None:
        self.name = name
        self.name_label = _cell(f"<b>{html.escape(name)}</b>")
        self.execution_label = _cell()
        self.status_label = _cell()
        self.start_label = _cell()
        self.end_label = _cell()
        self.countdown = Countdown()
        self.outcome_label = _cell()
        self.counts_label = _cell()
        self.run_button = w.Button(description="Run", layout=w.Layout(width="5em"))
        self.terminate_button = w.Button(
            description="Terminate", button_style="warning", layout=w.Layout(width="8.5em")
        )
        self.run_button.on_click(lambda _: panel._act(lambda: panel._run(name)))
        self.terminate_button.on_click(lambda _: panel._act(lambda: panel._terminate(name)))
        self.cells: list[w.Widget] = [
            self.name_label,
            self.execution_label,
            self.status_label,
            self.start_label,
            self.end_label,
            self.countdown,
            self.outcome_label,
            self.counts_label,
            self.run_button,
            self.terminate_button,
        ]

    def show_task(self, task: Task, scheduler_state: str) -> None:
        status = task.status
        self.execution_label.value = task.execution
        self.status_label.value = status
        self.run_button.disabled = scheduler_state != "running" or status != "idle"
        self.terminate_button.disabled = status != "running"
        if task.timeout is None:
            self.countdown.show(None, "none")
        elif status in ("running", "terminating"):
            deadline = task.deadline
            self.countdown.show(deadline.timestamp() if deadline else None, "none")
        else:
            self.countdown.show(None, f"{task.timeout:g} s")
        self.show_conditions(task)

    def show_conditions(self, task: Task) -> None:
        start = task.start_cond
        if start is None:
            self.start_label.value = "<i>only when asked</i>"
        else:
            nxt = _clock_text(task.next_start) if task.status == "idle" else ""
            text = html.escape(str(start))
            self.start_label.value = f"{text}<br><small>{nxt}</small>" if nxt else text
        end = task.end_cond
        if end is None:
            self.end_label.value = ""
        else:
            state = "true" if task.end_cond_true else "false"
            color = "#b00" if task.end_cond_true else "#070"
            self.end_label.value = (
                f"{html.escape(str(end))}<br><small style='color:{color}'>{state}</small>"
            )

    def show_outcome(self, record: RunRecord | None) -> None:
        if record is None:
            self.outcome_label.value = ""
        elif record.status == "run":
            self.outcome_label.value = "running"
        else:
            reason = f" ({record.reason})" if record.reason else ""
            self.outcome_label.value = f"{record.status}{reason}"

    def show_counts(self, counts: dict[str, int]) -> None:
        parts = [f"{n} {s}" for s, n in sorted(counts.items()) if s != "run"]
        self.counts_label.value = ", ".join(parts)


class SchedulerPanel(w.VBox):
    """``app.panel()``: the scheduler's state, a row per task, the recent runs."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._app = scheduler
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None  # a script: no loop of ours; act on the calling thread
        self._loop_thread = threading.get_ident()
        self._refresh_handle: asyncio.TimerHandle | None = None
        self._counts = scheduler.run_counts()

        self.state_label = w.HTML()
        self.start_button = w.Button(description="Start", button_style="success")
        self.shutdown_button = w.Button(description="Shut down")
        self.force_button = w.Button(description="Force shut down", button_style="danger")
        self.start_button.on_click(lambda _: self._act(self._start))
        self.shutdown_button.on_click(lambda _: self._act(self._app.shut_down))
        self.force_button.on_click(lambda _: self._act(lambda: self._app.shut_down(force=True)))
        header = w.HBox(
            [self.state_label, self.start_button, self.shutdown_button, self.force_button],
            layout=w.Layout(align_items="center"),
        )
        self.rows: dict[str, TaskRow] = {}
        self._table = w.GridBox(layout=_GRID)
        self._column_titles = [_cell(f"<small><b>{title}</b></small>") for title, _ in _COLUMNS]
        self.runs_view = w.HTML()
        super().__init__([header, self._table, w.HTML("<b>Recent runs</b>"), self.runs_view])
        self.add_class("notebook-sched-panel")

        self._unsubscribe = scheduler.subscribe(_weak_handler(self))
        self._rebuild_rows()
        self._show_state()
        self._show_runs()
        self._schedule_refresh()

    # ----------------------------------------------------------- events

    def _on_event(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            self._show_state()
            for name in self.rows:
                self._show_row(name)
        elif isinstance(event, TaskChanged):
            if event.task not in self.rows:
                self._rebuild_rows()
            self._show_row(event.task)
        elif isinstance(event, RunStarted):
            self._show_row(event.record.task)
            self._show_runs()
        elif isinstance(event, RunTerminating):
            self._show_row(event.task)
        elif isinstance(event, RunFinished):
            record = event.record
            per_task = self._counts.setdefault(record.task, {})
            per_task[record.status] = per_task.get(record.status, 0) + 1
            self._show_row(record.task)
            self._show_runs()
        self._schedule_refresh()

    # ------------------------------------------------------------ views

    def _rebuild_rows(self) -> None:
        for name in self._app.tasks:
            if name not in self.rows:
                self.rows[name] = TaskRow(self, name)
                self._show_row(name)
        self._table.children = [
            *self._column_titles,
            *(cell for row in self.rows.values() for cell in row.cells),
        ]

    def _show_row(self, name: str) -> None:
        row, task = self.rows.get(name), self._app.tasks.get(name)
        if row is None or task is None:
            return
        row.show_task(task, self._app.state)
        row.show_outcome(task.last_run)
        row.show_counts(self._counts.get(name, {}))

    def _show_state(self) -> None:
        state = self._app.state
        color = {"running": "#070", "shutting_down": "#b60", "stopped": "#555"}[state]
        self.state_label.value = (
            f"<b>notebook_sched</b> <span style='color:{color}'>{state.replace('_', ' ')}</span>"
        )
        self.start_button.disabled = state != "stopped"
        self.shutdown_button.disabled = state == "stopped"
        self.force_button.disabled = state == "stopped"

    def _show_runs(self) -> None:
        records = self._app.runs(limit=RECENT_RUNS)
        if not records:
            self.runs_view.value = "<i>no runs yet</i>"
            return
        lines = []
        for r in reversed(records):
            reason = f" ({r.reason})" if r.reason else ""
            runtime = f"{r.runtime:.3f} s" if r.runtime is not None else "…"
            result = f" → {html.escape(r.result)}" if r.result else ""
            line = (
                f"<code>#{r.run_id}</code> <b>{html.escape(r.task)}</b> "
                f"{r.start.strftime('%H:%M:%S')} {r.status}{reason} {runtime}{result}"
            )
            if r.error and r.status in ("fail", "crash", "terminate"):
                summary = html.escape(r.error.strip().splitlines()[-1])
                line += (
                    f"<details><summary>{summary}</summary>"
                    f"<pre style='font-size:smaller'>{html.escape(r.error)}</pre></details>"
                )
            lines.append(f"<div>{line}</div>")
        self.runs_view.value = "".join(lines)

    def _schedule_refresh(self) -> None:
        """Re-show condition states when the earliest of them may change."""
        if self._loop is None:
            return
        if self._refresh_handle is not None:
            self._refresh_handle.cancel()
            self._refresh_handle = None
        times = []
        for name in self.rows:
            task = self._app.tasks.get(name)
            if task is None:
                continue
            for cond in (task.start_cond, task.end_cond):
                if cond is None:
                    continue
                nxt = self._app._next_change(cond, name)
                if nxt is not None:
                    times.append(nxt)
        if not times:
            return
        delay = max(_MIN_REFRESH, min(times) - self._app._clock.time())
        self._refresh_handle = self._loop.call_later(delay, self._refresh)

    def _refresh(self) -> None:
        self._refresh_handle = None
        for name, row in self.rows.items():
            task = self._app.tasks.get(name)
            if task is not None:
                row.show_conditions(task)
        self._schedule_refresh()

    # ----------------------------------------------------------- actions

    def _act(self, action: Callable[[], Any]) -> None:
        """Run a button's action on the panel's loop, whatever thread clicked."""
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            action()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(action)

    def _start(self) -> None:
        if self._app.state == "stopped":
            self._app.start()

    def _run(self, name: str) -> None:
        task = self._app.tasks.get(name)
        if task is not None and self._app.state == "running":
            task.run()

    def _terminate(self, name: str) -> None:
        task = self._app.tasks.get(name)
        if task is not None:
            task.terminate()

    def close(self) -> None:
        # Also called by Widget.__del__, possibly on a panel whose __init__ failed.
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        handle = getattr(self, "_refresh_handle", None)
        if handle is not None:
            handle.cancel()
        super().close()

    def __repr__(self) -> str:
        return repr(self._app)


def _weak_handler(panel: SchedulerPanel) -> Callable[[Event], None]:
    """A subscriber that does not keep a closed-and-forgotten panel alive."""
    ref = weakref.ref(panel)

    def handle(event: Event) -> None:
        target = ref()
        if target is not None:
            target._on_event(event)

    return handle
