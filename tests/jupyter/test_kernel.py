"""The scheduler inside a real ipykernel, driven cell by cell with jupyter_client.

Each test sends a few cells to a fresh kernel (the ``kernel`` fixture) and
reads what they print; anything structured comes back as JSON. Waits poll a
condition with a bound; the clock that measures idle time is the test
process's, never the kernel's.
"""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import pytest

from tests.jupyter.kernel import Kernel, pid_alive, stderr, wait_for

pytestmark = pytest.mark.jupyter

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def last_run(kernel: Kernel, task: str) -> list:
    return kernel.json(
        f"[[r.status, r.reason] for r in app.runs(task={task!r})][-1:] or [[None, None]]"
    )[0]


def wait_record(kernel: Kernel, task: str, timeout: float = 15.0) -> list:
    """Poll until the latest run of ``task`` has a final status; return [status, reason]."""
    return wait_for(
        lambda: (r := last_run(kernel, task))[0] not in (None, "run") and r,
        timeout,
        f"a final record for {task!r}",
        step=0.02,
    )


# ------------------------------------------------------------------ loop


def test_start_returns_at_once_and_runs_while_idle(kernel: Kernel):
    out = kernel.run(
        """
import json, time
from notebook_sched import Scheduler

app = Scheduler()
ticks = 0

@app.task("every 0.1 seconds", execution="async")
async def tick():
    global ticks
    ticks += 1

t0 = time.perf_counter()
app.start()
elapsed = time.perf_counter() - t0
print(json.dumps({"state": app.state, "elapsed": elapsed}))
"""
    )
    first = json.loads(out.strip().splitlines()[-1])
    assert first["state"] == "running"
    assert first["elapsed"] < 0.5, first

    before = kernel.json("ticks")
    time.sleep(1.0)  # the kernel is idle meanwhile: no cell runs
    after = kernel.json("ticks")
    print(f"ticks while idle for 1 s: {after - before}")
    assert after - before >= 5, (before, after)
    assert kernel.json("app.state") == "running"
    kernel.run("app.shut_down(force=True)")


def test_round_trip_stays_fast_with_50_busy_tasks(kernel: Kernel):
    kernel.run(
        """
from notebook_sched import Scheduler

app = Scheduler()

def make(i):
    async def body():
        return i
    return body

for i in range(50):
    app.task("every 0.1 seconds", name=f"t{i}", execution="async")(make(i))
app.start()
"""
    )
    # Until each of the 50 has run a few times (about 0.3 s).
    wait_for(
        lambda: kernel.json("min(len(app.runs(task=f't{i}')) for i in range(50))") >= 3,
        15,
        "every task ran 3 times",
        step=0.05,
    )
    figures = []
    for _ in range(5):
        t0 = time.perf_counter()
        outputs, error = kernel.execute("1+1", timeout=10)
        figures.append(time.perf_counter() - t0)
        assert error is None
        assert any(o.get("data", {}).get("text/plain") == "2" for o in outputs), outputs
    runs = kernel.json("len(app.runs())")
    print(f"1+1 round trips with 50 tasks every 0.1 s: {[f'{f * 1000:.1f} ms' for f in figures]}")
    print(f"runs so far: {runs}")
    assert max(figures) < 1.0, figures
    kernel.run("app.shut_down(force=True)")


# -------------------------------------------------------------- processes


