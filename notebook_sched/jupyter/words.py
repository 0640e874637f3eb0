"""What the panel says about a run, in words a notebook user reads at a glance.

A record's fields are codes (``terminate`` with reason ``timeout``); the
panel says "timed out". A failed run's traceback starts with the frames of
the scheduler and of the standard library that called the user's function;
the panel shows it from the user's own frame on, and says the last line
("failed: ValueError: boom") where there is room for one line only.
"""

from __future__ import annotations

import os
import re
import sysconfig
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._history.records import RunRecord

__all__ = ["detail", "error_line", "outcome_words", "summary", "user_traceback"]

_TERMINATED = {
    "timeout": "timed out",
    "manual": "terminated by you",
    "shutdown": "stopped by the shutdown",
    "end_cond": "ended by its end condition",
}
_LINE_LIMIT = 160
_FRAME = re.compile(r'^  File "(?P<path>[^"]*)", line \d+')
_HEADER = "Traceback (most recent call last):"
# Frames of these folders call the user's function; the user did not write them.
_CALLERS = tuple(
    os.path.normcase(os.path.realpath(p)) + os.sep
    for p in {os.path.dirname(os.path.dirname(__file__)), sysconfig.get_paths()["stdlib"]}
)


def error_line(error: str | None) -> str:
    """The last non-empty line of an error text (the exception itself)."""
    if not error:
        return ""
    for line in reversed(error.strip().splitlines()):
        if line.strip():
            line = line.strip()
            return line if len(line) <= _LINE_LIMIT else line[: _LINE_LIMIT - 1] + "…"
    return ""


def outcome_words(status: str, reason: str | None, error: str | None) -> str:
    """``"succeeded"``, ``"failed: ValueError: boom"``, ``"timed out"``, …"""
    if status == "run":
        return "terminating" if reason else "running"
    if status == "success":
        return "succeeded"
    if status in ("fail", "crash"):
        verb = "failed" if status == "fail" else "crashed"
        line = error_line(error)
        return f"{verb}: {line}" if line else verb
    if status == "terminate":
        return _TERMINATED.get(reason or "", "terminated")
    return status


def _is_caller(path: str) -> bool:
    if not os.path.isabs(path):
        return False  # "<string>", "<frozen ...>" are the interpreter's own: keep them
    return os.path.normcase(os.path.realpath(path)).startswith(_CALLERS)


def _trim_block(lines: list[str]) -> list[str]:
    """One ``Traceback ...`` block without the leading frames of callers."""
    frames: list[list[str]] = []
    tail: list[str] = []
    for line in lines[1:]:
        if _FRAME.match(line):
            frames.append([line])
        elif frames and line.startswith("    ") and not tail:
            frames[-1].append(line)
        else:
            tail.append(line)
    first_user = next(
        (i for i, frame in enumerate(frames) if not _is_caller(_FRAME.match(frame[0])["path"])),  # type: ignore[index]
        None,
    )
    if first_user is None:
        return lines  # nothing of the user's: show it whole
    kept = [line for frame in frames[first_user:] for line in frame]
    return [lines[0], *kept, *tail]


def user_traceback(error: str | None) -> str:
    """``error`` with each traceback starting at the first frame that is
    not the scheduler's or the standard library's (chained tracebacks too)."""
    if not error or _HEADER not in error:
        return error or ""
    out: list[str] = []
    block: list[str] = []
    for line in error.splitlines():
        if line == _HEADER:
            if block:
                out += _trim_block(block) if block[0] == _HEADER else block
            block = [line]
        else:
            block.append(line)
    if block:
        out += _trim_block(block) if block[0] == _HEADER else block
    return "\n".join(out)


def _epoch(record: RunRecord) -> tuple[float, float | None]:
    # Milliseconds are all a view draws (and every digit is JSON to send).
    start = round(record.start.timestamp(), 3)
    return start, round(record.end.timestamp(), 3) if record.end else None


def summary(record: RunRecord) -> list[Any]:
    """A run as the timeline and the recent-runs list show it:
    ``[run_id, task, status, start, end, words, attempt]`` (times as epoch seconds)."""
    start, end = _epoch(record)
    words = outcome_words(record.status, record.reason, record.error)
    return [record.run_id, record.task, record.status, start, end, words, record.attempt]


def detail(record: RunRecord) -> dict[str, Any]:
    """Everything of one run, for the run detail."""
    start, end = _epoch(record)
    failed = record.status in ("fail", "crash")
    return {
        "run_id": record.run_id,
        "task": record.task,
        "status": record.status,
        "words": outcome_words(record.status, record.reason, record.error),
        "reason": record.reason,
        "attempt": record.attempt,
        "start": start,
        "end": end,
        "runtime": record.runtime,
        "result": record.result,
        "output": record.output,
        # A terminated run's error is how it was stopped (a signal, an injected
        # exception), not something the user did wrong: it is kept apart.
        "error": user_traceback(record.error) if failed else "",
        "how_stopped": (record.error or "") if not failed else "",
    }
