"""execution="ray" against a real local Ray: results, errors, every
termination path, the flag, resources, and many runs at once.

Task functions are defined inside the tests: closures travel by value, as a
notebook cell's functions do (a Ray worker cannot import this test module).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from notebook_sched.args import TerminationFlag
from notebook_sched.conds import condition
from tests.conftest import pid_alive, wait_until

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("local_ray")]

GRACE = 0.5


def final(app, name: str, timeout: float = 60.0):
    """The final record of ``name``'s latest run (generous: Ray may be busy)."""
    wait_until(lambda: (r := app.tasks[name].last_run) is not None and r.status != "run", timeout)
    return app.tasks[name].last_run


def stubborn(pid_file: Path, seconds: float = 60.0):
    """Writes its worker's pid, then sleeps, ignoring any flag."""

    def work():
        pid_file.write_text(str(os.getpid()))
        time.sleep(seconds)
        return "not stopped"

    return work


def started(pid_file: Path) -> int:
    wait_until(lambda: pid_file.exists() and pid_file.read_text(), timeout=60)
    return int(pid_file.read_text())


def test_return_value_closure_and_lambda(make_scheduler):
    app = make_scheduler()
    factor = 7

    def times(x):
        return x * factor

    app.task(execution="ray", name="closure")(lambda: [times(n) for n in range(3)])
    app.start()
    assert app.tasks["closure"].run()
    record = final(app, "closure")
    assert (record.status, record.reason, record.error) == ("success", None, None)
    assert record.result == "[0, 7, 14]"


def test_async_def_runs_on_ray(make_scheduler):
    import asyncio

    app = make_scheduler()

    @app.task(execution="ray")
    async def coroutine():
        await asyncio.sleep(0.01)
        return "awaited"

    app.start()
    app.tasks["coroutine"].run()
    assert final(app, "coroutine").result == "'awaited'"


def test_remote_failure_keeps_its_traceback(make_scheduler):
    app = make_scheduler()

    def inner(value):
        raise ValueError(f"bad value {value!r}")

    @app.task(execution="ray")
    def failing():
        inner(42)

    app.start()
    app.tasks["failing"].run()
    record = final(app, "failing")
    assert (record.status, record.reason) == ("fail", None)
    assert record.error.startswith("Traceback (most recent call last):")
    assert "in failing" in record.error and "in inner" in record.error
    assert "    inner(42)\n" in record.error  # with the source lines
    assert record.error.endswith("ValueError: bad value 42")
    assert "run_remote" not in record.error  # the task's frames, not the wrapper's


def test_timeout_kills_a_worker_that_ignores_its_flag(make_scheduler, tmp_path):
    app = make_scheduler(terminate_grace=GRACE)
    pid_file = tmp_path / "pid"
    app.task(execution="ray", name="stuck", timeout=3)(stubborn(pid_file))
    app.start()
    app.tasks["stuck"].run()
    worker = started(pid_file)
    record = final(app, "stuck")
    assert (record.status, record.reason) == ("terminate", "timeout")
    assert "ray.cancel" in record.error
    # Deadline 3 s after the start, forced step GRACE later; generous slack for the machine.
    assert 3 + GRACE - 0.05 <= record.runtime < 3 + GRACE + 5
    wait_until(lambda: not pid_alive(worker), timeout=30)  # the worker was killed


def test_flag_reaches_the_remote_function(make_scheduler, tmp_path):
    app = make_scheduler(terminate_grace=30)  # so only the flag can end it in time
    out = tmp_path / "seen"

    @app.task(execution="ray", timeout=3)
    def cooperative(flag=TerminationFlag()):
        assert not flag.is_set()
        while not flag.wait(10):
            pass
        out.write_text("flag set")
        return "stopped politely"

    app.start()
    app.tasks["cooperative"].run()
    record = final(app, "cooperative")
    assert (record.status, record.reason) == ("terminate", "timeout")
    assert record.result == "'stopped politely'"
    assert out.read_text() == "flag set"
    assert record.runtime < 3 + 10  # long before the forced step


def test_end_condition_terminates(make_scheduler, tmp_path):
    app = make_scheduler(cycle_sleep=0.01, terminate_grace=GRACE)
    pid_file = tmp_path / "pid"
    stop = {"now": False}
    app.task(execution="ray", name="slow", end_cond=condition(lambda: stop["now"]))(
        stubborn(pid_file)
    )
    app.start()
    app.tasks["slow"].run()
    worker = started(pid_file)
    stop["now"] = True
    record = final(app, "slow")
    assert (record.status, record.reason) == ("terminate", "end_cond")
    wait_until(lambda: not pid_alive(worker), timeout=30)


