"""The schedulers of this process that are running, and what may run beside
what.

Re-running a notebook's first cells makes a new ``Scheduler`` while the old
one still runs on the kernel's loop; its variable now names the new one, so
the old one's tasks go on with nothing in the notebook to stop them. So a
``Scheduler`` made while another runs warns, naming it and how to reach it
(``Scheduler.list_running()``), and a scheduler is not started while another
one of this process runs on the same ``runs_db`` file: the two would run every
task twice and write one history from two ledgers. The same file is known by
its identity (device and inode) or its real path, never by the string given.

The running ones are held strongly here: the loop keeps only weak references
to its tasks, so a scheduler whose variable was rebound must not be collected
while it runs.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any, Protocol

__all__ = ["Running", "claim", "release", "running", "warn_if_running"]


class Keyed(Protocol):
    def file_keys(self) -> frozenset[object]: ...


class Running(Protocol):
    """A scheduler's core, as seen from beside it."""

    face: Any  # the public Scheduler

    @property
    def history(self) -> Keyed: ...  # its run history: file_keys() tells its file from another


_lock = threading.Lock()
_RUNNING: dict[Running, None] = {}  # in the order they started


def claim(core: Running) -> None:
    """Count ``core`` as running; ``RuntimeError`` naming the file if another
    running scheduler of this process has the same ``runs_db`` file."""
    keys = core.history.file_keys()
    running()  # a scheduler whose loop was closed under it stops here, and lets go
    with _lock:
        for index, other in enumerate(_RUNNING):
            if other is not core and keys & other.history.file_keys():
                path = os.fspath(core.face.config["runs_db"])
                raise RuntimeError(
                    f"another scheduler of this process is running on runs_db {path!r}: "
                    f"Scheduler.list_running()[{index}], {other.face!r}; two would run each "
                    "task twice and write one history from two ledgers. Stop it first: "
                    f"Scheduler.list_running()[{index}].shut_down()"
                )
        _RUNNING[core] = None


def release(core: Running) -> None:
    with _lock:
        _RUNNING.pop(core, None)


def running() -> list[Any]:
    """The public schedulers that are running, oldest start first."""
    with _lock:
        faces = [core.face for core in _RUNNING if core.face is not None]
    # Asking the state notices a loop closed under one: it stops, and is left out.
    return [face for face in faces if face.state != "stopped"]


def warn_if_running(stacklevel: int) -> None:
    """Warn that a new scheduler is made while others of this process run."""
    faces = running()
    if not faces:
        return
    named = "; ".join(_describe(i, face) for i, face in enumerate(faces))
    warnings.warn(
        f"another Scheduler of this process is running: {named}. Its tasks go on beside this "
        "one's (re-running a notebook's first cells does not stop the scheduler they made). "
        "Stop it with old_app.shut_down(); if its variable now names the new one, "
        "Scheduler.list_running() still reaches it: Scheduler.list_running()[0].shut_down()",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def _describe(index: int, face: Any) -> str:
    db = face.config["runs_db"]
    where = "runs_db in memory" if db is None else f"runs_db {os.fspath(db)!r}"
    return f"Scheduler.list_running()[{index}] is {face!r} ({where})"
