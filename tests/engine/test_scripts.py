"""notebook_sched in plain Python scripts, run as real subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import pid_alive, wait_until

ROOT = Path(__file__).resolve().parents[2]


def run_script(tmp_path: Path, source: str, timeout: float = 60) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_documented_example_runs_unchanged(tmp_path):
    """SPEC section 1, verbatim but for the ``...`` bodies, which it leaves open."""
    result = run_script(
        tmp_path,
        """
        import asyncio
        from notebook_sched import Scheduler
        from notebook_sched.args import TerminationFlag
        from notebook_sched.exc import TaskTerminationException
        from notebook_sched.conds import every, time_of_day

        app = Scheduler(config={"timeout": 0.1})          # session-level timeout

        @app.task(every("10 seconds"), timeout="1 hour", execution="process")
        def do_things():                                    # task-level timeout wins
            ...

        @app.task(execution="thread")
        def do_thread(flag=TerminationFlag()):
            while True:
                ...
                if flag.is_set():
                    raise TaskTerminationException()

        @app.task(execution="async")
        async def do_async():
            ...
            await asyncio.sleep(0)

        @app.task(end_cond=time_of_day.between("08:00", "18:00"))
        def do_day_things():
            ...

        app.start()        # in a notebook: returns at once, runs on the kernel's loop
        app                # as the last expression of a cell: shows the panel
        app.shut_down()    # graceful; a second call, or force=True, forces

        assert app.join(30), app.state
        print(sorted(app.tasks), app.state, [r.status for r in app.runs()])
    """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "['do_async', 'do_day_things', 'do_things', 'do_thread'] stopped"
    )
    assert "'run'" not in result.stdout  # any run that started has its final record


def test_process_tasks_defined_in_main_lambda_and_closure(tmp_path):
    result = run_script(
        tmp_path,
        """
        import time
        from notebook_sched import Scheduler

        app = Scheduler()
        factor = 21                                  # a global of __main__

        def make(n):
            def closure():
                return n * factor
            return closure

        app.task(execution="process", name="lam")(lambda: "from a lambda")
        app.task(execution="process", name="clo")(make(2))
        app.task(execution="process", name="slow", timeout=0.5)(lambda: time.sleep(30))

        app.start()
        for name in ("lam", "clo", "slow"):
            app.tasks[name].run()
        while any(app.tasks[n].is_alive() for n in ("lam", "clo", "slow")):
            time.sleep(0.01)
        app.shut_down()
        app.join(10)
        for r in app.runs():
            print(r.task, r.status, r.reason, r.result)
    """,
    )
    assert result.returncode == 0, result.stderr
    lines = set(result.stdout.splitlines())
    assert "lam success None 'from a lambda'" in lines
    assert "clo success None 42" in lines
    assert "slow terminate timeout None" in lines


def test_child_dies_with_its_parent_on_sigkill(tmp_path):
    pid_file = tmp_path / "child.pid"
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, time
        from notebook_sched import Scheduler

        app = Scheduler()

        @app.task(execution="process")
        def forever():
            open({str(pid_file)!r}, "w").write(str(os.getpid()))
            time.sleep(600)

        app.start()
        app.tasks["forever"].run()
        time.sleep(600)
    """)
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)], env=dict(os.environ, PYTHONPATH=str(ROOT))
    )
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), timeout=30)
        child = int(pid_file.read_text())
        assert pid_alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        killed_at = time.monotonic()
        wait_until(lambda: not pid_alive(child), timeout=2)
        assert time.monotonic() - killed_at < 2
    finally:
        parent.kill()
        parent.wait(10)
        if pid_file.exists() and pid_file.read_text():
            pid = int(pid_file.read_text())
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_process_task_defined_in_main_takes_its_termination_flag(tmp_path):
    result = run_script(
        tmp_path,
        """
        import time
        from notebook_sched import Scheduler
        from notebook_sched.args import TerminationFlag
        from notebook_sched.exc import TaskTerminationException

        app = Scheduler(terminate_grace=30)  # only the flag can stop it in time

        @app.task(execution="process", timeout=3)  # time for a loaded machine to start the child
        def work(flag=TerminationFlag()):
            try:
                while True:
                    time.sleep(60)
            except TaskTerminationException:
                pass  # SIGTERM raised it; the flag must be set by now
            return "flag set" if flag.is_set() else "flag NOT set"

        app.start()
        app.tasks["work"].run()
        while app.tasks["work"].is_alive():
            time.sleep(0.01)
        r = app.tasks["work"].last_run
        print(r.status, r.reason, r.result)
        app.shut_down()
        app.join(10)
    """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "terminate timeout 'flag set'"
