"""``scheduler_cycles(more_than=..., less_than=...)``: how many times the
scheduler has looked at its due tasks since it started — Rocketry's
scheduler cycles, mostly for a ``shut_cond`` in a test
(``scheduler_cycles(more_than=1)``: shut down after two looks).

Rocketry's loop cycles through all tasks every ``cycle_sleep``; ours sleeps
until something is due. So a cycle here is one look of the loop, and a
condition on cycles that the next look may change asks for that look one
``cycle_sleep`` later, as ``condition(func)`` does: a scheduler whose
``shut_cond`` counts cycles keeps cycling until it holds, as Rocketry's does.
"""

from __future__ import annotations

from .base import All, Condition, Context, Paced
from .running import COMPARISONS

__all__ = ["Cycles", "scheduler_cycles"]

_WORDS = {">": "more than ", "<": "less than ", "==": ""}


class Cycles(Paced):
    """True when the scheduler's count of cycles compares ``op`` (``">"``,
    ``"<"`` or ``"=="``) with ``count``."""

    def __init__(self, op: str, count: int) -> None:
        if op not in _WORDS:
            raise ValueError(f"op must be one of {', '.join(map(repr, _WORDS))}, got {op!r}")
        self.op, self.count = op, count

    def _is_true(self, ctx: Context) -> bool:
        return COMPARISONS[self.op](ctx.cycles(), self.count)

    def next_change(self, ctx: Context) -> float | None:
        # Cycles only grow: "more than" stays true once true, "less than" false
        # once false, "exactly" once past. The count moved on after the
        # scheduler's last look, so that look saw one cycle less: settled only
        # if that count gave the value for good too.
        seen = ctx.cycles() - 1
        settled = {">": seen > self.count, "<": seen >= self.count, "==": seen > self.count}
        return None if settled[self.op] else ctx.now + ctx.cycle_sleep

    def __str__(self) -> str:
        return f"scheduler has {_WORDS[self.op]}{self.count} cycles"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cycles) and (other.op, other.count) == (self.op, self.count)

    def __hash__(self) -> int:
        return hash((Cycles, self.op, self.count))


def _count(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"scheduler_cycles({what}=...) takes a number of cycles, got {value!r}")
    return value


def scheduler_cycles(more_than: int | None = None, less_than: int | None = None) -> Condition:
    """True once the scheduler has looked at its tasks more than ``more_than``
    times since it started and, with ``less_than``, until it has looked
    ``less_than`` times; with neither, after its first look."""
    bounds = []
    if more_than is not None:
        bounds.append(Cycles(">", _count(more_than, "more_than")))
    if less_than is not None:
        bounds.append(Cycles("<", _count(less_than, "less_than")))
    if not bounds:
        return Cycles(">", 0)
    return bounds[0] if len(bounds) == 1 else All(*bounds)
