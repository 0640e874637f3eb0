"""Catching up (``catch_up=True`` with a ``runs_db`` file): a task whose
schedule had a due time between its last recorded start and the scheduler's
start runs once at start — once, not once per missed time — and
``Task.missed_runs`` says how many times were missed.

"Had a due time" is answered by the task's own start condition: it is
replayed over the gap on a context in which a scheduler ran from the last
start on, each time it turned true counting as a missed run (which, had it
happened, would have been the last start from then on). The replay steps from
one ``next_change`` to the next, so it costs a few evaluations per missed
time, not per second of the gap; it is done in slices on the loop (the first
step of a session), and stops counting at ``MAX_MISSED``. Conditions that
time alone does not decide — a custom function, ``app.params``, the
scheduler's cycles, another task's runs — cannot be replayed and are not
caught up.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from .._conditions.base import CONDITION_ERRORS, Condition, Context, Paced

__all__ = ["MAX_MISSED", "CatchUp"]

MAX_MISSED = 1000  # missed times counted at most per task
BUDGET = 0.002  # seconds of replay per look at a task; then the loop is given back


class _ReplayContext(Context):
    """The context of the replay: the scheduler's, but for the moment, the
    scheduler's start and the task's last start, which are the replay's own."""

    def __init__(self, real: Context, task: str, at: float, last: float) -> None:
        self._real = real
        self.task, self.now, self.replayed_start = task, at, last
        self.started_at = last  # as if a scheduler had run from the last start on
        self.tz, self.cycle_sleep = real.tz, real.cycle_sleep

    def last_start(self, task: str) -> float | None:
        return self.replayed_start if task == self.task else self._real.last_start(task)

    def last_finish(self, task: str, how: str) -> float | None:
        return self._real.last_finish(task, how)

    def running_since(self, task: str) -> float | None:
        return self._real.running_since(task)


class _Replay:
    __slots__ = ("at", "last", "missed")

    def __init__(self, last: float) -> None:
        self.at = last
        self.last = last
        self.missed = 0


def replayable(cond: Condition) -> bool:
    """Whether time alone decides ``cond`` (no custom function, no params,
    no cycles, no other task)."""
    if isinstance(cond, Paced) or cond.task_refs():
        return False
    children: list[Condition] = list(getattr(cond, "conditions", ()))
    if isinstance(inner := getattr(cond, "condition", None), Condition):
        children.append(inner)
    return all(replayable(c) for c in children)


class CatchUp:
    """The replays of one session's start, and what they found."""

    def __init__(self) -> None:
        self.replays: dict[str, _Replay] = {}  # by task: its replay, while not done
        self.missed: dict[str, int] = {}  # by task: times missed before the last start

    def begin(
        self,
        conds: Iterable[tuple[str, Condition | None]],
        starts: Mapping[str, float],
        started: float,
    ) -> None:
        """A session starts at ``started``: replay the start condition of each
        task (``(name, start_cond)``) that ran before."""
        self.replays.clear()
        self.missed.clear()
        for name, cond in conds:
            last = starts.get(name)
            if last is not None and last < started and cond is not None and replayable(cond):
                self.replays[name] = _Replay(last)

    def clear(self) -> None:
        self.replays.clear()

    def advance(self, name: str, cond: Condition, ctx: Context) -> bool | None:
        """Replay ``name``'s start condition a little further. ``None``: not
        done yet (look again); else whether it missed a run (it runs now)."""
        replay = self.replays[name]
        started = ctx.started_at
        assert started is not None
        replayed = _ReplayContext(ctx, name, replay.at, replay.last)
        began = time.perf_counter()
        try:
            while replay.missed < MAX_MISSED:
                after = cond.next_change(replayed)
                if after is None or after <= replay.at or after >= started:
                    break
                replay.at = replayed.now = after
                if cond.is_true(replayed):
                    replay.missed += 1
                    replay.last = replayed.replayed_start = replayed.started_at = after
                if time.perf_counter() - began > BUDGET:
                    return None
        except CONDITION_ERRORS:
            replay.missed = 0  # the loop's own evaluation reports the error
        del self.replays[name]
        if replay.missed:
            self.missed[name] = replay.missed
        return replay.missed > 0
