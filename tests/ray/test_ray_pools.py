"""A pool caps ray runs too: a real local Ray, two tasks on one slot."""

from __future__ import annotations

import time

import pytest

from tests.conftest import wait_until

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("local_ray")]


def test_ray_runs_wait_for_their_pool(make_scheduler):
    app = make_scheduler(pools={"gpu": 1})

    def span():
        began = time.time()
        time.sleep(0.5)
        return (began, time.time())

    app.task(execution="ray", name="first", pool="gpu")(span)
    app.task(execution="ray", name="second", pool="gpu", retries=1)(span)
    app.start()
    assert app.tasks["first"].run() is True
    assert app.tasks["second"].run() is True
    assert app.tasks["second"].status == "waiting"
    assert app.tasks["second"].queue_position == 1
    wait_until(lambda: all(app.tasks[n].last_run is not None for n in ("first", "second")), 60)
    wait_until(lambda: all(app.tasks[n].last_run.status != "run" for n in ("first", "second")), 60)
    first, second = app.tasks["first"].result, app.tasks["second"].result
    assert app.tasks["first"].last_run.status == app.tasks["second"].last_run.status == "success"
    assert first[1] <= second[0]  # the second started after the first had ended
