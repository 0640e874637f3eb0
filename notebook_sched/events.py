"""What happens in a scheduler, as frozen, timestamped events.

``app.subscribe(callback, *event_types)`` calls ``callback(event)`` on the
scheduler's loop for each event of those types (every event when none are
given) and returns a ``Subscription``; ``subscription.cancel()`` stops it.
Every event has a timezone-aware ``time`` read from the scheduler's clock.

```python
from notebook_sched.events import RunFinished

def notify(event: RunFinished) -> None:
    if event.record.status == "fail":
        print(f"{event.record.task} failed at {event.time:%H:%M}")

subscription = app.subscribe(notify, RunFinished)
...
subscription.cancel()
```

The events of one run come in this order: ``RunStarted``, then
``RunTerminating`` if it is terminated, then ``RunFinished``. A scheduler's:
``SchedulerStarted``, ``SchedulerStopping`` (again with ``forced=True`` if a
graceful shutdown becomes forced), ``SchedulerStopped``.

| event | fields | published when |
|---|---|---|
| `SchedulerStarted` | | the scheduler enters `"running"` |
| `SchedulerStopping` | `forced` | it enters `"shutting_down"`, and when that becomes forced |
| `SchedulerStopped` | | it enters `"stopped"` |
| `TaskDefined` | `task` | a task is defined or redefined |
| `TaskDisabled`, `TaskEnabled` | `task` | `Task.disable()`, `Task.enable()` |
| `RunStarted` | `task`, `run_id`, `record`, `deadline` | a run is launched |
| `RunTerminating` | `task`, `run_id`, `reason` | termination of a live run is requested |
| `RunFinished` | `record` | a run has its final record |
| `RunRetryScheduled` | `task`, `attempt`, `at` | a failed run is to be retried (`retries`) |
| `ConditionFailed` | `task`, `error` | a condition raised (once per task and error) |

A callback runs on the scheduler's loop, so it must be quick (it holds the
loop while it runs); one that raises is logged and the others still run.
"""

from __future__ import annotations

from ._engine.events import ConditionFailed as ConditionFailed
from ._engine.events import Event as Event
from ._engine.events import RunFinished as RunFinished
from ._engine.events import RunRetryScheduled as RunRetryScheduled
from ._engine.events import RunStarted as RunStarted
from ._engine.events import RunTerminating as RunTerminating
from ._engine.events import SchedulerStarted as SchedulerStarted
from ._engine.events import SchedulerStopped as SchedulerStopped
from ._engine.events import SchedulerStopping as SchedulerStopping
from ._engine.events import Subscription as Subscription
from ._engine.events import TaskDefined as TaskDefined
from ._engine.events import TaskDisabled as TaskDisabled
from ._engine.events import TaskEnabled as TaskEnabled

__all__ = [
    "ConditionFailed",
    "Event",
    "RunFinished",
    "RunRetryScheduled",
    "RunStarted",
    "RunTerminating",
    "SchedulerStarted",
    "SchedulerStopped",
    "SchedulerStopping",
    "Subscription",
    "TaskDefined",
    "TaskDisabled",
    "TaskEnabled",
]

# help() and the API reference show them here, where users import them from.
for _public in (
    ConditionFailed, Event, RunFinished, RunRetryScheduled, RunStarted, RunTerminating,
    SchedulerStarted, SchedulerStopped, SchedulerStopping, Subscription, TaskDefined,
    TaskDisabled, TaskEnabled,
):  # fmt: skip
    _public.__module__ = __name__


def __dir__() -> list[str]:
    return sorted(__all__)
