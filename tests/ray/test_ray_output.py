"""What a ray run writes comes back into its record, and its progress
reaches ``Task.progress`` while it runs — against a real local Ray."""

from __future__ import annotations

import logging
import sys

import pytest

from notebook_sched.args import Progress, TerminationFlag
from tests.conftest import wait_until
from tests.ray.test_ray_runs import final

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("local_ray")]


def test_a_ray_runs_prints_and_logs_are_in_its_record(make_scheduler, capfd):
    app = make_scheduler()
    logging.getLogger("test_ray_output").setLevel(logging.INFO)

    @app.task(execution="ray")
    def remote():
        print("on the worker")
        print("its stderr", file=sys.stderr)
        logging.getLogger("test_ray_output").info("a log line")
        raise ValueError("after writing")

    app.start()
    app.tasks["remote"].run()
    record = final(app, "remote")
    assert record.status == "fail"
    assert record.output == "on the worker\nits stderr\nINFO test_ray_output: a log line\n"
    assert "on the worker" not in capfd.readouterr().out


def test_a_ray_runs_progress_arrives_while_it_runs(make_scheduler):
    app = make_scheduler()

    @app.task(execution="ray")
    def sweep(progress=Progress(), flag=TerminationFlag()):
        for i in range(1001):
            progress(i / 1000, f"step {i}")
        flag.wait(120)

    app.start()
    app.tasks["sweep"].run()
    wait_until(lambda: app.tasks["sweep"].progress == (1.0, "step 1000"), timeout=60)
    app.tasks["sweep"].terminate()
    assert final(app, "sweep").status == "terminate"
    assert app.tasks["sweep"].progress is None
