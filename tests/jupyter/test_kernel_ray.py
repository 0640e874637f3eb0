"""execution="ray" inside a real ipykernel: functions, lambdas and closures
defined in cells run on the kernel's local Ray, the loop stays responsive
while Ray starts, and shutting the kernel down leaves no Ray process (the
``kernel`` fixture checks that every descendant of the kernel is gone)."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

from tests.jupyter.kernel import Kernel, pid_alive, wait_for

pytestmark = [
    pytest.mark.jupyter,
    pytest.mark.ray,
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None,
        reason="Ray is not installed: pip install 'notebook_sched[ray]'",
    ),
]


def test_cell_defined_ray_tasks_and_no_ray_process_after_the_kernel(kernel: Kernel, tmp_path: Path):
    marker = tmp_path / "atexit-ran"
    # Registered before Ray starts, so it runs after the local Ray's handler:
    # it only runs if the kernel exits by itself, not by jupyter_client's SIGTERM.
    kernel.run(
        f"import atexit, pathlib; atexit.register(pathlib.Path({str(marker)!r}).write_text, 'ran')"
    )
    out = kernel.run(
        """
import json, time
from notebook_sched import Scheduler
from notebook_sched.args import TerminationFlag

app = Scheduler(terminate_grace=0.5)
offset = 100

def add(x):
    return x + offset

@app.task(execution="ray")
def closure():
    return [add(n) for n in range(3)]

app.task(execution="ray", name="lam")(lambda: "from a lambda")

@app.task(execution="ray", timeout=2)
def polite(flag=TerminationFlag()):
    while not flag.wait(10):
        pass
    return "saw the flag"

app.start()
t0 = time.perf_counter()
app.tasks["closure"].run()
app.tasks["lam"].run()
print(json.dumps({"elapsed": time.perf_counter() - t0}))
"""
    )
    # Ray starts on a thread of its own: the cell returned at once.
    assert json.loads(out.strip().splitlines()[-1])["elapsed"] < 0.5
    assert kernel.json("1 + 1") == 2  # and the kernel answers meanwhile

    def records(count):
        found = kernel.json(
            "{n: [t.last_run.status, t.last_run.reason, t.last_run.result] "
            "for n, t in app.tasks.items() if t.last_run and t.last_run.status != 'run'}"
        )
        return len(found) == count and found

    wait_for(lambda: records(2), 120, "two final records", step=0.1)
    # Ray is up now: the 2 s timeout is the run's own, not Ray's start.
    kernel.run("app.tasks['polite'].run()")
    final = wait_for(lambda: records(3), 60, "three final records", step=0.1)
    assert final == {
        "closure": ["success", None, "[100, 101, 102]"],
        "lam": ["success", None, "'from a lambda'"],
        "polite": ["terminate", "timeout", "'saw the flag'"],
    }
    guardian = kernel.json(
        "__import__('notebook_sched._execution.ray.cluster', fromlist=['_']).guardian_pid()"
    )
    assert guardian is not None and pid_alive(guardian)
    kernel.run("app.shut_down()")
    process = kernel.km.provisioner.process
    started = time.monotonic()
    kernel.shutdown()
    took = time.monotonic() - started
    assert process.poll() == 0, f"the kernel ended with {process.poll()} after {took:.1f} s"
    assert marker.exists()
