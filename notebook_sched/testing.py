"""Helpers for testing one's own schedules: a clock that moves only when told.

A scheduler reads every time from its clock. Given a ``ManualClock``, it
sleeps until the clock is moved, so a test of "does my task run at 08:00,
and is it terminated at 08:30?" runs in milliseconds, without sleeping:

```python
import asyncio
from datetime import datetime

from notebook_sched import Scheduler
from notebook_sched.conds import time_of_day
from notebook_sched.testing import ManualClock


async def test_the_morning_task():
    clock = ManualClock(datetime(2026, 1, 5, 7, 59).astimezone())  # 07:59 local
    app = Scheduler(clock=clock)
    ran = []

    @app.task(time_of_day.after("08:00"))
    async def morning():
        ran.append(clock.now())

    app.start()                    # on the running loop: returns at once
    await asyncio.sleep(0.05)
    assert ran == []               # 07:59: not yet
    clock.advance(60)              # 08:00 on both clocks
    while not ran:                 # the loop wakes at the jump
        await asyncio.sleep(0.01)
    app.shut_down()
    await app.wait()
```

``advance(seconds)`` moves the wall clock and the monotonic clock together
(time passes); ``step_wall(seconds)`` moves only the wall clock, as an NTP
step or a resume from suspend does. Durations — timeouts and grace periods —
are measured on the monotonic clock, so a wall step leaves them as they are;
wall-clock conditions (windows, ``daily.at``, cron) see the new time.

Work that really runs — a thread, a child process — still takes real time;
the manual clock only decides when the scheduler thinks things are due.
"""

from __future__ import annotations

from ._engine.clock import ManualClock as ManualClock

__all__ = ["ManualClock"]

ManualClock.__module__ = __name__


def __dir__() -> list[str]:
    return sorted(__all__)
