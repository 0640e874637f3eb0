"""The public exceptions of notebook_sched.exc, and where they are raised."""

from __future__ import annotations

import pytest

import notebook_sched.exc
from notebook_sched import Scheduler
from notebook_sched.exc import RunStoreError, SchedulerNotRunning, TaskTerminationException


def test_the_public_exceptions():
    assert dir(notebook_sched.exc) == sorted(notebook_sched.exc.__all__)
    assert set(notebook_sched.exc.__all__) == {
        "RunStoreError", "SchedulerNotRunning", "TaskTerminationException",
    }  # fmt: skip
    assert issubclass(SchedulerNotRunning, RuntimeError)
    assert issubclass(TaskTerminationException, Exception)
    for cls in (RunStoreError, SchedulerNotRunning, TaskTerminationException):
        assert cls.__module__ == "notebook_sched.exc" and cls.__doc__


def test_task_run_on_a_stopped_scheduler_raises_scheduler_not_running():
    app = Scheduler()
    app.task(name="t")(lambda: None)
    with pytest.raises(SchedulerNotRunning, match=r"'t'.*stopped.*app\.start"):
        app.tasks["t"].run()
    with pytest.raises(RuntimeError):  # still a RuntimeError, as the contract says
        app.tasks["t"].run()


def test_a_runs_db_that_cannot_serve_raises_run_store_error_naming_it(tmp_path):
    path = tmp_path / "not-a-db.sqlite"
    path.write_bytes(b"this is not a SQLite file" * 100)
    with pytest.raises(RunStoreError, match=str(path)):
        Scheduler(runs_db=path)
    missing = tmp_path / "no" / "such" / "dir" / "runs.sqlite"
    with pytest.raises(RunStoreError, match=str(missing)):
        Scheduler(runs_db=missing)
