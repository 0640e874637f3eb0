"""What live runs have written, saved to the ``runs_db`` file as they go.

A run's output reaches its record in the file with its final record. So
that a kernel killed outright (SIGKILL, the OOM killer) does not take its
live runs' output with it — recovery marks those runs ``"crash"`` and keeps
the rest of their row — the output of every live run that wrote something
new is handed to the writer every ``INTERVAL`` seconds, by a thread that
runs only while such runs are alive (the loop does nothing for it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

__all__ = ["LiveOutput", "Written"]

INTERVAL = 2.0


class Written(Protocol):
    """A run's output as it grows (``_execution.output.OutputBuffer``)."""

    @property
    def changes(self) -> int: ...
    def text(self) -> str: ...


class LiveOutput:
    def __init__(self, save: Callable[[Sequence[tuple[str, int]]], None]) -> None:
        self._save = save  # [(output, run_id)] to write, from this thread
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[Written, int]] = {}  # run id -> (buffer, changes saved)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, run_id: int, output: Written) -> None:
        with self._lock:
            self._watched[run_id] = (output, 0)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="notebook_sched-live-output", daemon=True
                )
                self._thread.start()

    def forget(self, run_id: int) -> None:
        """The run ended: its final record carries its output."""
        with self._lock:
            self._watched.pop(run_id, None)

    def close(self) -> None:
        with self._lock:
            self._watched.clear()
        self._wake.set()

    def _serve(self) -> None:
        while not self._wake.wait(INTERVAL):
            with self._lock:
                if not self._watched:
                    self._thread = None
                    return
                changed = [
                    (run_id, output, output.changes)
                    for run_id, (output, saved) in self._watched.items()
                    if output.changes != saved
                ]
                for run_id, output, changes in changed:
                    self._watched[run_id] = (output, changes)
            if changed:
                self._save([(output.text(), run_id) for run_id, output, _ in changed])
        with self._lock:
            self._thread = None
