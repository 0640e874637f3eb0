"""Security: the run history is its owner's alone, condition strings are
parsed and never evaluated, and nothing listens on a network port."""

from __future__ import annotations

import asyncio
import builtins
import os
import socket
import stat
import time
from pathlib import Path

import pytest

from notebook_sched import Scheduler
from notebook_sched._execution.process import zygote
from notebook_sched.conds import every, parse_condition, time_of_day
from tests.conftest import until, wait_until
from tests.faults.faults_support import (
    descendants,
    final,
    kill_and_reap,
    listeners_of,
    read_pid,
)

pytestmark = pytest.mark.faults


# ------------------------------------------------------------- file modes


def _modes(db: Path) -> dict[str, int]:
    return {
        suffix: stat.S_IMODE(os.stat(f"{db}{suffix}").st_mode)
        for suffix in ("", "-wal", "-shm")
        if os.path.exists(f"{db}{suffix}")
    }


def _use(app: Scheduler) -> None:
    @app.task(execution="thread")
    def job():
        return "ok"

    app.start()
    app.tasks["job"].run()
    assert final(app, "job").status == "success"
    app.shut_down()
    assert app.join(5)


def test_runs_db_and_its_wal_and_shm_are_owner_only_even_with_umask_0(tmp_path):
    db = tmp_path / "runs.sqlite"
    old = os.umask(0)
    try:
        first = Scheduler(runs_db=db)
        _use(first)
        assert set(_modes(db)) == {"", "-wal", "-shm"}  # WAL: all three exist now
        assert _modes(db) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        first._core.history.close()  # the last connection: SQLite removes -wal and -shm
        assert set(_modes(db)) == {""}
        second = Scheduler(runs_db=db)  # recreates them
        _use(second)
        assert _modes(db) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        assert [r.task for r in second.runs()] == ["job", "job"]
        second._core.history.close()
    finally:
        os.umask(old)


# ------------------------------------------------------- never evaluated


def _injections(marker: Path) -> list[str]:
    touch = f"__import__('os').system('touch {marker}')"
    return [
        touch,
        f"true & {touch}",
        f'every 1 seconds | eval("{touch}")',
        f"({touch})",
        f"~{touch}",
        f"cron {touch}",
        f"cron * * * * {touch}",
        f"time of day between {touch} and 18:00",
        f"every {touch}",
        f"daily at {touch}",
        f"task 'a' running more than {touch}",
        "{0.__class__.__mro__[1].__subclasses__()}",
        f'exec("{touch}")',
        f"lambda: {touch}",
    ]


@pytest.fixture
def no_eval(monkeypatch):
    """Any call of eval/exec while parsing is recorded (and refused)."""
    calls: list[str] = []

    def refuse(name):
        def call(*args, **kwargs):
            calls.append(f"{name}{args!r}")
            raise AssertionError(f"{name}() was called")

        return call

    monkeypatch.setattr(builtins, "eval", refuse("eval"))
    monkeypatch.setattr(builtins, "exec", refuse("exec"))
    return calls


def test_condition_strings_with_python_raise_and_run_nothing(tmp_path, no_eval):
    marker = tmp_path / "X"
    for text in _injections(marker):
        for where in ("start_cond", "end_cond"):
            with pytest.raises(ValueError, match="is not understood"):
                Scheduler().task(name="t", **{where: text})(lambda: None)
        with pytest.raises(ValueError):
            Scheduler(shut_cond=text)
        with pytest.raises(ValueError):
            parse_condition(text)
    for value in (f"__import__('os').system('touch {marker}')", "1 + 1"):
        with pytest.raises(ValueError):
            time_of_day.between(value, "18:00")
        with pytest.raises(ValueError):
            every(value)
        with pytest.raises(ValueError):
            Scheduler(timeout=value)
        with pytest.raises(ValueError):
            Scheduler().task(timeout=value)(lambda: None)
    assert not marker.exists()
    assert no_eval == []


def test_code_in_a_quoted_task_name_is_only_a_name(make_scheduler, tmp_path, no_eval):
    """A quoted name is data: it parses, the condition is evaluated while the
    scheduler runs, and the code in it never runs."""
    marker = tmp_path / "X"
    code = f'__import__("os").system("touch {marker}")'
    app = make_scheduler(cycle_sleep=0.01)
    ran = []

    @app.task(f"after task '{code}' succeeded | every 0.05 seconds", execution="async")
    async def watcher():
        ran.append(1)

    @app.task(name=code, execution="async")
    async def oddly_named():
        return "name only"

    assert code in str(app.tasks["watcher"].start_cond)
    app.start()
    app.tasks[code].run()
    assert final(app, code).result == "'name only'"
    wait_until(lambda: len(ran) >= 3)
    assert not marker.exists()
    assert no_eval == []


# ------------------------------------------------------------ no listener


def test_the_listener_check_sees_a_listener():
    """The check below is not vacuous: it sees TCP and UDP listeners of ours."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        tcp.bind(("127.0.0.1", 0))
        assert os.getpid() not in listeners_of({os.getpid()})  # bound, not listening
        tcp.listen()
        assert "tcp" in listeners_of({os.getpid()})[os.getpid()]
        tcp.close()
        udp.bind(("::1", 0))
        assert "udp6" in listeners_of({os.getpid()})[os.getpid()]
    finally:
        tcp.close()
        udp.close()
    assert os.getpid() not in listeners_of({os.getpid()})


def test_nothing_listens_while_process_tasks_and_a_panel_run(tmp_path):
    pytest.importorskip("ipywidgets")
    me = os.getpid()
    before = listeners_of({me})  # whatever the test harness itself holds
    pid_file = tmp_path / "child"

    async def scenario():
        app = Scheduler(runs_db=tmp_path / "runs.sqlite")

        @app.task(execution="process")
        def in_child():
            with open(f"{pid_file}.tmp", "w") as f:
                f.write(str(os.getpid()))
            os.replace(f"{pid_file}.tmp", pid_file)
            time.sleep(30)

        @app.task(execution="thread")
        def in_thread():
            time.sleep(0.5)

        @app.task(execution="async")
        async def in_loop():
            await asyncio.sleep(30)

        @app.task("every 0.05 seconds", execution="process")
        def often():
            return "x"

        panel = app.panel()
        app.start()
        child = None
        try:
            for name in ("in_child", "in_thread", "in_loop"):
                assert app.tasks[name].run() is True
            child = await asyncio.to_thread(read_pid, pid_file)
            await until(lambda: len(app.runs("often")) >= 3, 10)
            seen = set()
            for _ in range(5):  # a few looks while runs come and go
                tree = {me} | descendants(me)
                seen |= tree
                held = {p: d for p, d in listeners_of(tree).items() if (p, d) not in before.items()}
                assert held == {}, held
                await asyncio.sleep(0.05)
            assert child in seen  # the process run's child was among those checked
            assert "in_child" in panel.rows  # the panel is up, with its rows
        finally:
            app.shut_down(force=True)
            await app.wait(15)
            panel.close()
            if child is not None:
                await asyncio.to_thread(kill_and_reap, [child])
        # Every child of the run's zygote is gone with the forced shutdown.
        zygote_pid = zygote.zygote_pid()
        if zygote_pid is not None:
            await until(lambda: not descendants(zygote_pid), 10)

    asyncio.run(scenario())
