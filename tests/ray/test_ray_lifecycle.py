"""The local Ray's life: it starts on first use in a script (functions defined
in ``__main__``), lives across scheduler restarts, and no Ray process outlives
the Python process — whether it exits, or is killed with SIGKILL. And joining
an existing cluster through ``ray_address``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from tests.conftest import pid_alive, wait_until
from tests.ray.conftest import START_TIMEOUT, ray_processes

# local_ray: skips, with the reason, where Ray is missing or cannot start.
pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.usefixtures("local_ray")]

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import os, sys, time
from notebook_sched import Scheduler
from notebook_sched._execution.ray import cluster as ray_cluster

app = Scheduler(terminate_grace=0.5)

@app.task(execution="ray")
def where():
    return os.getpid()

for attempt in range(2):  # a restarted scheduler uses the same local Ray
    app.start()
    app.tasks["where"].run()
    while app.tasks["where"].is_alive() or app.tasks["where"].last_run is None:
        time.sleep(0.01)
    print(attempt, app.tasks["where"].last_run.status, ray_cluster.guardian_pid(), flush=True)
    app.shut_down()
    app.join(30)
{tail}
"""


def start_script(tmp_path: Path, tail: str, text: str = SCRIPT) -> subprocess.Popen[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(text).replace("{tail}", tail))
    return subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_guardian(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    lines = [process.stdout.readline(), process.stdout.readline()]
    statuses = [line.split()[:2] for line in lines]
    assert statuses == [["0", "success"], ["1", "success"]], (lines, process.stderr)
    guardians = {line.split()[2] for line in lines}
    assert len(guardians) == 1  # one local Ray for both runs of the scheduler
    return int(guardians.pop())


def test_no_ray_process_outlives_a_script_that_exits(tmp_path):
    process = start_script(tmp_path, "print('exiting', flush=True)")
    try:
        guardian = read_guardian(process)
        ray_pids = ray_processes(guardian)
        assert len(ray_pids) > 2  # the guardian, Ray's head, its raylet...
        assert process.wait(timeout=START_TIMEOUT) == 0
        wait_until(lambda: not any(pid_alive(pid) for pid in ray_pids), timeout=30)
    finally:
        process.kill()
        process.wait()


def test_no_ray_process_outlives_a_killed_process(tmp_path):
    process = start_script(tmp_path, "print('waiting', flush=True); time.sleep(600)")
    try:
        guardian = read_guardian(process)
        assert process.stdout.readline().strip() == "waiting"
        ray_pids = ray_processes(guardian)
        os.kill(process.pid, signal.SIGKILL)  # no atexit, no cleanup of its own
        process.wait()
        wait_until(lambda: not any(pid_alive(pid) for pid in ray_pids), timeout=30)
    finally:
        process.kill()
        process.wait()


def test_ray_address_joins_an_existing_cluster(tmp_path):
    """A cluster started outside the scheduler (here by the guardian, as
    ``ray start --head`` would): ``ray_address`` joins it, and one process
    cannot join a second cluster."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAY_AUTH_MODE="disabled")
    temp_dir = tempfile.mkdtemp(prefix="nbs-")  # short: Ray's socket paths live there
    head = subprocess.Popen(
        [sys.executable, "-m", "notebook_sched._execution.ray._head", temp_dir],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        kind, _, address = head.stdout.readline().strip().partition(" ")
        assert kind == "ready", address
        script = tmp_path / "join.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import time
                from notebook_sched import Scheduler

                app = Scheduler(ray_address={address!r})
                other = Scheduler(ray_address="10.9.9.9:6379")
                for scheduler in (app, other):
                    scheduler.task(execution="ray", name="hello")(lambda: "joined")
                    scheduler.start()
                    scheduler.tasks["hello"].run()
                    while scheduler.tasks["hello"].is_alive():
                        time.sleep(0.01)
                    record = scheduler.tasks["hello"].last_run
                    print(record.status, record.result, record.error, flush=True)
                    scheduler.shut_down()
                """
            )
        )
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
        lines = done.stdout.splitlines()
        assert lines[0] == "success 'joined' None", done.stderr
        assert lines[1].startswith("crash None could not connect to Ray: this process is")
        assert "ray_address='10.9.9.9:6379' cannot be used too" in lines[1]
        ray_pids = ray_processes(head.pid)
    finally:
        head.stdin.close()  # the guardian stops its cluster
        head.wait(timeout=60)
    wait_until(lambda: not any(pid_alive(pid) for pid in ray_pids), timeout=30)
    assert not os.path.exists(temp_dir)  # the guardian removed Ray's files


BOOTING = """
import time
from notebook_sched import Scheduler
from notebook_sched._execution.ray import cluster as ray_cluster

app = Scheduler(terminate_grace=0.5)

@app.task(execution="ray", timeout=1.0)
def slow():
    time.sleep(60)

app.start()
app.tasks["slow"].run()  # the first ray run in this process: its local Ray starts now
while app.tasks["slow"].last_run is None or app.tasks["slow"].last_run.status == "run":
    time.sleep(0.01)
record = app.tasks["slow"].last_run
booting = not ray_cluster._future.done()
print(record.status, record.reason, record.runtime, booting, ray_cluster.guardian_pid(), flush=True)
app.shut_down()
app.join(10)
"""


def test_a_timeout_is_kept_while_the_local_ray_starts(tmp_path):
    """The deadline counts from the run's launch: a run whose timeout comes
    while its process's local Ray is still starting (seconds) ends at its
    deadline, not once Ray is up; and the exiting process leaves no Ray behind."""
    process = start_script(tmp_path, "", BOOTING)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        status, reason, runtime, booting, guardian = line.split()
        assert booting == "True", line  # Ray was still starting when the run ended
        assert (status, reason) == ("terminate", "timeout"), line
        assert 1.0 <= float(runtime) < 3.0, line
        ray_pids = ray_processes(int(guardian))
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
        wait_until(lambda: not any(pid_alive(pid) for pid in ray_pids), timeout=30)
    finally:
        process.kill()
        process.wait()