def test_process_task_defined_in_a_cell(kernel: Kernel):
    kernel.run(
        """
from notebook_sched import Scheduler

FACTOR = 7
times = lambda x: x * FACTOR  # a lambda that reads a notebook global

app = Scheduler()

@app.task(execution="process")
def compute():
    import os
    return (times(6), os.getpid())

app.task(name="lam", execution="process")(lambda: f"{FACTOR}-{times(2)}")

@app.task(execution="process")
def broken():
    return {"a": 1}["missing key"]

class Point:  # made in the cell: its instances come back by value
    def __init__(self, x):
        self.x = x

@app.task(execution="process")
def point():
    return Point(FACTOR), 2.5

app.start()
assert app.tasks["compute"].run() and app.tasks["lam"].run() and app.tasks["broken"].run()
assert app.tasks["point"].run()
"""
    )
    assert wait_record(kernel, "point") == ["success", None]
    came = "(lambda v: [type(v[0]).__name__, v[0].x, v[1]])(app.tasks['point'].result)"
    assert kernel.json(came) == ["Point", 7, 2.5]
    assert wait_record(kernel, "compute") == ["success", None]
    assert wait_record(kernel, "lam") == ["success", None]
    assert wait_record(kernel, "broken") == ["fail", None]
    # The child's traceback names the cell and shows its line, as the kernel would.
    error = kernel.json("app.tasks['broken'].last_run.error").splitlines()
    assert "ipykernel_" in error[1] and error[1].endswith(", line 17, in broken"), error
    assert error[2] == '    return {"a": 1}["missing key"]', error
    results = kernel.json("[(r.task, r.result) for r in app.runs()] + [__import__('os').getpid()]")
    kernel_pid = results.pop()
    got = dict(results)
    assert got["lam"] == repr("7-14")
    value, child_pid = ast.literal_eval(got["compute"])  # a repr of (42, pid)
    assert value == 42
    assert child_pid != kernel_pid  # it ran in another process
    kernel.run("app.shut_down(force=True)")


def test_process_timeout_while_a_cell_blocks(kernel: Kernel, tmp_path: Path):
    pidfile = tmp_path / "child.pid"
    kernel.run(
        f"""
import os, time
from notebook_sched import Scheduler

app = Scheduler()

@app.task(execution="process", timeout=0.5)
def sleeper():
    import os, time
    with open({str(pidfile)!r}, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)

app.start()
"""
    )
    # The run starts in the same cell that then blocks the kernel's loop for 3 s.
    t0 = time.monotonic()
    cell = kernel.execute_async('app.tasks["sleeper"].run()\ntime.sleep(3)\nprint("unblocked")')
    child = wait_for(lambda: pidfile.exists() and pidfile.read_text(), 10, "the child's pid file")
    child = int(child)
    started = time.monotonic() - t0
    assert pid_alive(child)
    wait_for(lambda: not pid_alive(child), 5, "the child killed at its deadline")
    gone = time.monotonic() - t0
    still_blocked = kernel.is_busy(cell)
    print(f"child pid file after {started:.3f} s, child gone {gone:.3f} s after the cell was sent")
    assert still_blocked, "the child outlived the blocking cell"
    assert gone < 0.5 + 1.0, gone  # deadline + slack (process start included)
    outputs, error = kernel.wait(cell, timeout=15)
    assert error is None and "unblocked" in "".join(o.get("text", "") for o in outputs)
    assert wait_record(kernel, "sleeper") == ["terminate", "timeout"]
    kernel.run("app.shut_down(force=True)")


# -------------------------------------------------------------- interrupt


def test_blocking_run_first_interrupt_graceful_second_forced(kernel: Kernel, tmp_path: Path):
    started = tmp_path / "started"
    statefile = tmp_path / "state"
    kernel.run(
        f"""
from pathlib import Path
from notebook_sched import Scheduler
from notebook_sched.args import TerminationFlag

app = Scheduler()
app.subscribe(lambda event: Path({str(statefile)!r}).write_text(app.state))

@app.task("true", execution="thread")
def waiter(flag=TerminationFlag()):
    Path({str(started)!r}).write_text("yes")
    flag.wait(60)
"""
    )
    cell = kernel.execute_async("app.run()\nprint('run returned')")
    wait_for(started.exists, 15, "the thread run started")
    assert kernel.is_busy(cell)

    kernel.interrupt()
    wait_for(
        lambda: statefile.exists() and statefile.read_text() == "shutting_down",
        5,
        "state shutting_down after the first interrupt",
    )
    # Graceful: the run is still waiting on its flag, so the cell goes on.
    t_first = time.monotonic()
    time.sleep(0.5)  # the property under test is "still busy 0.5 s later"
    assert kernel.is_busy(cell), "the first interrupt ended the blocking cell"

    kernel.interrupt()
    t_second = time.monotonic()
    outputs, error = kernel.wait(cell, timeout=10)
    ended = time.monotonic() - t_second
    print(f"cell ended {ended:.3f} s after the second interrupt ({t_second - t_first:.2f} s apart)")
    err = stderr(outputs)
    assert error is None, error
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "notebook_sched: interrupted" in line]
    assert 1 <= len(lines) <= 2, err  # one line per interrupt
    assert all(line.startswith("notebook_sched: interrupted") for line in lines), err
    assert "run returned" in "".join(o.get("text", "") for o in outputs)
    assert ended < 5.0
    assert kernel.json("app.state") == "stopped"
    assert kernel.json("[[r.status, r.reason] for r in app.runs(task='waiter')]") == [
        ["terminate", "shutdown"]
    ]


