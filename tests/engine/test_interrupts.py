"""Ctrl-C during app.run() in a script: the first shuts down gracefully, the second forces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]


def start_script(tmp_path: Path, body: str) -> subprocess.Popen:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.Popen(
        [sys.executable, str(script)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


SCRIPT = """
    import time
    from pathlib import Path
    from notebook_sched import Scheduler
    from notebook_sched.args import TerminationFlag

    app = Scheduler(terminate_grace=5)
    app.subscribe(lambda event: Path(app.state).write_text("yes"))

    @app.task("true", execution="thread")
    def work(flag=TerminationFlag()):
        Path("started").write_text("yes")
        flag.wait({seconds})

    app.run()
    for r in app.runs():
        print("RECORD", r.task, r.status, r.reason)
"""


def test_first_interrupt_is_graceful(tmp_path):
    proc = start_script(tmp_path, SCRIPT.format(seconds=1.0))
    try:
        wait_until((tmp_path / "started").exists, timeout=30)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "shutting down" in err and "Traceback" not in err
    assert "RECORD work success None" in out


def test_second_interrupt_forces(tmp_path):
    proc = start_script(tmp_path, SCRIPT.format(seconds=60))
    try:
        wait_until((tmp_path / "started").exists, timeout=30)
        proc.send_signal(signal.SIGINT)
        wait_until((tmp_path / "shutting_down").exists, timeout=10)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "forcing shutdown" in err
    assert "RECORD work terminate shutdown" in out
