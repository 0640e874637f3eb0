"""The widget panel: watch and steer a scheduler from the notebook.

The panel subscribes to the scheduler's events. An event only marks what it
concerns; the widgets are brought up to date at most ``FLUSH_INTERVAL`` apart
(and only where a value changed), so a hundred busy tasks cost a few kernel
messages a second, not thousands. The whole task table is one widget
(``TaskTable``) whose countdowns tick in the browser. What changes with time
alone (a condition's state, the next start) is re-shown at the moment the
conditions say it may change, never on a fixed tick.

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

from .._execution.ray.options import describe_resources
from ..events import (
    Event,
    RunFinished,
    RunStarted,
    RunTerminating,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
    TaskDefined,
    TaskDisabled,
    TaskEnabled,
)
from .table import TaskTable

if TYPE_CHECKING:
    from .._engine.scheduler import Scheduler
    from .._engine.task import Task

__all__ = ["FLUSH_INTERVAL", "SchedulerPanel", "TaskRow"]

FLUSH_INTERVAL = 0.25  # seconds between two updates of the widgets, at most
RECENT_RUNS = 10
ROWS_PER_FLUSH = 500  # rows brought up to date per turn of the loop, at most
_MIN_REFRESH = 0.5  # seconds: condition states shown need not be finer than this


def _clock_text(when: datetime | None) -> str:
    if when is None:
        return ""
    if when.timestamp() <= time.time() + 0.5:
        return "due now"
    fmt = "%H:%M:%S" if when.date() == datetime.now(when.tzinfo).date() else "%a %d %b %H:%M"
    return f"next {when.strftime(fmt)}"


class TaskRow:
    """One task's row: its Run / Terminate buttons (``run_button``,
    ``terminate_button``: clicking them from code, or by a comm message to
    their ``model_id``, is the same as clicking the row's buttons in the
    table) and ``view``, the values the table shows."""

    def __init__(self, panel: SchedulerPanel, name: str) -> None:
        self.name = name
        self.view: dict[str, Any] = {}
        self._panel = panel
        self._run_button: w.Button | None = None
        self._terminate_button: w.Button | None = None

    # The buttons are made when first asked for: a widget costs about a
    # millisecond to open, and the table draws its own buttons in the browser,
    # so a panel of ten thousand tasks must not open twenty thousand widgets.

    @property
    def run_button(self) -> w.Button:
        if self._run_button is None:
            panel, name = self._panel, self.name
            self._run_button = w.Button(description="Run")
            self._run_button.on_click(lambda _: panel._act(lambda: panel._run(name)))
        return self._run_button

    @property
    def terminate_button(self) -> w.Button:
        if self._terminate_button is None:
            panel, name = self._panel, self.name
            self._terminate_button = w.Button(description="Terminate", button_style="warning")
            self._terminate_button.on_click(lambda _: panel._act(lambda: panel._terminate(name)))
        return self._terminate_button

    def __repr__(self) -> str:
        return f"<TaskRow {self.name!r} {self.view.get('status', '')}>"


def row_view(task: Task, counts: dict[str, int]) -> dict[str, Any]:
    """What the table shows of ``task``: plain JSON values."""
    status = task.status
    start = task.start_cond
    end = task.end_cond
    record = task.last_run
    deadline = task.deadline if status in ("running", "terminating") else None
    if record is None:
        outcome = ""
    elif record.status == "run":
        outcome = "running"
    else:
        outcome = record.status + (f" ({record.reason})" if record.reason else "")
    timeout = task.timeout
    return {
        "name": task.name,
        "execution": task.execution,
        "resources": describe_resources(tuple(task.resources.items())),
        "status": status,
        "start": "only when asked" if start is None else str(start),
        "next": _clock_text(task.next_start) if start is not None and status == "idle" else "",
        "end": "" if end is None else str(end),
        "end_state": "" if end is None else ("true" if task.end_cond_true else "false"),
        "deadline": deadline.timestamp() if deadline is not None else None,
        "timeout": "none" if timeout is None else f"{timeout:g} s",
        "outcome": outcome,
        "counts": ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s != "run"),
    }


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
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._counts = scheduler.run_counts()
        self._stale_rows: set[str] = set(scheduler.tasks)
        self._stale_state = True
        self._stale_runs = True
        self._shown = False

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
        self.table = TaskTable()
        self.table.on_msg(self._on_table_msg)
        self.runs_view = w.HTML()
        super().__init__([header, self.table, w.HTML("<b>Recent runs</b>"), self.runs_view])
        self.add_class("notebook-sched-panel")

        self._subscription = scheduler.subscribe(_weak_handler(self))
        self.flush()
        self._schedule_refresh()

    # ----------------------------------------------------------- events

    def _on_event(self, event: Event) -> None:
        if isinstance(event, SchedulerStarted | SchedulerStopping | SchedulerStopped):
            self._stale_state = True
            self._stale_rows.update(self._app.tasks)
        elif isinstance(event, TaskDefined | TaskDisabled | TaskEnabled):
            self._stale_rows.add(event.task)
        elif isinstance(event, RunFinished):
            record = event.record
            per_task = self._counts.setdefault(record.task, {})
            per_task[record.status] = per_task.get(record.status, 0) + 1
            self._stale_rows.add(record.task)
            self._stale_runs = True
        elif isinstance(event, RunStarted):
            self._stale_rows.add(event.record.task)
            self._stale_runs = True
        elif isinstance(event, RunTerminating):
            self._stale_rows.add(event.task)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Bring the widgets up to date soon: at once if the last update is
        old, else when ``FLUSH_INTERVAL`` has passed since it."""
        if self._loop is None:
            self.flush()
            return
        if self._flush_handle is not None:
            return
        delay = max(0.0, self._last_flush + FLUSH_INTERVAL - time.monotonic())
        self._flush_handle = self._loop.call_later(delay, self.flush)

    def flush(self) -> None:
        """Show every pending change now."""
        self._flush_handle = None
        self._last_flush = time.monotonic()
        if self._stale_state:
            self._stale_state = False
            self._show_state()
        if self._stale_rows:
            stale, self._stale_rows = self._stale_rows, set()
            self._show_rows(stale)
        if self._stale_runs:
            self._stale_runs = False
            self._show_runs()
        if self._stale_rows and self._loop is not None:  # the rest of a big table: next turn
            self._flush_handle = self._loop.call_later(0, self.flush)
            return
        self._schedule_refresh()

    # ------------------------------------------------------------ views

    def _show_rows(self, stale: set[str]) -> None:
        tasks = self._app.tasks
        for name in tasks:
            if name not in self.rows:
                self.rows[name] = TaskRow(self, name)
                stale.add(name)
        # A few hundred rows per turn of the loop: the first view of ten
        # thousand tasks must not hold the kernel for a fifth of a second.
        names = list(stale)
        if len(names) > ROWS_PER_FLUSH and self._loop is not None:
            self._stale_rows.update(names[ROWS_PER_FLUSH:])
            names = names[:ROWS_PER_FLUSH]
        for name in names:
            task, row = tasks.get(name), self.rows.get(name)
            if task is not None and row is not None:
                row.view = row_view(task, self._counts.get(name, {}))
        if not self._stale_rows or not self._shown:
            self._shown = True
            self.table.show([row.view for row in self.rows.values() if row.view])

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
                if cond is not None and (nxt := self._app._next_change(cond, name)) is not None:
                    times.append(nxt)
        if not times:
            return
        delay = max(_MIN_REFRESH, min(times) - self._app._clock.time())
        self._refresh_handle = self._loop.call_later(delay, self._refresh)

    def _refresh(self) -> None:
        self._refresh_handle = None
        self._stale_rows.update(self.rows)
        self.flush()

    # ----------------------------------------------------------- actions

    def _on_table_msg(self, widget: object, content: dict[str, Any], buffers: object) -> None:
        name = content.get("task", "")
        if name not in self.rows:
            return
        if content.get("event") == "run":
            self._act(lambda: self._run(name))
        elif content.get("event") == "terminate":
            self._act(lambda: self._terminate(name))

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
        subscription = getattr(self, "_subscription", None)
        if subscription is not None:
            subscription.cancel()
        for name in ("_refresh_handle", "_flush_handle"):
            handle = getattr(self, name, None)
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