# ------------------------------------------------------------------ panel

PANEL_SETUP = """
import json, time
from pathlib import Path
from notebook_sched import Scheduler
from notebook_sched.args import TerminationFlag

app = Scheduler()

@app.task(execution="thread", timeout="1 hour")
def t(flag=TerminationFlag()):
    Path({marker!r}).write_text(str(time.time()))
    flag.wait(3600)

app.start()
panel = app.panel()
print(json.dumps({{
    "start": panel.start_button.model_id,
    "shutdown": panel.shutdown_button.model_id,
    "force": panel.force_button.model_id,
    "run": panel.rows["t"].run_button.model_id,
    "terminate": panel.rows["t"].terminate_button.model_id,
}}))
"""


def test_panel_buttons(kernel: Kernel, tmp_path: Path):
    marker = tmp_path / "started"
    out = kernel.run(PANEL_SETUP.format(marker=str(marker)))
    ids = json.loads(out.strip().splitlines()[-1])

    outputs, error = kernel.execute("display(panel)")
    assert error is None, error
    shown = [o for o in outputs if o["output_type"] == "display_data"]
    assert shown and WIDGET_MIME in shown[0]["data"], outputs
    text = shown[0]["data"].get("text/plain", "")
    print(f"panel text/plain:\n{text}")
    # Readable: says what the scheduler is doing, not a widget's default repr.
    assert "running" in text, text
    assert not text.startswith(("VBox(", "Box(", "HBox(")) and "object at 0x" not in text, text

    def status() -> str:
        return kernel.json("app.tasks['t'].status")

    def state() -> str:
        return kernel.json("app.state")

    def run_and_wait() -> float:
        marker.unlink(missing_ok=True)
        t0 = time.monotonic()
        kernel.click(ids["run"])
        wait_for(marker.exists, 10, "the run started by the Run button")
        latency = time.monotonic() - t0
        assert status() == "running"
        return latency

    # Run, then Terminate: reason "manual".
    latency = run_and_wait()
    print(f"click Run -> run started: {latency * 1000:.1f} ms")
    kernel.click(ids["terminate"])
    assert wait_record(kernel, "t") == ["terminate", "manual"]
    assert status() == "idle"

    # Shut down twice during a long run: the second click forces.
    run_and_wait()
    kernel.click(ids["shutdown"])
    wait_for(lambda: state() == "shutting_down", 10, "shutting_down after one click")
    assert status() == "running"  # graceful: the run goes on
    assert last_run(kernel, "t") == ["run", None]
    kernel.click(ids["shutdown"])
    assert wait_record(kernel, "t") == ["terminate", "shutdown"]
    wait_for(lambda: state() == "stopped", 10, "stopped after the second click")

    # Start on a stopped scheduler.
    kernel.click(ids["start"])
    wait_for(lambda: state() == "running", 10, "running after Start")

    # Force shut down.
    run_and_wait()
    kernel.click(ids["force"])
    assert wait_record(kernel, "t") == ["terminate", "shutdown"]
    wait_for(lambda: state() == "stopped", 10, "stopped after Force shut down")
    assert [r[1] for r in kernel.json("[[r.status, r.reason] for r in app.runs()]")] == [
        "manual",
        "shutdown",
        "shutdown",
    ]

    # Start again: a clean start, the panel still works.
    kernel.click(ids["start"])
    wait_for(lambda: state() == "running", 10, "running after the second Start")
    kernel.run("app.shut_down(force=True)")


