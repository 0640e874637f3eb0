"""The README's pictures of the panel, taken in a real JupyterLab:

    .venv/bin/python -m tests.jupyter.screenshots        # writes docs/panel-*.png

A session with tasks of every kind — one that fails now and then, one that
times out, a long run that prints, a pool with a waiting run, a retry, a
paused task — in the light theme at 1400 px (the panel, a failed run's
detail, the timeline), the same in the dark theme, and 60 tasks.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.jupyter.kernel import ROOT, wait_for
from tests.jupyter.lab import browse, by_id, open_notebook, serve, shot

DOCS = ROOT / "docs"

SESSION = """\
import asyncio, random, time
from notebook_sched import Scheduler

app = Scheduler(timeout="10 minutes", pools={"gpu": 1})

@app.task("every 5 seconds")
async def refresh_prices():
    return {"rows": 1200}

@app.task("every 4 seconds", execution="thread", retries=1, retry_delay="30 s")
def fetch_orders():
    print("GET /orders?since=12:00")
    if random.random() < 0.5:
        raise ConnectionError("orders API answered 503 Service Unavailable")
    return 311

@app.task("every 6 seconds", timeout="2 s")
async def slow_report():
    await asyncio.sleep(10)

@app.task(execution="async", timeout="1 hour", pool="gpu")
async def train_model():
    for epoch in range(1000):
        print(f"epoch {epoch}: loss {1 / (epoch + 1):.3f}")
        await asyncio.sleep(1)

@app.task(pool="gpu")
async def evaluate():
    return "ok"

@app.task("daily between 02:00 and 04:00", execution="process")
def nightly_backup():
    pass

@app.task(disabled=True)
def send_digest():
    pass

app.start()
app.tasks["train_model"].run()
app.tasks["evaluate"].run()
"""

MANY = """\
import asyncio, random
from notebook_sched import Scheduler

app = Scheduler(timeout="5 minutes")
for i in range(60):
    kind = i % 6
    if kind in (0, 1):
        async def f():
            return "ok"
        app.task(f"every {2 + i % 5} seconds", name=f"load_{i:02d}")(f)
    elif kind == 2:
        async def f():
            if random.random() < 0.4:
                raise ValueError("bad row 17")
        app.task("every 3 seconds", name=f"clean_{i:02d}")(f)
    elif kind == 3:
        async def f():
            await asyncio.sleep(3600)
        app.task(name=f"stream_{i:02d}")(f)
    elif kind == 4:
        async def f():
            await asyncio.sleep(9)
        app.task("every 4 seconds", name=f"export_{i:02d}", timeout=1)(f)
    else:
        app.task(name=f"report_{i:02d}", disabled=True)(lambda: None)
app.start()
for i in range(3, 60, 6):
    app.tasks[f"stream_{i:02d}"].run()
"""


def light_and_detail(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(tmp / "light", monkeypatch) as lab, browse(1400, 1500) as page:
        panel = open_notebook(page, lab, "session.ipynb", [SESSION, "app"])
        failed = by_id(panel, "ns-recent-run", status="fail").first
        wait_for(lambda: failed.count() == 1, 90, "a failed run", step=0.2)
        time.sleep(8)  # a few more runs for the strips and the timeline
        shot(page, panel, DOCS / "panel-light.png")
        shot(page, by_id(panel, "ns-timeline"), DOCS / "panel-timeline.png")
        failed.click()
        detail = by_id(panel, "ns-run-detail")
        wait_for(lambda: "ConnectionError" in detail.inner_text(), 20, "the detail", step=0.1)
        shot(page, detail, DOCS / "panel-detail.png")


def dark(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(tmp / "dark", monkeypatch, dark=True) as lab, browse(1400, 1500) as page:
        panel = open_notebook(page, lab, "session.ipynb", [SESSION, "app"])
        failed = by_id(panel, "ns-recent-run", status="fail").first
        wait_for(lambda: failed.count() == 1, 90, "a failed run", step=0.2)
        time.sleep(8)
        shot(page, panel, DOCS / "panel-dark.png")


def many(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(tmp / "many", monkeypatch) as lab, browse(1400, 1300) as page:
        panel = open_notebook(page, lab, "many.ipynb", [MANY, "app"])
        wait_for(lambda: by_id(panel, "ns-row").count() == 60, 60, "60 rows", step=0.2)
        time.sleep(10)
        by_id(panel, "ns-sort").select_option("last")
        time.sleep(1)
        shot(page, panel, DOCS / "panel-60-tasks.png")


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    which = set(sys.argv[1:]) or {"light", "dark", "many"}
    monkeypatch = pytest.MonkeyPatch()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, take in (("light", light_and_detail), ("dark", dark), ("many", many)):
                if name in which:
                    (Path(tmp) / name).mkdir()
                    take(Path(tmp), monkeypatch)
                    print(f"{name}: done")
    finally:
        monkeypatch.undo()


if __name__ == "__main__":
    main()
