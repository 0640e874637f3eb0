"""In a real kernel: what tasks write goes to their records, and a cell shows
only its own output, however much the tasks print meanwhile."""

from __future__ import annotations

import time

import pytest

from tests.jupyter.kernel import Kernel, wait_for

pytestmark = pytest.mark.jupyter

SETUP = """
import asyncio, logging, os, sys, warnings
from notebook_sched import Scheduler
from notebook_sched.conds import every

logging.basicConfig(level=logging.INFO)  # a user who configured logging: a handler on stderr
app = Scheduler()

def make(name, execution):
    def body():
        print(f"{name}: out")
        print(f"{name}: err", file=sys.stderr)
        logging.getLogger(name).info("log")
        if execution == "process":
            os.write(1, f"{name}: fd\\n".encode())
    if execution == "async":
        async def run():
            body()
            await asyncio.sleep(0)
            print(f"{name}: after await")
        return run
    return body

KINDS = ["thread"] * 10 + ["async"] * 6 + ["process"] * 4
for i, kind in enumerate(KINDS):
    app.task(every("0.5 seconds" if kind == "process" else "0.1 seconds"),
             name=f"t{i:02d}", execution=kind)(make(f"t{i:02d}", kind))
app.start()
"""


def expected_output(name: str, execution: str) -> str:
    text = f"{name}: out\n{name}: err\nINFO {name}: log\n"
    if execution == "process":
        text += f"{name}: fd\n"
    if execution == "async":
        text += f"{name}: after await\n"
    return text


def test_cells_show_only_their_own_lines_while_20_tasks_print(kernel: Kernel):
    kernel.run(SETUP)
    started = time.monotonic()
    cells = []
    while time.monotonic() - started < 10 or len(cells) < 50:
        k = len(cells)
        code = (
            f"print('cell {k} before')\n"
            "await asyncio.sleep(0.1)\n"  # the tasks run (and print) meanwhile
            f"print('cell {k} after', file=sys.stderr)\n"
            f"logging.getLogger('cell').info('cell {k} log')"
        )
        cells.append(kernel.execute_async(code))
        kernel.wait(cells[-1], timeout=60)
    kinds = kernel.json("KINDS")
    kernel.run("app.shut_down()\nawait app.wait()")

    for k, msg_id in enumerate(cells):
        streams = [m.content for m in kernel.messages(msg_id) if m.type == "stream"]
        text = "".join(s["text"] for s in streams)
        assert sorted(text.splitlines()) == sorted(
            [f"cell {k} before", f"cell {k} after", f"INFO:cell:cell {k} log"]
        ), (k, text)
    # No task's line reached any cell (or the kernel's streams at all).
    every_stream = "".join(m.content["text"] for m in kernel.messages() if m.type == "stream")
    assert ": out" not in every_stream and ": log" not in every_stream, every_stream[:2000]

    records = kernel.json("[(r.task, r.status, r.output) for r in app.runs()]", timeout=60)
    by_task: dict[str, int] = {}
    for task, status, output in records:
        kind = kinds[int(task[1:])]
        assert status == "success", (task, status, output)
        assert output == expected_output(task, kind), (task, output)
        by_task[task] = by_task.get(task, 0) + 1
    assert len(by_task) == 20
    # The tasks really ran all along: thread/async ones many times each.
    assert min(n for t, n in by_task.items() if kinds[int(t[1:])] != "process") >= 20, by_task


def test_warnings_and_live_output_in_a_kernel(kernel: Kernel):
    setup = kernel.execute_async(
        """
import warnings, asyncio
from notebook_sched import Scheduler
from notebook_sched.args import TerminationFlag
app = Scheduler()

@app.task(execution="thread")
def warns(flag=TerminationFlag()):
    warnings.warn("mind the gap", UserWarning, stacklevel=1)
    print("still going")
    flag.wait(30)

app.start()
app.tasks["warns"].run()
"""
    )
    kernel.wait(setup)
    output = wait_for(
        lambda: "still going" in (o := kernel.json("app.runs('warns')[-1].output")) and o,
        timeout=10,
        what="the live run's output",
        step=0.05,
    )
    assert "UserWarning: mind the gap" in output
    assert kernel.json("app.runs('warns')[-1].status") == "run"
    stop = kernel.execute_async("app.tasks['warns'].terminate()\napp.shut_down()\nawait app.wait()")
    kernel.wait(stop)
    assert "still going" in kernel.json("app.runs('warns')[-1].output")
    # Neither under the cell that started it nor under the last cell.
    for cell in (setup, stop):
        streams = "".join(m.content["text"] for m in kernel.messages(cell) if m.type == "stream")
        assert streams == "", streams
