"""Arguments and ``Task.result`` of ray runs, against a real local Ray: the
values are resolved in the kernel and travel pickled; the return value comes
back pickled, or as its ``repr()`` when it cannot be pickled."""

from __future__ import annotations

import os
import threading

import pytest

from notebook_sched.args import Arg, EnvArg, FuncArg, Return
from tests.conftest import wait_until

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("local_ray")]


def final(app, name: str, timeout: float = 60.0):
    wait_until(lambda: (r := app.tasks[name].last_run) is not None and r.status != "run", timeout)
    return app.tasks[name].last_run


def test_arguments_reach_a_ray_run_and_its_value_comes_back(make_scheduler, monkeypatch):
    app = make_scheduler()
    monkeypatch.setenv("NS_RAY_ARG", "from the kernel's environment")
    lock = threading.Lock()  # the FuncArg's closure holds it: it never goes to Ray

    def made_here():
        with lock:
            return os.getpid()

    app.params["rows"] = [1, 2, 3]

    @app.task(execution="thread")
    def first():
        return {"total": 6}

    class Summary:  # a class made here (as in a cell) travels by value, both ways
        def __init__(self, **fields):
            self.fields = fields

    @app.task(execution="ray")
    def far(
        rows=Arg("rows"),
        env=EnvArg("NS_RAY_ARG"),
        kernel=FuncArg(made_here),
        earlier=Return("first"),
        missing=Arg("missing"),
    ):
        return Summary(
            rows=rows, env=env, kernel=kernel, earlier=earlier, missing=missing, pid=os.getpid()
        )

    @app.task(execution="ray")
    def unpicklable():
        return threading.Lock()

    app.start()
    app.tasks["first"].run()
    assert final(app, "first").status == "success"
    app.tasks["far"].run()
    app.tasks["unpicklable"].run()
    record = final(app, "far")
    assert (record.status, record.error) == ("success", None)
    fields = app.tasks["far"].result.fields
    assert fields.pop("pid") != os.getpid()  # it ran on a Ray worker
    assert fields == {
        "rows": [1, 2, 3],
        "env": "from the kernel's environment",
        "kernel": os.getpid(),
        "earlier": {"total": 6},
        "missing": None,
    }
    assert final(app, "unpicklable").status == "success"
    assert app.tasks["unpicklable"].result.startswith("<unlocked _thread.lock object")
