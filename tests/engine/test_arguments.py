"""Arguments (``notebook_sched.args``) and ``Task.result``: each kind resolved
in the kernel when a run starts, in thread, async, main and process runs
(real child processes), and the return value itself kept for ``Return``."""

from __future__ import annotations

import inspect
import os
import threading
import uuid

import pytest

from notebook_sched import Scheduler
from notebook_sched.args import Arg, EnvArg, FuncArg, Return, Session, Task, TerminationFlag
from notebook_sched.conds import after_success
from tests.conftest import wait_until

EXECUTIONS = ["thread", "async", "main", "process"]


def final(app, name: str, timeout: float = 20.0):
    """The final record of ``name``'s latest run."""
    wait_until(lambda: (r := app.tasks[name].last_run) is not None and r.status != "run", timeout)
    return app.tasks[name].last_run


def define(app, execution: str, name: str, body):
    """Define ``body`` (a plain function) as task ``name``; for async runs
    through an ``async def`` with the same parameters and defaults."""
    if execution != "async":
        app.task(execution=execution, name=name)(body)
        return

    async def run(**kwargs):
        return body(**kwargs)

    run.__signature__ = inspect.signature(body)  # type: ignore[attr-defined]
    app.task(execution="async", name=name)(run)


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_each_value_kind_reaches_the_run_and_its_value_is_the_result(make_scheduler, execution):
    app = make_scheduler()
    variable = f"NS_TEST_{uuid.uuid4().hex}"
    os.environ[variable] = "from the environment"
    calls = []

    def counted():
        calls.append(1)
        return len(calls)

    app.params["db"] = {"url": "sqlite://", "pool": [1, 2]}

    @app.task(name="first")
    def first():
        return {"rows": [1, 2, 3]}

    def body(
        db=Arg("db"),
        missing=Arg("no such parameter"),
        fallback=Arg("no such parameter", default=5),
        env=EnvArg(variable),
        unset=EnvArg(variable + "_UNSET"),
        called=FuncArg(counted),
        with_args=FuncArg(lambda a, b=0: a + b, 40, b=2),
        earlier=Return("first"),
        never=Return("never ran"),
        flag=TerminationFlag(),
    ):
        return (db, missing, fallback, env, unset, called, with_args, earlier, never, flag.is_set())

    define(app, execution, "pipe", body)
    app.start()
    assert app.tasks["first"].run()
    assert final(app, "first").status == "success"
    assert app.tasks["pipe"].run()
    record = final(app, "pipe")
    assert (record.status, record.error) == ("success", None)
    expected = (
        {"url": "sqlite://", "pool": [1, 2]},
        None,
        5,
        "from the environment",
        None,
        1,
        42,
        {"rows": [1, 2, 3]},
        None,
        False,
    )
    result = app.tasks["pipe"].result
    assert result == expected
    assert record.result == repr(expected)  # the record keeps the short repr, as before
    # Resolved again at each run's start, in the kernel.
    app.params["db"] = "changed"
    os.environ[variable] = "changed too"
    assert app.tasks["pipe"].run()
    wait_until(lambda: app.tasks["pipe"].result != expected, timeout=20)
    again = app.tasks["pipe"].result
    assert (again[0], again[3], again[5]) == ("changed", "changed too", 2)
    del os.environ[variable]


@pytest.mark.parametrize("execution", ["thread", "async", "main"])
def test_session_and_task_are_the_live_objects(make_scheduler, execution):
    app = make_scheduler()
    seen = {}

    @app.task(name="other")
    def other(): ...

    def body(session=Session(), me=Task(), that=Task("other"), nobody=Task("no such task")):
        seen.update(session=session, me=me, that=that, nobody=nobody)
        return me.name

    define(app, execution, "meta", body)
    app.start()
    assert app.tasks["meta"].run()
    assert final(app, "meta").status == "success"
    assert seen["session"] is app.session
    assert seen["me"] is app.tasks["meta"]
    assert seen["that"] is app.tasks["other"]
    assert seen["nobody"] is None
    assert app.tasks["meta"].result == "meta"


@pytest.mark.parametrize("execution", ["process", "ray"])
@pytest.mark.parametrize("marker", [Session(), Task(), Task("other")], ids=repr)
def test_session_and_task_are_refused_where_the_run_is_another_process(execution, marker):
    if execution == "ray":
        pytest.importorskip("ray")
    app = Scheduler()

    def body(live=marker):
        return live

    with pytest.raises(ValueError) as info:
        app.task(execution=execution, name="far")(body)
    message = str(info.value)
    assert "task 'far'" in message and "'live'" in message and repr(marker) in message
    assert "far" not in app.tasks


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_a_raising_funcarg_fails_the_run_and_the_function_is_not_called(make_scheduler, execution):
    app = make_scheduler()
    called = []
    fail = [True]

    def lookup():
        if fail[0]:
            raise ConnectionError("the database is down")
        return "connected"

    def body(conn=FuncArg(lookup)):
        called.append(conn)
        return conn

    define(app, execution, "uses_db", body)
    app.start()
    assert app.tasks["uses_db"].run()
    record = final(app, "uses_db")
    assert record.status == "fail"
    assert record.error.startswith("FuncArg(")
    assert "lookup" in record.error.splitlines()[0]
    assert "parameter 'conn'" in record.error
    assert "Traceback (most recent call last):" in record.error
    assert record.error.endswith("ConnectionError: the database is down")
    assert called == []
    assert app.tasks["uses_db"].result is None
    assert app.state == "running"
    fail[0] = False  # the scheduler goes on: the next run gets its value
    assert app.tasks["uses_db"].run()
    assert final(app, "uses_db").status == "success"
    assert app.tasks["uses_db"].result == "connected"


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_result_is_the_latest_successful_return_value(make_scheduler, execution):
    app = make_scheduler()

    def body(outcome=Arg("outcome")):
        if outcome.startswith("raise"):
            raise ValueError(outcome)
        return outcome

    define(app, execution, "t", body)
    task = app.tasks["t"]
    assert task.result is None
    app.start()
    for outcome, expected_status, expected_result in [
        ("first", "success", "first"),
        ("raise: second fails", "fail", "first"),  # a failed run leaves the last success's
        ("third", "success", "third"),
    ]:
        app.params["outcome"] = outcome
        assert task.run()
        assert final(app, "t").status == expected_status
        assert task.result == expected_result


