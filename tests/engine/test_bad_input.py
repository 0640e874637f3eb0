"""Bad input fails when it is given, naming the value."""

from __future__ import annotations

import math
import threading

import pytest

from notebook_sched import Scheduler


def f(): ...


@pytest.mark.parametrize(
    ("kwargs", "exc", "fragment"),
    [
        ({"timeout": 0}, ValueError, "0"),
        ({"timeout": -1}, ValueError, "-1"),
        ({"timeout": math.nan}, ValueError, "nan"),
        ({"timeout": "1 hourr"}, ValueError, "'1 hourr'"),
        ({"timeout": ""}, ValueError, "''"),
        ({"execution": "proc"}, ValueError, "'proc'"),
        ({"start_cond": 42}, TypeError, "42"),
        ({"start_cond": "every 10 secnds"}, ValueError, "secnds"),
        ({"end_cond": object}, TypeError, "object"),
        ({"name": ""}, ValueError, "''"),
    ],
)
def test_bad_task_arguments(kwargs, exc, fragment):
    app = Scheduler()
    with pytest.raises(exc) as info:
        app.task(**kwargs)(f)
    assert fragment in str(info.value)
    assert "f" in str(info.value) or "name" in str(info.value)


def test_async_execution_needs_async_def():
    with pytest.raises(ValueError, match=r"task 'f'.*'async'.*plain def"):
        Scheduler().task(execution="async")(f)


def test_non_callable():
    with pytest.raises(TypeError, match="42"):
        Scheduler().task()(42)


def test_process_task_must_pickle():
    lock = threading.Lock()
    with pytest.raises(TypeError, match=r"task 'uses_lock'.*cannot be pickled"):

        @Scheduler().task(execution="process")
        def uses_lock():
            return lock


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"timout": 1}, "'timout' (did you mean 'timeout'?)"),
        ({"runsdb": "x.sqlite"}, "'runsdb' (did you mean 'runs_db'?)"),
        ({"timeout": "soon"}, "'soon'"),
        ({"timeout": 0}, "0"),
        ({"instant_shutdown": "yes"}, "'yes'"),
        ({"execution": "fork"}, "'fork'"),
        ({"cycle_sleep": 0}, "cycle_sleep"),
        ({"cycle_sleep": "fast"}, "'fast'"),
        ({"terminate_grace": -1}, "terminate_grace"),
        ({"runs_db": 3}, "runs_db"),
        ({"shut_cond": 5}, "5"),
    ],
)
def test_bad_config(config, fragment):
    with pytest.raises(ValueError) as info:
        Scheduler(config=config)
    assert fragment in str(info.value)


def test_key_given_twice():
    with pytest.raises(ValueError, match="'timeout' is given twice"):
        Scheduler(config={"timeout": 1}, timeout=2)


def test_session_timeout_accepts_never():
    assert Scheduler(timeout="never").session.config["timeout"] is None
    assert Scheduler(timeout="10 seconds").session.config["timeout"] == 10
