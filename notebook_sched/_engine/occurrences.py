"""Every start and end of each task, in memory: what the status conditions
count (``succeeded.today >= 2``, ``"has failed past 1 hour"``) and what
``retry(n)`` reads (how many of the latest runs failed in a row).

They answer from the whole run history, so the history file's part is read
once, when the scheduler is constructed — on a thread of its own: a long
history takes a fraction of a second to read, which the kernel's loop must
not wait for. The scheduler's first look at its tasks waits for it instead
(asynchronously: ``wait_ready``). The runs of this process are added as they
start and end. The two parts are kept apart, so the loader never meets a
run of this process (those have run ids from ``History.first_own_id`` on)
and nothing has to be merged: the file's part is sorted once and not written
again, this process's part grows in time order. A count is a few bisections.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence

from .._history.records import FINAL_STATUSES as FINAL

__all__ = ["FINAL", "Occurrences"]

log = logging.getLogger("notebook_sched")

Times = dict[tuple[str, str], array]  # (task, "start" or a final status) -> sorted epochs
Rows = Sequence[tuple[str, str, float, float | None]]  # (task, status, start, end)


class Occurrences:
    def __init__(self, load: Callable[[], Rows] | None, latest_failed: Iterable[str] = ()) -> None:
        """``load`` reads the history file's runs (on the loader's thread;
        ``None``: there is no file). Until it has, a task in ``latest_failed``
        counts as having failed once in a row."""
        self._loaded: Times = {}
        self._own: Times = {}
        self._lock = threading.Lock()  # the own part: runs end on other threads too
        self._loaded_streaks: dict[str, int] = dict.fromkeys(latest_failed, 1)
        self._own_streaks: dict[str, int] = {}
        self._broken: set[str] = set()  # tasks with an own end that was not a failure
        self.ready = threading.Event()
        if load is None:
            self.ready.set()
        else:
            threading.Thread(
                target=self._load, args=(load,), name="notebook_sched-history-load", daemon=True
            ).start()

    # ------------------------------------------------------------ loading

    def _load(self, load: Callable[[], Rows]) -> None:
        try:
            rows = load()
        except Exception:  # a closed or broken file: the latest times are still known
            log.warning(
                "notebook_sched: the run history could not be read; status conditions "
                "count only this session's runs",
                exc_info=True,
            )
            self.ready.set()
            return
        found: dict[tuple[str, str], list[float]] = {}
        streaks: dict[str, int] = {}
        for task, status, start, end in rows:
            found.setdefault((task, "start"), []).append(start)
            if status in FINAL and end is not None:
                found.setdefault((task, status), []).append(end)
                streaks[task] = streaks.get(task, 0) + 1 if status == "fail" else 0
        self._loaded = {key: array("d", sorted(times)) for key, times in found.items()}
        self._loaded_streaks = streaks
        self.ready.set()

    async def wait_ready(self) -> None:
        """Until the history file's part is loaded (without holding the loop)."""
        if not self.ready.is_set():
            await asyncio.to_thread(self.ready.wait)

    # ------------------------------------------------------------ events

    def started(self, task: str, at: float) -> None:
        with self._lock:
            _insert(self._own, (task, "start"), at)

    def ended(self, task: str, status: str, at: float) -> None:
        with self._lock:
            _insert(self._own, (task, status), at)
            if status == "fail":
                self._own_streaks[task] = self._own_streaks.get(task, 0) + 1
            else:
                self._own_streaks[task] = 0
                self._broken.add(task)

    # ------------------------------------------------------------ reads

    def count(self, task: str, how: str | None, since: float, until: float) -> int:
        """Starts (``how`` ``None``) or ends ``how`` (a final status, or
        ``"finish"``: any) of ``task`` at ``since <= t < until``."""
        self._wait()
        total = 0
        for times in self._arrays(task, how):
            total += bisect.bisect_left(times, until) - bisect.bisect_left(times, since)
        return total

    def nth(self, task: str, how: str | None, since: float, n: int = 0) -> float | None:
        """The ``n``-th (from 0) of them at or after ``since``."""
        self._wait()
        found: list[float] = []
        for times in self._arrays(task, how):
            i = bisect.bisect_left(times, since)
            found.extend(times[i : i + n + 1])
        found.sort()
        return found[n] if n < len(found) else None

    def fail_streak(self, task: str) -> int:
        """How many of the task's latest finished runs failed in a row."""
        own = self._own_streaks.get(task, 0)
        return own if task in self._broken else self._loaded_streaks.get(task, 0) + own

    def _arrays(self, task: str, how: str | None) -> list[array]:
        kinds = FINAL if how == "finish" else ("start" if how is None else how,)
        found = []
        for part in (self._loaded, self._own):
            for kind in kinds:
                times = part.get((task, kind))
                if times is not None:
                    found.append(times)
        return found

    def _wait(self) -> None:
        # The scheduler's loop looks only once it is ready (``wait_ready``);
        # an is_true() from a cell right after the construction waits here.
        if not self.ready.is_set():
            self.ready.wait()


def _insert(times: Times, key: tuple[str, str], at: float) -> None:
    found = times.get(key)
    if found is None:
        times[key] = array("d", [at])
    elif not found or found[-1] <= at:
        found.append(at)
    else:  # ends reported out of order (runs on several threads)
        bisect.insort(found, at)
