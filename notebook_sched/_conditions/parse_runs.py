"""The atoms of condition strings that are about runs, in Rocketry's syntax
(its ``dependence.rst``, ``task_status.rst`` and parser)::

    'after' 'task' NAME [OUTCOME]
    'after' ['any'] 'tasks' NAME (',' NAME)* [OUTCOME]
    ['while'] 'task' NAME ['is'] 'running' RUNNING
    'running' RUNNING                       (the task itself)
    ['task' NAME] 'has' ACTION [PERIOD [window] | ['in'] 'past' DURATION] [OP INT]
    'retry' [INT]
    'scheduler' ('has' 'run' 'over' DURATION | 'started' DURATION 'ago' | 'is' 'running'
                 | 'has' [('more' | 'less') 'than'] INT 'cycles')

    OUTCOME := 'succeeded' | 'failed' | 'finished' | 'terminated'
    RUNNING := ['more' 'than' DURATION] ['less' 'than' DURATION] [OP INT]
    ACTION  := 'succeeded' | 'failed' | 'finished' | 'started' | 'terminated'
    PERIOD  := 'this' ('minute' | 'hour' | 'day' | 'week' | 'month') | 'today'
"""

from __future__ import annotations

from .base import All, Any, Condition
from .calendar import Scale
from .cycles import Cycles
from .retry import Retry
from .running import COMPARISONS, Running
from .status import Status, period_scale
from .stream import TokenStream
from .tasks import TaskFinished
from .uptime import Uptime

__all__ = ["RUN_STARTS", "RunAtoms"]

RUN_STARTS = ("after", "task", "while", "running", "has", "retry", "scheduler")
_OUTCOMES = {
    "succeeded": "success",
    "failed": "fail",
    "finished": "finish",
    "terminated": "terminate",
}
_ACTIONS = ("succeeded", "failed", "finished", "started", "terminated")
_PERIOD_UNITS = ("minute", "hour", "day", "week", "month")
_WINDOW_WORDS = ("between", "after", "before", "at", "on", "starting")