def test_panel_traffic_with_100_live_runs(kernel: Kernel):
    kernel.run(
        """
import asyncio
from notebook_sched import Scheduler

app = Scheduler()

def make():
    async def body():
        await asyncio.sleep(3600)
    return body

for i in range(100):
    app.task(name=f"t{i:03d}", execution="async", timeout="1 hour")(make())
app.start()
for task in app.tasks.values():
    task.run()
"""
    )
    outputs, error = kernel.execute("panel = app.panel()\ndisplay(panel)")
    assert error is None, error
    assert any(WIDGET_MIME in o.get("data", {}) for o in outputs), outputs
    wait_for(
        lambda: kernel.json("sum(t.status == 'running' for t in app.tasks.values())") == 100,
        15,
        "100 live runs",
        step=0.05,
    )
    # Steady state: nothing changes now but the clock.
    t0 = time.monotonic()
    time.sleep(3.0)  # the window being measured; the kernel is idle
    t1 = time.monotonic()
    count = kernel.comm_msgs_since(t0, t1)
    rate = count / (t1 - t0)
    print(f"widget comm_msg with 100 live runs, steady state: {count} in 3 s = {rate:.2f}/s")
    assert rate <= 5.0, count
    assert kernel.json("sum(t.status == 'running' for t in app.tasks.values())") == 100
    # Quiet, not dead: a change still reaches the front end (and is counted).
    t2 = time.monotonic()
    kernel.run("app.tasks['t000'].terminate()")
    wait_for(lambda: kernel.comm_msgs_since(t2) > 0, 5, "a widget update after a change")
    kernel.run("app.shut_down(force=True)")


def test_app_as_a_cells_last_expression_shows_the_panel(kernel: Kernel):
    outputs, error = kernel.execute("from notebook_sched import Scheduler\napp = Scheduler()\napp")
    assert error is None, error
    shown = [o for o in outputs if o["output_type"] == "execute_result"]
    assert shown and WIDGET_MIME in shown[0]["data"], outputs
    assert shown[0]["data"]["text/plain"] == "<Scheduler stopped: 0 tasks>"


def test_a_saturated_scheduler_lets_the_kernel_answer(kernel: Kernel):
    """2,000 thread tasks every 0.01 s (200,000 runs a second asked): the
    kernel still answers ``1+1`` promptly — the scheduler keeps to its share
    of the loop. Before it did (and before runs were freed without the
    garbage collector), this test read a median of 63-72 ms and a p90 of
    239-270 ms at load 0.5 (18 and 23 ms since)."""
    kernel.run(
        """
from notebook_sched import Scheduler
from notebook_sched.conds import every

app = Scheduler()

def noop():
    pass

for i in range(2000):
    app.task(every("0.01 seconds"), name=f"t{i}", execution="thread")(noop)
app.start()
""",
        timeout=60,
    )
    wait_for(lambda: kernel.json("len(app.runs())") >= 2000, 30, "2,000 runs", step=0.2)
    figures = []
    for _ in range(60):
        t0 = time.perf_counter()
        _, error = kernel.execute("1+1", timeout=10)
        figures.append(time.perf_counter() - t0)
        assert error is None
        time.sleep(0.01)
    ranked = sorted(figures)
    median, p90 = ranked[len(ranked) // 2], ranked[int(len(ranked) * 0.9)]
    print(
        f"1+1 with 2,000 thread tasks every 0.01 s: median {median * 1000:.1f} ms, "
        f"p90 {p90 * 1000:.1f} ms"
    )
    assert median <= 0.045, f"median {median * 1000:.0f} ms"
    assert p90 <= 0.150, f"p90 {p90 * 1000:.0f} ms"
    kernel.run("app.shut_down(force=True)")
