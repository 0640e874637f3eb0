"""Runs that found no run id at hand.

Run ids come from a block the ``runs_db`` file sets aside; while the file
takes no writes (locked, full) none can be set aside, and once the block is
used a run cannot start: it has no id for its record. A task the loop found
due is simply looked at again (``short``). A run asked for by hand
(``Task.run()``) is kept (``asked``) and launched when ids come, as a queued
run would be; ``Task.terminate()`` and a shutdown drop it (it has no record
yet). Everything here is under the scheduler's lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .task import Task

__all__ = ["IdWaits"]


class IdWaits:
    def __init__(self) -> None:
        self.short: set[str] = set()  # tasks whose run found no id, since ids last came
        self._asked: list[Task] = []

    def keep(self, task: Task) -> bool:
        """Whether ``task``'s run asked for by hand found no run id at hand:
        then it is kept, and starts when ids come."""
        if task.name not in self.short:
            return False
        if task._definition.multilaunch or task not in self._asked:
            self._asked.append(task)
        return True

    def waits(self, name: str) -> bool:
        return any(task.name == name for task in self._asked)

    def drop(self, name: str) -> bool:
        """Forget the asked runs of ``name``; whether there was one."""
        kept = [task for task in self._asked if task.name != name]
        dropped = len(kept) < len(self._asked)
        self._asked = kept
        return dropped

    def take(self) -> tuple[set[str], list[Task]]:
        """Ids came: the tasks to look at again, and the asked runs to launch."""
        taken = self.short, self._asked
        self.short, self._asked = set(), []
        return taken

    def clear(self) -> None:
        self._asked.clear()
