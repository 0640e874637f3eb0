"""When the asyncio loop under a running scheduler ends or closes.

A script's ``asyncio.run(main())`` that returns after ``app.start()`` ends
the loop the scheduler runs on: ``asyncio.run`` cancels every task left and
then closes the loop. Left alone, the scheduler would say "running" for
good, with runs nobody records and a ``start()`` refused for ever.

Instead the loop's end is a forced shutdown. Its usual form — the serving
task is cancelled while the loop still turns — keeps serving until the
scheduler has stopped (``Host._serve``): thread and process runs are
terminated as at any forced shutdown (reason ``"shutdown"``), an async run
that the loop's end cancelled is recorded as ended by that shutdown, the
shutdown tasks run, and only then may the loop close. A loop closed without
that warning (``run_until_complete()`` then ``close()``) is noticed the next
time the scheduler is used: there is no loop left to run anything on, so its
async runs are over at once (the coroutine of one that never took a step is
closed, so no "never awaited" warning follows) and the shutdown tasks are
skipped. Either way the state ends at ``"stopped"`` and ``start()`` works
again.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from .._execution.async_ import AsyncHandle
from .._execution.base import Outcome
from .clock import Clock
from .ledger import Ledger
from .lifecycle import Lifecycle

__all__ = ["loop_ended"]

log = logging.getLogger("notebook_sched")


class Stoppable(Protocol):
    """What the loop's end asks of the scheduler's core."""

    clock: Clock
    ledger: Ledger
    lifecycle: Lifecycle

    @property
    def state(self) -> str: ...
    @property
    def lock(self) -> threading.RLock: ...
    def generation(self) -> int: ...
    def shut_down(self, force: bool = False, force_after: float | None = None) -> None: ...


def loop_ended(core: Stoppable, gen: int, closed: bool) -> bool:
    """The loop of session ``gen`` is ending (``closed``: it already has).
    Shuts the scheduler down, forced; ``True`` while it has yet to stop."""
    with core.lock:
        if core.generation() != gen or core.state == "stopped":
            return False
        log.warning(
            "notebook_sched: the asyncio loop the scheduler runs on %s; shutting down (forced)",
            "was closed" if closed else "is ending",
        )
        if closed:
            core.lifecycle.without_loop()
        core.shut_down(force=True)
        if closed:
            # Their loop will never run them again: they ended with it.
            now = core.clock.time()
            for run in core.ledger.all_live():
                if run.definition.execution == "async":
                    if isinstance(run.handle, AsyncHandle):
                        run.handle.loop_closed()
                    core.ledger.report(run, Outcome("terminate", now))
        return core.state != "stopped"
