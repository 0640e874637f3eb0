"""Conditions that raise.

A condition is user code (``condition(func)``, ``@app.cond``, a subclass),
and user code raises: a file that is not there yet, a service that is down,
``sys.exit()`` in a helper that parses arguments. The scheduler must outlive
all of it, so every evaluation it makes goes through here: an error makes
that check false, is logged once per task and error (not once per step: a
condition is re-checked many times a second), and is kept as the task's
``condition_error`` until the condition evaluates cleanly again.

``SystemExit`` and ``KeyboardInterrupt`` are caught too: raised out of the
loop's step they would end the kernel's event loop, and the kernel with it.
A real kernel interrupt while ``run()`` blocks never arrives as a
``KeyboardInterrupt`` here (``interrupts.py`` turns it into a shutdown).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from .._conditions.base import CONDITION_ERRORS, Condition, Context

__all__ = ["RETRY", "ConditionErrors"]

log = logging.getLogger("notebook_sched")

RETRY = 1.0  # seconds before a condition that raised is looked at again, at least
_MAX_LOGGED = 10_000  # distinct errors remembered as logged; past that, forgotten


class ConditionErrors:
    """Evaluates conditions for the scheduler and remembers what they raised.

    ``which`` names the condition (``"start_cond"``, ``"end_cond"``,
    ``"shut_cond"``); the task is ``ctx.task`` (``None`` for the scheduler's
    own ``shut_cond``).
    """

    def __init__(self, on_failed: Callable[[str | None, str], None]) -> None:
        self._on_failed = on_failed  # (task, error with its traceback), once per error
        self._latest: dict[tuple[str | None, str], str] = {}
        self._logged: set[tuple[str | None, str, str, str]] = set()

    def check(self, cond: Condition, ctx: Context, which: str) -> bool:
        """Whether ``cond`` holds; ``False`` when it raises."""
        try:
            value = cond.is_true(ctx)
        except CONDITION_ERRORS as exc:
            self._failed(ctx.task, which, exc)
            return False
        if self._latest:
            self._latest.pop((ctx.task, which), None)
        return value

    def next_change(self, cond: Condition, ctx: Context, which: str) -> float | None:
        """When to look at ``cond`` again: when it may change, and at the
        latest a moment from now while it raises (what it answers may not say
        when it stops raising)."""
        retry = ctx.now + max(ctx.cycle_sleep, RETRY)
        try:
            change = cond.next_change(ctx)
        except CONDITION_ERRORS as exc:
            self._failed(ctx.task, which, exc)
            return retry
        if (ctx.task, which) not in self._latest:
            return change
        return retry if change is None else min(change, retry)

    def of_task(self, task: str | None) -> str | None:
        """The latest error of ``task``'s conditions that still stands, or ``None``."""
        for which in ("start_cond", "end_cond", "shut_cond"):
            text = self._latest.get((task, which))
            if text is not None:
                return text
        return None

    def forget(self, task: str) -> None:
        """The task was redefined: its conditions are new, and so are their errors."""
        for key in [k for k in self._latest if k[0] == task]:
            del self._latest[key]
        self._logged = {k for k in self._logged if k[0] != task}

    def reset(self) -> None:
        """A new session: an error logged in the last one is logged again."""
        self._logged.clear()

    def _failed(self, task: str | None, which: str, exc: BaseException) -> None:
        summary = f"{type(exc).__name__}: {exc}"
        key = (task, which, type(exc).__qualname__, str(exc)[:200])
        latest = self._latest.get((task, which))
        if (
            key in self._logged
            and latest is not None
            and latest.startswith(f"{which} raised {summary}\n")
        ):
            return  # the same error again (a condition raising at every step): nothing new
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        whose = "the scheduler's" if task is None else f"task {task!r}'s"
        self._latest[(task, which)] = f"{which} raised {summary}\n\n{trace}"
        if key in self._logged:
            return
        if len(self._logged) >= _MAX_LOGGED:
            self._logged.clear()
        self._logged.add(key)
        self._on_failed(task, self._latest[(task, which)])
        log.error(
            "notebook_sched: %s %s raised %s; it counts as false while it raises "
            "(this error is logged once)",
            whose,
            which,
            summary,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
