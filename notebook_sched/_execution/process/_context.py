"""The kernel's import path, directory, environment and log levels, as the
zygote and its workers take them.

A run sees what the kernel had when the run started, as a freshly started
process would. The zygote takes each change when the kernel sends it, so a
child it forks has it without a word; a worker kept for the next run
(``_reuse``) was forked earlier, so it takes the change when it is handed
that run, and puts back what a run of its own changed (``os.chdir``,
``os.environ``, ``sys.path``) before the next one. Light to import: the
zygote and every worker have it loaded.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback

from ..capture import log_levels, set_log_levels

__all__ = ["error", "levels_kept", "restore", "take"]

#: Why the kernel's directory could not be entered here, if it could not:
#: the runs fail with it (``_child``), not the process that took it.
error: str | None = None

# What was taken last: (import path, directory, environment, log levels),
# and the levels that this process's loggers then had.
_taken: tuple[list[str], str, dict[bytes, bytes], dict[str, int]] | None = None
_levels: dict[str, int] | None = None


def take(data: bytes) -> None:
    """Become what the kernel is now (``zygote._Zygote.spawn`` pickled it)."""
    global _taken, _levels
    _taken = pickle.loads(data)
    _apply(True)
    # Read again (it marks them read): a level the kernel no longer sets
    # is not put back, so it is what the loggers have that counts.
    _levels = dict(log_levels())


def restore() -> None:
    """Put back the import path, directory and environment last taken, if a
    run changed them (a few microseconds when it did not)."""
    _apply(False)


def levels_kept() -> bool:
    """Whether the loggers still have the levels they had when the kernel's
    were last taken: a run that set one leaves its process unfit for the
    next run (the level of a logger the kernel never set would not be put
    back)."""
    return _levels is None or log_levels() == _levels


def _apply(levels: bool) -> None:
    global error
    if _taken is None:
        return
    sys_path, cwd, env, wanted = _taken
    if sys.path != sys_path:
        sys.path[:] = sys_path
    current = getattr(os.environ, "_data", None)
    if current != env:
        os.environb.clear()
        os.environb.update(env)
    if levels:
        set_log_levels(wanted)
    try:
        if levels or os.getcwd() != cwd:
            os.chdir(cwd)
        error = None
    except OSError as exc:
        error = "".join(traceback.format_exception(exc)).rstrip()