class RunAtoms(TokenStream):
    """Parses the atoms above; the grammar (``parse.py``) builds on it and
    gives ``window`` (reading ``between X and Y`` and the like)."""

    def window(self, builder: object, scale: Scale, clause: object) -> Condition:
        raise NotImplementedError

    def atom_after(self) -> Condition:
        """``after task 'a' [outcome]``, ``after [any] tasks 'a', 'b' [outcome]``."""
        combine: type[All] | type[Any] = All
        if self.peek().is_word("any"):
            self.take()
            combine = Any
            self.keyword("tasks", expected="'tasks', as in \"after any tasks 'a', 'b'\"")
            many = True
        else:
            many = self.keyword(
                "task", "tasks", expected="'task' or 'tasks', as in \"after task 'a'\""
            ).is_word("tasks")
        names = [self.name("after tasks" if many else "after task")]
        while many and self.peek().kind == "word" and self.peek().text == ",":
            self.take()
            names.append(self.name("','"))
        outcome = "success"
        token = self.peek()
        if token.kind == "word":
            if not token.is_word(*_OUTCOMES):
                raise self.unexpected(
                    token, "succeeded, failed, finished, terminated, &, | or the end",
                    tuple(_OUTCOMES),
                )  # fmt: skip
            outcome = _OUTCOMES[self.take().text.lower()]
        if len(names) == 1:
            return TaskFinished(names[0], outcome)
        return combine(*(TaskFinished(name, outcome) for name in names))

    def atom_while(self) -> Condition:
        self.keyword("task", expected="'task', as in \"while task 'a' is running\"")
        return self.atom_task()

    def atom_task(self) -> Condition:
        name = self.name("task")
        if self.peek().is_word("has"):
            self.take()
            return self.atom_has(name)
        if self.peek().is_word("is"):
            self.take()
        self.keyword("running", expected="'running', as in \"task 'a' is running\"")
        return self.atom_running(name)

    def atom_running(self, task: str | None = None) -> Condition:
        """What follows ``running``: how long the runs have lasted, how many."""
        cond = Running(task)
        for bound in ("more", "less"):
            if self.peek().is_word(bound):
                self.take()
                self.keyword("than", expected=f"'than', as in 'running {bound} than 1 hour'")
                seconds = self.duration(
                    f"running {bound} than", f"{bound} than 1 hour", stop=("less", *COMPARISONS)
                )
                cond = cond._with(**{"near" if bound == "more" else "far": seconds})
        return self.compared(cond, "running >= 2")

    def compared(self, cond: Running | Status, example: str) -> Condition:
        """``cond`` compared with the count that may follow it (``>= 2``)."""
        token = self.peek()
        if token.kind == "word" and token.text in COMPARISONS:
            op = self.take().text
            count = self.peek()
            if count.kind != "word" or not count.text.isdigit():
                raise self.unexpected(count, f"a number of runs after {op!r}, like {example!r}")
            self.take()
            return cond._compared(op, int(count.text))
        return cond

    def atom_has(self, task: str | None = None) -> Condition:
        """``has succeeded [today [window] | past 2 hours] [>= 2]``."""
        if self.peek().is_word("inacted"):
            raise self.fail(
                self.peek(),
                "'inacted' (Rocketry's TaskInactionException) has no counterpart here: a run "
                "ends succeeded, failed, terminated or crashed",
            )
        action = self.keyword(*_ACTIONS, expected=", ".join(_ACTIONS[:-1]) + " or terminated")
        return self.compared(
            self.has_period(Status(action.text.lower(), task)), "has succeeded >= 2"
        )

    def has_period(self, cond: Status) -> Status:
        token = self.peek()
        if token.is_word("in", "past"):
            if self.take().is_word("in"):
                self.keyword("past", expected="'past', as in 'has succeeded in past 1 hour'")
            return cond.in_past(self.duration("past", "past 2 hours", stop=tuple(COMPARISONS)))
        if token.is_word("today"):
            self.take()
            words = "today"
        elif token.is_word("this"):
            self.take()
            unit = self.keyword(*_PERIOD_UNITS, expected="minute, hour, day, week or month")
            words = "today" if unit.is_word("day") else f"this {unit.text.lower()}"
        else:
            return cond
        scale = period_scale(words)
        assert scale is not None
        whole = cond._in(scale)
        if self.peek().is_word(*_WINDOW_WORDS):
            narrowed = self.window(whole, scale, self.take())
            assert isinstance(narrowed, Status)
            return narrowed
        return whole

    def atom_retry(self) -> Condition:
        token = self.peek()
        if token.kind == "word" and token.text.isdigit():
            return Retry(int(self.take().text))
        return Retry(-1)

    def atom_scheduler(self) -> Condition:
        """Rocketry's ``scheduler has run over 5 minutes`` (``scheduler_running(
        more_than=...)``), ``scheduler started 5 minutes ago``
        (``less_than=...``) and ``scheduler has more than 3 cycles``."""
        token = self.keyword("has", "started", "is", expected="has, started or is")
        if token.is_word("is"):
            self.keyword("running", expected="'running', as in 'scheduler is running'")
            return Uptime()
        if token.is_word("has"):
            if not self.peek().is_word("run"):
                return self.cycles()
            self.keyword("run", expected="'run', as in 'scheduler has run over 5 minutes'")
            self.keyword("over", expected="'over', as in 'scheduler has run over 5 minutes'")
            return Uptime(more_than=self.duration("scheduler has run over", "over 5 minutes"))
        seconds = self.duration("scheduler started", "started 5 minutes ago", stop=("ago",))
        self.keyword("ago", expected="'ago', as in 'scheduler started 5 minutes ago'")
        return Uptime(less_than=seconds)

    def cycles(self) -> Condition:
        """What follows ``scheduler has``, about cycles: ``more than 3 cycles``,
        ``less than 3 cycles``, ``3 cycles``."""
        op = "=="
        if self.peek().is_word("more", "less"):
            op = ">" if self.take().is_word("more") else "<"
            self.keyword("than", expected="'than', as in 'scheduler has more than 3 cycles'")
        count = self.peek()
        if count.kind != "word" or not count.text.isdigit():
            raise self.unexpected(
                count, "run over, more than, less than or a number of cycles, as in "
                "'scheduler has more than 3 cycles'", ("run", "more", "less"),
            )  # fmt: skip
        self.take()
        self.keyword("cycles", "cycle", expected="'cycles', as in 'scheduler has 3 cycles'")
        return Cycles(op, int(count.text))