@pytest.mark.parametrize("execution", ["thread", "async", "main"])
def test_result_is_the_object_itself_in_the_kernel(make_scheduler, execution):
    app = make_scheduler()
    made = []

    def body():
        made.append(threading.Lock())  # not picklable, nor needed to be
        return made[-1]

    define(app, execution, "t", body)
    app.start()
    app.tasks["t"].run()
    assert final(app, "t").status == "success"
    assert app.tasks["t"].result is made[0]


def test_a_process_result_comes_back_pickled_or_as_its_repr(make_scheduler):
    app = make_scheduler()

    class Point:  # defined here, as in a cell: travels by value
        def __init__(self, x):
            self.x = x

    @app.task(execution="process")
    def point():
        return Point(3), os.getpid()

    @app.task(execution="process")
    def lock():
        return threading.Lock()

    app.start()
    app.tasks["point"].run()
    app.tasks["lock"].run()
    assert final(app, "point").status == "success"
    value, pid = app.tasks["point"].result
    assert type(value).__name__ == "Point" and value.x == 3
    assert pid != os.getpid()  # it did run in a child
    record = final(app, "lock")
    assert record.status == "success"
    assert isinstance(app.tasks["lock"].result, str)
    assert app.tasks["lock"].result.startswith("<unlocked _thread.lock object")
    assert record.result == app.tasks["lock"].result


def test_a_process_run_gets_a_funcarg_whose_function_cannot_be_pickled(make_scheduler):
    app = make_scheduler()
    lock = threading.Lock()  # the FuncArg's closure holds it: it cannot go to a child

    def locked_value():
        with lock:
            return "made in the kernel"

    @app.task(execution="process")
    def far(value=FuncArg(locked_value)):
        return value

    app.start()
    app.tasks["far"].run()
    assert final(app, "far").status == "success"
    assert app.tasks["far"].result == "made in the kernel"


def test_a_process_run_whose_argument_cannot_be_pickled_fails_naming_it(make_scheduler):
    app = make_scheduler()
    app.params["lock"] = threading.Lock()

    @app.task(execution="process")
    def far(lock=Arg("lock"), other=Arg("other")):
        return "never"

    app.start()
    app.tasks["far"].run()
    record = final(app, "far")
    assert record.status == "fail"
    assert "the run's arguments (lock, other) cannot be sent to a child process" in record.error
    assert "lock" in record.error


def test_rocketry_readme_pipelining(make_scheduler):
    """Rocketry's README: one task's return value passed to the next."""
    app = make_scheduler()
    received = []

    @app.task()
    def do_first():
        return "Hello World"

    @app.task(after_success(do_first))
    def do_second(arg=Return(do_first)):
        received.append(arg)
        return "Hello Python"

    @app.task("after task 'do_second' succeeded", execution="process")
    def do_third(arg=Return("do_second")):
        return f"{arg}, again"

    app.start()
    app.tasks["do_first"].run()
    wait_until(lambda: app.tasks["do_third"].result is not None)
    assert received == ["Hello World"]
    assert app.tasks["do_second"].result == "Hello Python"
    assert app.tasks["do_third"].result == "Hello Python, again"


def test_params_is_a_mapping_rocketry_style_too():
    app = Scheduler()
    app.params(my_arg="hello", other=1)
    app.params["db"] = "url"
    assert dict(app.params) == {"my_arg": "hello", "other": 1, "db": "url"}
    assert app.session.parameters is app.params
    del app.params["other"]
    assert "other" not in app.params


def test_markers_take_a_task_its_name_or_its_function():
    app = Scheduler()

    @app.task()
    def fetch(): ...

    assert Return(fetch).task == Return("fetch").task == Return(app.tasks["fetch"]).task == "fetch"
    assert repr(Return("fetch", default=[])) == "Return('fetch', default=[])"
    assert repr(Task(fetch)) == "Task('fetch')" and repr(Task()) == "Task()"
    assert repr(Arg("db")) == "Arg('db')" and repr(EnvArg("HOME")) == "EnvArg('HOME')"


@pytest.mark.parametrize(
    ("make", "bad"),
    [
        (Return, 42),
        (Return, ""),
        (Task, 3.5),
        (Arg, 7),
        (Arg, ""),
        (EnvArg, None),
        (FuncArg, "not callable"),
    ],
)
def test_bad_markers_are_refused_naming_the_value(make, bad):
    with pytest.raises(TypeError, match=make.__name__) as info:
        make(bad)
    assert repr(bad) in str(info.value)
