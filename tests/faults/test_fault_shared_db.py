"""Two schedulers in two processes write one ``runs_db`` at once for
``NOTEBOOK_SCHED_SHARED_SECONDS`` seconds (a minute by default, as the
issue asks): no error, no lost record — every run each process made is in
the file, final — and ``PRAGMA integrity_check`` is ``ok``."""

from __future__ import annotations

import itertools
import json
import os
import select
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import pid_alive, wait_until
from tests.faults.faults_support import kill_and_reap

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("NOTEBOOK_SCHED_SHARED_SECONDS", "60"))

WRITER = textwrap.dedent(
    """
    import asyncio, json, logging, os, sys, threading, time
    from notebook_sched import Scheduler
    from notebook_sched._execution.process import zygote

    db, tag, seconds, folder = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    problems = []

    class Keep(logging.Handler):
        def emit(self, record):
            problems.append(self.format(record))

    logging.getLogger().addHandler(Keep(logging.WARNING))
    threading.excepthook = lambda args: problems.append(repr(args.exc_value))

    app = Scheduler(runs_db=db)
    counts = {}

    def bump(name):
        counts[name] = counts.get(name, 0) + 1  # one run per task at a time

    for i in range(6):
        async def in_loop(name=f"{tag}-async{i}"):
            bump(name)
            await asyncio.sleep(0)
            return name
        app.task("every 0.02 seconds", name=f"{tag}-async{i}", execution="async")(in_loop)
    for i in range(4):
        def in_thread(name=f"{tag}-thread{i}"):
            bump(name)
            return name
        app.task("every 0.02 seconds", name=f"{tag}-thread{i}", execution="thread")(in_thread)
    for i in range(2):
        name = f"{tag}-process{i}"
        def in_child(path=os.path.join(folder, name)):
            with open(path, "a") as f:
                f.write("ran\\n")
            return "ok"
        app.task("every 0.05 seconds", name=name, execution="process")(in_child)

    print("ready", flush=True)
    sys.stdin.readline()
    app.start()
    time.sleep(seconds)
    app.shut_down()
    stopped = app.join(30)
    for i in range(2):
        name = f"{tag}-process{i}"
        try:
            with open(os.path.join(folder, name)) as f:
                counts[name] = len(f.read().splitlines())
        except FileNotFoundError:
            counts[name] = 0
    # The file also holds the other scheduler's runs, some of them alive.
    left = [(r.task, r.run_id) for r in app.runs(status="run") if r.task.startswith(tag + "-")]
    print(json.dumps({
        "counts": counts, "stopped": stopped, "problems": problems,
        "left_at_run": left, "zygote": zygote.zygote_pid(),
    }), flush=True)
    """
)


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    """One line of the writer's output, waiting at most ``timeout`` seconds."""
    assert proc.stdout is not None
    if not select.select([proc.stdout], [], [], timeout)[0]:
        raise AssertionError(f"no output from pid {proc.pid} within {timeout} s")
    return proc.stdout.readline().strip()


@pytest.mark.timeout(SECONDS + 120)
def test_two_processes_share_one_runs_db(tmp_path):
    db = tmp_path / "runs.sqlite"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    procs = {
        tag: subprocess.Popen(
            [sys.executable, str(script), str(db), tag, str(SECONDS), str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for tag in ("left", "right")
    }
    reports = {}
    try:
        for proc in procs.values():
            assert _readline(proc, 60) == "ready"
        for proc in procs.values():  # both wait on stdin until now
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for tag, proc in procs.items():
            out, err = proc.communicate(timeout=SECONDS + 60)
            assert proc.returncode == 0, err
            assert err.strip() == "", err[-3000:]
            reports[tag] = json.loads(out.strip().splitlines()[-1])
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    zygotes = [r["zygote"] for r in reports.values() if r["zygote"]]
    wait_until(lambda: not any(pid_alive(p) for p in zygotes), 10)
    kill_and_reap(zygotes)

    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = raw.execute("SELECT run_id, task, status FROM runs ORDER BY run_id").fetchall()
    in_file = Counter(task for _, task, _ in rows)
    produced: dict[str, int] = {}
    for tag, report in reports.items():
        assert report["stopped"], tag
        assert report["problems"] == [], report["problems"]
        assert report["left_at_run"] == [], report["left_at_run"]
        produced.update(report["counts"])
        total = sum(report["counts"].values())
        print(f"{tag}: {total} runs in {SECONDS:g} s: {report['counts']}")
        assert total > 10 * SECONDS, report["counts"]  # both really wrote, all along
    assert {t: n for t, n in in_file.items()} == produced  # not one record lost
    assert {status for _, _, status in rows} == {"success"}
    assert len({run_id for run_id, _, _ in rows}) == len(rows)
    # The two wrote at the same time: their runs interleave in the file.
    owners = [task.split("-")[0] for _, task, _ in rows]
    switches = sum(1 for a, b in itertools.pairwise(owners) if a != b)
    assert switches > 20, switches
