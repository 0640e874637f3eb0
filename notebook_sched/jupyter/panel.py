"""The widget panel: watch and steer a scheduler from the notebook.

The panel is one anywidget whose browser side draws everything: the header,
the task table, the timeline, the recent runs and a run's detail. The kernel
side subscribes to the scheduler's events and, at most ``FLUSH_INTERVAL``
apart (``BUSY_INTERVAL`` while rounds are big), sends diffs of what changed
(``feed.Feed``), 25 rows each, one per turn of the loop; a view that opens
asks for a snapshot first. Countdowns, elapsed times, relative times and growing
timeline bars are drawn in the browser from timestamps, so the kernel sends
nothing while nothing happens. A slow sweep re-reads a few rows at a time,
for what changes with time alone (a condition's state, the next start).

The header's and rows' buttons are drawn in the browser; ``start_button``,
``shutdown_button``, ``force_button`` and each row's ``run_button``,
``terminate_button`` and ``pause_button`` are ipywidgets Buttons with the
same actions, for code and tests, kept disabled when they would do nothing.

Messages may arrive on another thread (JupyterLab sends comms over
subshells): every action is handed to the loop the panel was built on, and
history queries are answered on the loop's next turn.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import traitlets

from .assets import CSS, ESM
from .feed import SEED_RUNS, Feed
from .queries import run_detail, runs_page
from .widgets import AnyWidget, Button

if TYPE_CHECKING:
    from .._engine.scheduler import Scheduler

__all__ = ["FLUSH_INTERVAL", "SchedulerPanel", "TaskRow"]

log: logging.Logger = logging.getLogger("notebook_sched")

FLUSH_INTERVAL = 0.25  # seconds between two diffs, at most
BUSY_INTERVAL = 1.0  # ... after a big diff: a busy scheduler is shown once a second
BUSY_DIFF = 40  # changed rows (plus a quarter of the runs) that make a round big
MESSAGES_PER_S = 4  # diffs a second, at most, over a round and the pause after it
SWEEP_INTERVAL = 0.5  # seconds between two re-reads of a few rows
SWEEP_ROWS = 100  # rows re-read per sweep
WATCHED = 8  # live runs whose detail is re-sent while their output grows


class TaskRow:
    """One task's row: ``view`` (what the table shows) and its buttons as
    widgets (made when first asked for: a widget costs about a millisecond
    to open, and a panel of ten thousand tasks must not open thirty thousand)."""

    def __init__(self, panel: SchedulerPanel, name: str) -> None:
        self.name = name
        self._panel = panel
        self._buttons: dict[str, Button] = {}

    @property
    def view(self) -> dict[str, Any]:
        return self._panel._feed.sent.get(self.name, {})

    def _button(self, what: str, label: str) -> Button:
        button = self._buttons.get(what)
        if button is None:
            panel, name = self._panel, self.name
            button = self._buttons[what] = Button(description=label)
            button.on_click(lambda _: panel._act(lambda: panel._task_action(name, what)))
            self.sync()
        return button

    @property
    def run_button(self) -> Button:
        return self._button("run", "Run")

    @property
    def terminate_button(self) -> Button:
        return self._button("terminate", "Terminate")

    @property
    def pause_button(self) -> Button:
        """Pause (``Task.disable()``) or, while paused, Resume (``enable()``)."""
        return self._button("pause", "Pause")

    def sync(self) -> None:
        view = self.view
        for what, button in self._buttons.items():
            if what == "run":
                button.disabled = not view.get("can_run", False)
                button.tooltip = view.get("why_not_run", "")
            elif what == "terminate":
                button.disabled = not view.get("can_terminate", False)
            else:
                button.description = "Resume" if view.get("disabled") else "Pause"

    def close(self) -> None:
        for button in self._buttons.values():
            button.close()

    def __repr__(self) -> str:
        return f"<TaskRow {self.name!r} {self.view.get('status', '')}>"


class SchedulerPanel(AnyWidget):
    """``app.panel()``: the scheduler's state and buttons, a row per task, a
    timeline of runs, the recent runs, a run's detail, a failure notice."""

    _esm = ESM
    _css = CSS
    header: traitlets.Dict[str, Any] = traitlets.Dict().tag(sync=True)
    notice: traitlets.Dict[str, Any] = traitlets.Dict().tag(sync=True)

    def __init__(self, scheduler: Scheduler) -> None:
        super().__init__()
        self.add_class("notebook-sched-panel")
        self._app = scheduler
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None  # a script: no loop of ours; act on the calling thread
        self._loop_thread = threading.get_ident()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._sweep_handle: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._interval = FLUSH_INTERVAL
        self._cycle = 0  # rows (and a quarter of the runs) sent in this round of diffs
        self._diffs = 0  # diffs sent in this round
        self._sweep_at = 0
        self._seq = 0
        self._forced = False
        self._watched: dict[int, tuple[str, Any]] = {}  # run id -> (task, last detail sent)
        self._feed = Feed(scheduler)
        self.rows: dict[str, TaskRow] = {}

        self.start_button: Button = Button(description="Start")
        self.shutdown_button: Button = Button(description="Shut down")
        self.force_button: Button = Button(description="Force shut down")
        self.start_button.on_click(lambda _: self._act(self._start))
        self.shutdown_button.on_click(lambda _: self._act(self._shut_down))
        self.force_button.on_click(lambda _: self._act(lambda: self._shut_down(True)))
        self.on_msg(self._on_msg)

        sub: Any = scheduler.subscribe(_weak(self, "_on_event"))
        self._unsubscribe: Callable[[], None] = getattr(sub, "cancel", sub)
        self.flush()
        self._schedule_sweep()

    # ----------------------------------------------------------- events

    def _on_event(self, event: object) -> None:
        self._feed.on_event(event)
        if getattr(event, "forced", False):
            self._forced = True
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Send the changes soon: at once if the last diff is old, else when
        ``FLUSH_INTERVAL`` has passed since it."""
        if self._loop is None:
            self.flush()
            return
        if self._flush_handle is not None:
            return
        delay = max(0.0, self._last_flush + self._interval - time.monotonic())
        self._flush_handle = self._loop.call_later(delay, _weak(self, "flush"))

    def flush(self) -> None:
        """Send every pending change now (a big table over a few turns of
        the loop, a diff each, so that no turn holds it for long)."""
        self._flush_handle = None
        feed = self._feed
        if not self._cycle:  # a new round of diffs, not the rest of one
            self._last_flush = time.monotonic()
        if feed.pending:
            diff = feed.diff()
            self._cycle += len(diff["rows"]) + len(diff["runs"]) // 4
            if diff["rows"] or diff["runs"] or diff["order"] is not None:
                self._seq += 1
                self._diffs += 1
                self.send({"kind": "diff", "seq": self._seq, "now": time.time(), **diff})
                self._sync_rows(diff["rows"], diff["order"])
        self._show_header()
        if feed.round and self._loop is not None:  # the rest of a big table: next turn
            self._flush_handle = self._loop.call_later(0, _weak(self, "flush"))
            return
        # A round that changed many rows costs the kernel tens of ms (JSON,
        # the socket): while such rounds come, one a second — or less often,
        # so that a round of many diffs (a table of hundreds of busy rows)
        # still costs at most a few messages a second; a calm scheduler is
        # shown at once.
        interval = BUSY_INTERVAL if self._cycle > BUSY_DIFF else FLUSH_INTERVAL
        self._interval = max(interval, self._diffs / MESSAGES_PER_S)
        self._cycle = self._diffs = 0

    def _sync_rows(self, changed: dict[str, Any], order: list[str] | None) -> None:
        if order is not None:
            for name in order:
                if name not in self.rows:
                    self.rows[name] = TaskRow(self, name)
            names = set(order)
            for name in [name for name in self.rows if name not in names]:
                self.rows.pop(name).close()
        for name in changed:
            row = self.rows.get(name)
            if row is not None and row._buttons:
                row.sync()

    def _show_header(self) -> None:
        app, feed = self._app, self._feed
        state = app.state
        if state == "running":
            self._forced = False
        header: dict[str, Any] = {"state": state, "failures": feed.failures}
        if state == "shutting_down":
            # What a graceful shutdown waits for (only then: the list would
            # otherwise change with every run and cost a message each time).
            alive = [name for name, view in feed.sent.items() if view["live_run"] is not None]
            header.update(alive=alive[:6], alive_count=len(alive), forced=self._forced)
        if header != self.header:
            self.header = header
        if feed.notice != self.notice:
            self.notice = dict(feed.notice)
        self.start_button.disabled = state != "stopped"
        self.shutdown_button.disabled = state == "stopped"
        self.force_button.disabled = state == "stopped"
        self.shutdown_button.description = "Force now" if state == "shutting_down" else "Shut down"

    def _schedule_sweep(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._sweep_handle = self._loop.call_later(SWEEP_INTERVAL, _weak(self, "_sweep"))

    def _sweep(self) -> None:
        """Re-read a few rows (what changes with time alone), and the
        detail of live runs someone is watching."""
        self._sweep_handle = None
        feed = self._feed
        order = feed.order
        if order:
            at = self._sweep_at % len(order)
            feed.stale.update(order[at : at + SWEEP_ROWS])
            self._sweep_at = at + SWEEP_ROWS
        # Live rows every time: their progress changes with no event.
        feed.stale.update(name for name, view in feed.sent.items() if view["live_run"] is not None)
        for run_id, (task, _) in list(self._watched.items()):
            self._query(partial(run_detail, self._app, task, run_id))
        self._schedule_flush()
        self._schedule_sweep()

    # ----------------------------------------------------------- messages

    def _on_msg(self, widget: object, content: Any, buffers: object) -> None:
        if isinstance(content, dict):
            self._act(lambda: self._handle(content))

    def _handle(self, content: dict[str, Any]) -> None:
        event = content.get("event")
        name = content.get("task")
        if event == "hello":
            self._snapshot()
        elif event == "start":
            self._start()
        elif event == "shutdown":
            self._shut_down()
        elif event == "force":
            self._shut_down(True)
        elif event in ("run", "terminate", "pause", "resume") and isinstance(name, str):
            self._task_action(name, event)
        elif event == "runs":
            self._query(lambda: runs_page(self._app, content))
        elif event == "detail" and isinstance(name, str) and isinstance(content.get("run_id"), int):
            run_id = content["run_id"]
            self._watched[run_id] = (name, None)
            while len(self._watched) > WATCHED:
                del self._watched[next(iter(self._watched))]
            self._query(lambda: run_detail(self._app, name, run_id))
        elif event == "dismiss":
            self._feed.dismiss()
            self._show_header()

    def _snapshot(self) -> None:
        seq, feed = self._seq, self._feed

        def read() -> dict[str, Any]:
            shown = feed.snapshot(self._app.runs(limit=SEED_RUNS))
            return {"kind": "snapshot", "seq": seq, "now": time.time(), **shown}

        self._query(read)

    def _query(self, read: Callable[[], dict[str, Any]]) -> None:
        """Answer a view's question on the loop's next turn. (Read from a
        worker thread while runs were being written, ``app.runs()`` was seen
        to miss records; a page is the newest few records: a few ms.)"""
        if self._loop is None:
            self._answer(read())
        else:
            self._loop.call_soon(self._answer_with, read)

    def _answer_with(self, read: Callable[[], dict[str, Any]]) -> None:
        try:
            message = read()
        except Exception:
            log.exception("notebook_sched: the panel's query failed")
            return
        self._answer(message)

    def _answer(self, message: dict[str, Any]) -> None:
        if message.get("kind") == "detail":
            run_id = message.get("run_id")
            watched = self._watched.get(run_id)  # type: ignore[arg-type]
            if watched is not None:
                if message.get("status") != "run" or message.get("missing"):
                    del self._watched[run_id]  # type: ignore[arg-type]
                elif watched[1] == message:
                    return  # a live run whose record has not changed: nothing to send
                else:
                    self._watched[run_id] = (watched[0], message)  # type: ignore[index]
        self.send(message)

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

    def _shut_down(self, force: bool = False) -> None:
        if self._app.state == "stopped":
            return
        if force or self._app.state == "shutting_down":
            self._forced = True
        self._app.shut_down(force=force)
        self._show_header()

    def _task_action(self, name: str, what: str) -> None:
        task = self._app.tasks.get(name)
        if task is None:
            return
        if what == "run":
            if self._app.state == "running":
                task.run()
        elif what == "terminate":
            task.terminate()
        elif what == "pause":
            if task.disabled:
                task.enable()
            else:
                task.disable()
        elif what == "resume":
            task.enable()
        self._feed.stale.add(name)
        self._schedule_flush()

    def close(self) -> None:
        # Also called by Widget.__del__, possibly on a panel whose __init__ failed.
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        for name in ("_sweep_handle", "_flush_handle"):
            handle = getattr(self, name, None)
            if handle is not None:
                handle.cancel()
        for row in getattr(self, "rows", {}).values():
            row.close()
        for button in ("start_button", "shutdown_button", "force_button"):
            if hasattr(self, button):
                getattr(self, button).close()
        super().close()

    def __repr__(self) -> str:
        return repr(self._app)


def _weak(panel: SchedulerPanel, method: str) -> Callable[..., None]:
    """A callback that does not keep a closed-and-forgotten panel alive."""
    ref = weakref.ref(panel)

    def call(*args: Any) -> None:
        target = ref()
        if target is not None:
            getattr(target, method)(*args)

    return call
