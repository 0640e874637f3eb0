"""``multilaunch=True``: runs of a task overlap, each with its own deadline;
``Task.terminate()``, the end condition and a forced shutdown end them all;
the start condition is looked at while runs are alive."""

from __future__ import annotations

import os
import threading
import time

import pytest

from notebook_sched.args import TerminationFlag
from notebook_sched.conds import condition, every
from tests.conftest import pid_alive, wait_until


def alive(app, name: str) -> list:
    return [r for r in app.runs(task=name) if r.status == "run"]


def waiter(flag=TerminationFlag()):
    flag.wait(30)  # until terminated
    return "stopped"


def test_overlapping_runs_and_terminate_ends_each(make_scheduler):
    app = make_scheduler()
    app.task(multilaunch=True, name="work")(waiter)
    task = app.tasks["work"]
    assert task.multilaunch is True and task.on_startup is False
    app.start()
    assert task.run() and task.run() and task.run()  # overlapping: each starts
    wait_until(lambda: len(alive(app, "work")) == 3)
    assert task.status == "running" and task.is_alive()
    assert app.run_counts()["work"] == {"run": 3}
    assert task.terminate() is True
    wait_until(lambda: not task.is_alive())
    records = app.runs(task="work")
    assert [(r.status, r.reason) for r in records] == [("terminate", "manual")] * 3
    assert len({r.run_id for r in records}) == 3
    assert task.terminate() is False  # nothing alive


def test_one_run_at_a_time_without_multilaunch(make_scheduler):
    app = make_scheduler()
    app.task(name="work")(waiter)
    app.start()
    assert app.tasks["work"].run() is True
    assert app.tasks["work"].run() is False
    app.tasks["work"].terminate()
    wait_until(lambda: not app.tasks["work"].is_alive())
    assert len(app.runs(task="work")) == 1


def test_each_run_has_its_own_deadline(make_scheduler):
    app = make_scheduler()
    app.task(multilaunch=True, name="work", timeout=0.6)(waiter)
    task = app.tasks["work"]
    app.start()
    task.run()
    wait_until(lambda: len(alive(app, "work")) == 1)
    time.sleep(0.3)  # the second run starts later: its deadline comes later
    task.run()
    wait_until(lambda: len(alive(app, "work")) == 2)
    wait_until(lambda: app.runs(task="work")[0].status != "run", timeout=5)
    ended = app.runs(task="work")
    assert (ended[0].status, ended[0].reason) == ("terminate", "timeout")
    assert ended[1].status == "run"  # its own deadline has not come yet
    assert task.status == "running"
    wait_until(lambda: not task.is_alive(), timeout=5)
    ended = app.runs(task="work")
    assert [(r.status, r.reason) for r in ended] == [("terminate", "timeout")] * 2
    for record in ended:
        assert 0.55 <= record.runtime < 1.5, record
    # Each ended at its own deadline: as far apart as their starts.
    gap = (ended[1].start - ended[0].start).total_seconds()
    assert gap >= 0.25
    assert abs((ended[1].end - ended[0].end).total_seconds() - gap) < 0.25


def test_the_start_condition_is_looked_at_while_runs_are_alive(make_scheduler):
    app = make_scheduler()
    app.task(every("0.2 seconds"), multilaunch=True, name="work")(waiter)
    app.task(every("0.2 seconds"), name="single")(waiter)
    app.start()
    wait_until(lambda: len(alive(app, "work")) >= 3, timeout=10)
    assert len(alive(app, "single")) == 1  # its condition waits for its run
    app.tasks["work"].disable()
    app.tasks["work"].terminate()
    wait_until(lambda: not app.tasks["work"].is_alive())
    statuses = {(r.status, r.reason) for r in app.runs(task="work")}
    assert statuses == {("terminate", "manual")}


def test_the_end_condition_ends_every_overlapping_run(make_scheduler):
    app = make_scheduler(cycle_sleep=0.02)
    stop = threading.Event()
    app.task(multilaunch=True, name="work", end_cond=condition(stop.is_set))(waiter)
    task = app.tasks["work"]
    app.start()
    task.run()
    task.run()
    wait_until(lambda: len(alive(app, "work")) == 2)
    stop.set()
    wait_until(lambda: not task.is_alive())
    assert [(r.status, r.reason) for r in app.runs(task="work")] == [("terminate", "end_cond")] * 2
    assert task.run() is False  # not started while its own end condition holds


def test_a_forced_shutdown_ends_every_overlapping_run(make_scheduler):
    app = make_scheduler()
    app.task(multilaunch=True, name="work")(waiter)
    app.start()
    for _ in range(3):
        app.tasks["work"].run()
    wait_until(lambda: len(alive(app, "work")) == 3)
    app.shut_down(force=True)
    assert app.join(10)
    assert [(r.status, r.reason) for r in app.runs(task="work")] == [("terminate", "shutdown")] * 3


def test_overlapping_process_runs_are_each_terminated(make_scheduler, tmp_path):
    app = make_scheduler(terminate_grace=0.5)

    @app.task(execution="process", multilaunch=True)
    def child(folder=str(tmp_path)):
        with open(os.path.join(folder, str(os.getpid())), "w"):
            pass
        time.sleep(60)

    app.start()
    app.tasks["child"].run()
    app.tasks["child"].run()
    wait_until(lambda: len(os.listdir(tmp_path)) == 2, timeout=20)
    pids = [int(name) for name in os.listdir(tmp_path)]
    assert all(pid_alive(pid) for pid in pids)
    assert app.tasks["child"].terminate()
    wait_until(lambda: not app.tasks["child"].is_alive(), timeout=10)
    assert not any(pid_alive(pid) for pid in pids)
    records = app.runs(task="child")
    assert [(r.status, r.reason) for r in records] == [("terminate", "manual")] * 2


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_multilaunch_must_be_a_bool(bad):
    from notebook_sched import Scheduler

    with pytest.raises(TypeError, match=r"task 'f': multilaunch must be True or False, got "):
        Scheduler().task(multilaunch=bad, name="f")(waiter)


def test_a_condition_that_stays_true_starts_a_run_per_cycle_not_a_flood(make_scheduler):
    from notebook_sched.conds import true

    app = make_scheduler(cycle_sleep=0.1)
    app.task(true, multilaunch=True, name="work")(waiter)
    app.start()
    time.sleep(1.0)
    app.tasks["work"].disable()
    started = len(app.runs(task="work"))
    assert 3 <= started <= 15, started  # ~10 in a second, one per cycle
    app.tasks["work"].terminate()
    wait_until(lambda: not app.tasks["work"].is_alive())
