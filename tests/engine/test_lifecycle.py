"""``on_startup`` and ``on_shutdown`` tasks: when they run, in which order,
their timeouts, graceful and forced shutdowns, and their bad input."""

from __future__ import annotations

import threading
import time

import pytest

from notebook_sched import Scheduler
from notebook_sched.args import TerminationFlag
from notebook_sched.conds import every, true
from tests.conftest import wait_until


class Journal:
    """What ran when, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[str] = []

    def add(self, entry: str) -> None:
        with self._lock:
            self.entries.append(entry)

    def task(self, name: str, seconds: float = 0.0):
        def body(flag=TerminationFlag()):
            self.add(f"{name}+")
            stopped = flag.wait(seconds) if seconds else False
            self.add(f"{name}-" if not stopped else f"{name} stopped")

        body.__name__ = name
        return body


def test_startup_tasks_run_first_in_definition_order_one_at_a_time(make_scheduler):
    app = make_scheduler()
    journal = Journal()
    app.task(on_startup=True)(journal.task("first", 0.3))
    app.task(every("10 seconds"))(journal.task("regular"))
    app.task(on_startup=True, execution="main")(journal.task("second"))
    app.task()(journal.task("asked"))

    async def third():
        journal.add("third+")
        journal.add("third-")

    app.task(on_startup=True)(third)
    app.start()
    assert app.state == "running"
    assert app.tasks["asked"].run() is True  # honoured: it starts when startup is over
    wait_until(lambda: {"regular-", "asked-"} <= set(journal.entries))
    head = journal.entries[:6]
    assert head == ["first+", "first-", "second+", "second-", "third+", "third-"]
    assert sorted(journal.entries[6:]) == ["asked+", "asked-", "regular+", "regular-"]
    assert app.runs(task="asked")[0].start >= app.runs(task="third")[0].end


def test_startup_tasks_run_each_time_the_scheduler_starts(make_scheduler):
    app = make_scheduler()
    journal = Journal()
    app.task(on_startup=True)(journal.task("boot"))
    app.task(on_startup=True, disabled=True)(journal.task("off"))
    for started in (1, 2):
        app.start()
        wait_until(
            lambda n=started: (
                (r := app.tasks["boot"].last_run) is not None
                and r.status == "success"
                and len(app.runs(task="boot")) == n
            )
        )
        app.shut_down()
        assert app.join(10)
    assert journal.entries == ["boot+", "boot-", "boot+", "boot-"]  # 'off' is disabled


def test_a_startup_task_that_times_out_is_terminated_and_the_next_goes_on(make_scheduler):
    app = make_scheduler()
    journal = Journal()
    app.task(on_startup=True, timeout=0.3)(journal.task("slow", 30))
    app.task(on_startup=True)(journal.task("next"))
    app.task(true)(journal.task("regular"))
    app.start()
    wait_until(lambda: "regular+" in journal.entries)
    assert journal.entries[:4] == ["slow+", "slow stopped", "next+", "next-"]
    slow = app.tasks["slow"].last_run
    assert (slow.status, slow.reason) == ("terminate", "timeout")
    assert 0.25 <= slow.runtime < 2.0
    app.tasks["regular"].disable()


def test_shutdown_tasks_run_after_the_live_runs_before_stopped(make_scheduler):
    app = make_scheduler()
    journal = Journal()
    release = threading.Event()
    app.task(on_shutdown=True)(journal.task("close"))
    app.task(on_shutdown=True, execution="main")(journal.task("flush"))
    assert app.tasks["close"].on_shutdown and not app.tasks["close"].on_startup

    @app.task()
    def busy():
        journal.add("busy+")
        release.wait(10)
        journal.add("busy-")

    app.start()
    app.tasks["busy"].run()
    wait_until(lambda: "busy+" in journal.entries)
    app.shut_down()
    assert app.state == "shutting_down"
    time.sleep(0.1)
    assert journal.entries == ["busy+"]  # graceful: the live run goes on, nothing else
    release.set()
    assert app.join(10)
    assert journal.entries == ["busy+", "busy-", "close+", "close-", "flush+", "flush-"]
    assert [app.tasks[n].last_run.status for n in ("close", "flush")] == ["success"] * 2


def test_shutdown_tasks_run_after_a_forced_shutdown_too(make_scheduler):
    app = make_scheduler()
    journal = Journal()
    app.task()(journal.task("busy", 30))
    app.task(on_shutdown=True)(journal.task("close"))
    app.start()
    app.tasks["busy"].run()
    wait_until(lambda: "busy+" in journal.entries)
    states = []
    app.task(on_shutdown=True, execution="main", name="state")(lambda: states.append(app.state))
    app.shut_down(force=True)
    assert app.join(10)
    assert journal.entries == ["busy+", "busy stopped", "close+", "close-"]
    assert (app.tasks["busy"].last_run.status, app.tasks["busy"].last_run.reason) == (
        "terminate",
        "shutdown",
    )
    assert app.tasks["close"].last_run.status == "success"  # not terminated: it ran whole
    assert states == ["shutting_down"]  # still shutting down while they run
    assert app.state == "stopped"


def test_a_shutdown_task_that_times_out_is_terminated_then_the_scheduler_stops(make_scheduler):
    app = make_scheduler()
    journal = Journal()
    app.task(on_shutdown=True, timeout=0.3)(journal.task("stuck", 30))
    app.task(on_shutdown=True)(journal.task("after"))
    app.start()
    began = time.monotonic()
    app.shut_down()
    assert app.join(10)
    assert journal.entries == ["stuck+", "stuck stopped", "after+", "after-"]
    stuck = app.tasks["stuck"].last_run
    assert (stuck.status, stuck.reason) == ("terminate", "timeout")
    assert time.monotonic() - began < 5


def test_a_second_shut_down_during_the_shutdown_tasks_ends_them(make_scheduler):
    app = make_scheduler()
    journal = Journal()
    app.task(on_shutdown=True)(journal.task("long", 30))
    app.task(on_shutdown=True)(journal.task("never"))
    app.start()
    app.shut_down()
    wait_until(lambda: "long+" in journal.entries)
    assert app.state == "shutting_down"
    app.shut_down()  # a second call forces
    assert app.join(10)
    assert journal.entries == ["long+", "long stopped"]
    long = app.tasks["long"].last_run
    assert (long.status, long.reason) == ("terminate", "shutdown")
    assert app.tasks["never"].last_run is None


def test_a_shutdown_during_startup_skips_the_rest_and_runs_the_shutdown_tasks(make_scheduler):
    app = make_scheduler()
    journal = Journal()
    app.task(on_startup=True)(journal.task("boot", 0.3))
    app.task(on_startup=True)(journal.task("skipped"))
    app.task(true)(journal.task("regular"))
    app.task(on_shutdown=True)(journal.task("close"))
    app.start()
    wait_until(lambda: "boot+" in journal.entries)
    app.shut_down()
    assert app.join(10)
    assert journal.entries == ["boot+", "boot-", "close+", "close-"]


@pytest.mark.parametrize("key", ["on_startup", "on_shutdown"])
def test_a_start_condition_is_refused_naming_the_task(key):
    app = Scheduler()
    with pytest.raises(ValueError, match=rf"task 'job': an {key} task runs when .* no start"):
        app.task("every 10 seconds", **{key: True}, name="job")(lambda: None)
    with pytest.raises(ValueError, match=r"task 'job2': .* takes no start condition"):
        app.task(every("10 seconds"), **{key: True}, name="job2")(lambda: None)
    with pytest.raises(TypeError, match=rf"task 'job3': {key} must be True or False, got 'yes'"):
        app.task(**{key: "yes"}, name="job3")(lambda: None)
    assert not app.tasks


def test_a_forced_shutdown_during_startup_ends_its_run_and_runs_the_shutdown_tasks(
    make_scheduler,
):
    app = make_scheduler()
    journal = Journal()
    app.task(on_startup=True)(journal.task("boot", 30))
    app.task(on_startup=True)(journal.task("skipped"))
    app.task(on_shutdown=True)(journal.task("close"))
    app.task()(journal.task("asked"))
    app.start()
    assert app.tasks["asked"].run() is True  # waits for startup, which never ends
    wait_until(lambda: "boot+" in journal.entries)
    app.shut_down(force=True)
    assert app.join(10)
    assert journal.entries == ["boot+", "boot stopped", "close+", "close-"]
    boot = app.tasks["boot"].last_run
    assert (boot.status, boot.reason) == ("terminate", "shutdown")
    assert app.tasks["asked"].last_run is None  # dropped with the startup it waited for