def test_manual_terminate(make_scheduler, tmp_path):
    app = make_scheduler(terminate_grace=GRACE)
    pid_file = tmp_path / "pid"
    app.task(execution="ray", name="slow")(stubborn(pid_file))
    app.start()
    app.tasks["slow"].run()
    worker = started(pid_file)
    assert app.tasks["slow"].terminate() is True
    assert app.tasks["slow"].status == "terminating"
    record = final(app, "slow")
    assert (record.status, record.reason) == ("terminate", "manual")
    wait_until(lambda: not pid_alive(worker), timeout=30)


def test_graceful_shutdown_waits_for_the_remote_run(make_scheduler):
    app = make_scheduler()

    @app.task(execution="ray")
    def short():
        time.sleep(1.0)
        return "finished"

    app.start()
    app.tasks["short"].run()
    wait_until(lambda: app.tasks["short"].last_run is not None)
    app.shut_down()
    assert app.state == "shutting_down"
    assert app.join(60)
    record = app.tasks["short"].last_run
    assert (record.status, record.reason, record.result) == ("success", None, "'finished'")


def test_forced_shutdown_terminates_twenty_concurrent_runs(make_scheduler, tmp_path):
    """20 runs at once (more than the machine's CPUs: some wait in Ray's queue);
    a forced shutdown ends every one, running or queued, with reason "shutdown"."""
    app = make_scheduler(terminate_grace=GRACE)
    for n in range(20):
        app.task(execution="ray", name=f"r{n}", resources={"num_cpus": 0.25})(
            stubborn(tmp_path / f"pid{n}")
        )
    app.start()
    assert all(app.tasks[f"r{n}"].run() for n in range(20))
    workers = [started(tmp_path / "pid0"), started(tmp_path / "pid1")]
    app.shut_down(force=True)
    assert app.join(60)
    records = [app.tasks[f"r{n}"].last_run for n in range(20)]
    assert {(r.status, r.reason) for r in records} == {("terminate", "shutdown")}
    for worker in workers:
        wait_until(lambda w=worker: not pid_alive(w), timeout=30)


def test_twenty_concurrent_runs_return_their_own_results(make_scheduler):
    app = make_scheduler()
    for n in range(20):
        app.task(execution="ray", name=f"q{n}", resources={"num_cpus": 0.25})(lambda n=n: n * n)
    app.start()
    for n in range(20):
        app.tasks[f"q{n}"].run()
    results = {n: final(app, f"q{n}").result for n in range(20)}
    assert results == {n: repr(n * n) for n in range(20)}


def test_resources_reach_ray(make_scheduler):
    app = make_scheduler()
    resources = {"num_cpus": 0.5, "memory": "64 MiB"}

    @app.task(execution="ray", resources=resources)
    def assigned():
        import ray

        return sorted(ray.get_runtime_context().get_assigned_resources().items())

    assert app.tasks["assigned"].resources == {"num_cpus": 0.5, "memory": 64 * 2**20}
    app.start()
    app.tasks["assigned"].run()
    record = final(app, "assigned")
    assert record.status == "success", record.error
    assert "('CPU', 0.5)" in record.result
    assert f"('memory', {float(64 * 2**20)!r})" in record.result


def test_flags_are_released_after_the_runs(make_scheduler, local_ray):
    app = make_scheduler(terminate_grace=GRACE)

    @app.task(execution="ray")
    def quick(flag=TerminationFlag()):
        return flag.is_set()

    @app.task(execution="ray", timeout=0.5)
    def watched(flag=TerminationFlag()):
        flag.wait(30)

    app.start()
    app.tasks["quick"].run()
    app.tasks["watched"].run()
    assert final(app, "quick").result == "False"
    assert final(app, "watched").reason == "timeout"
    board = local_ray.board()
    wait_until(lambda: local_ray.ray.get(board.size.remote()) == 0, timeout=30)


def test_a_crash_of_the_worker_is_recorded_and_the_scheduler_goes_on(make_scheduler):
    app = make_scheduler()

    @app.task(execution="ray")
    def dies():
        os._exit(3)

    @app.task(execution="ray")
    def fine():
        return "still here"

    app.start()
    app.tasks["dies"].run()
    record = final(app, "dies")
    assert record.status == "crash"
    assert record.error
    app.tasks["fine"].run()
    assert final(app, "fine").result == "'still here'"
